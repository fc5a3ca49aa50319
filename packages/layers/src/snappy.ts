/**
 * Snappy decompression (the raw block format LevelDB tables use for compressed blocks): a varint
 * with the uncompressed length, then literals and back-references. Decompression only.
 */
import { LayerConfigError } from "./errors.js";

/**
 * Decompresses one raw Snappy block.
 *
 * @param input The compressed bytes.
 * @param what Names the input in error messages (e.g. `"model.ckpt.index: block at 0"`).
 * @throws LayerConfigError when the block is malformed (a copy before the start, a length past the end).
 */
export function snappyDecompress(input: Uint8Array, what = "snappy block"): Uint8Array {
  const bad = (why: string): LayerConfigError => new LayerConfigError(`${what}: corrupt Snappy data: ${why}`);
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw bad("bad length header");
    const b = input[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < input.length) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > input.length) throw bad("literal length past the end");
        len = 0;
        for (let i = 0; i < extra; i++) len += input[pos + i]! * 2 ** (8 * i);
        pos += extra;
      }
      len += 1;
      if (pos + len > input.length || o + len > length) throw bad("literal past the end");
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > input.length) throw bad("copy past the end");
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else {
      const n = kind === 2 ? 2 : 4;
      if (pos + n > input.length) throw bad("copy past the end");
      len = (tag >>> 2) + 1;
      offset = 0;
      for (let i = 0; i < n; i++) offset += input[pos + i]! * 2 ** (8 * i);
      pos += n;
    }
    if (offset === 0 || offset > o) throw bad(`copy offset ${offset} at output ${o}`);
    if (o + len > length) throw bad("copy past the declared length");
    // Overlapping copies repeat a pattern: copy byte by byte.
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) throw bad(`${o} bytes decoded, the header says ${length}`);
  return out;
}
