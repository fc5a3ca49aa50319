/**
 * A reader of LevelDB's table format (an SSTable), which TensorFlow uses for a checkpoint's
 * `.index` file: data blocks of prefix-compressed keys with restart points, an index block
 * pointing at them, a metaindex block, and a 48-byte footer ending in a magic number. Blocks may
 * be Snappy-compressed; every block carries a masked CRC-32C, checked here.
 */
import { crc32c, unmaskCrc } from "./crc32c.js";
import { LayerConfigError } from "./errors.js";
import { snappyDecompress } from "./snappy.js";

/** The footer's magic number, `0xdb4775248b80fb57`, as its little-endian bytes. */
const TABLE_MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb];
const FOOTER_BYTES = 48;
/** A block is followed by a type byte (0 raw, 1 Snappy) and a masked CRC-32C of block + type. */
const TRAILER_BYTES = 5;

/** A little cursor over bytes that reads LevelDB/protobuf varints. */
export class ByteCursor {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
    readonly what = "data",
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** An unsigned varint of up to 64 bits, as a number (exact up to 2^53). */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.pos >= this.end) throw new LayerConfigError(`${this.what}: truncated varint at byte ${this.pos}`);
      const b = this.bytes[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw new LayerConfigError(`${this.what}: varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** `n` bytes, as a view (no copy). */
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new LayerConfigError(`${this.what}: ${n} bytes at byte ${this.pos} run past the end (${this.end})`);
    const view = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  fixed32(): number {
    const b = this.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
}

interface BlockHandle {
  offset: number;
  size: number;
}

function readHandle(cursor: ByteCursor): BlockHandle {
  return { offset: cursor.varint(), size: cursor.varint() };
}

/** One key/value entry of a table. Values are views into the (decompressed) block. */
export interface TableEntry {
  key: string;
  value: Uint8Array;
}

const utf8 = new TextDecoder("utf-8");

function readBlock(file: Uint8Array, handle: BlockHandle, what: string): Uint8Array {
  const end = handle.offset + handle.size;
  if (end + TRAILER_BYTES > file.length) {
    throw new LayerConfigError(`${what}: block at ${handle.offset} (${handle.size} bytes) runs past the end of the file (${file.length} bytes): truncated?`);
  }
  const contents = file.subarray(handle.offset, end);
  const type = file[end]!;
  const stored = unmaskCrc(new ByteCursor(file, end + 1).fixed32());
  const actual = crc32c(file.subarray(handle.offset, end + 1));
  if (stored !== actual) throw new LayerConfigError(`${what}: checksum mismatch in the block at byte ${handle.offset} (corrupt file)`);
  if (type === 0) return contents;
  if (type === 1) return snappyDecompress(contents, `${what}: block at ${handle.offset}`);
  throw new LayerConfigError(`${what}: unknown block compression type ${type} at byte ${handle.offset}`);
}

function blockEntries(block: Uint8Array, what: string): TableEntry[] {
  if (block.length < 4) throw new LayerConfigError(`${what}: block of ${block.length} bytes is too small`);
  const numRestarts = new ByteCursor(block, block.length - 4).fixed32();
  const restartsAt = block.length - 4 * (numRestarts + 1);
  if (restartsAt < 0) throw new LayerConfigError(`${what}: block claims ${numRestarts} restart points in ${block.length} bytes`);
  const cursor = new ByteCursor(block, 0, restartsAt, what);
  const entries: TableEntry[] = [];
  let key = new Uint8Array(0);
  while (!cursor.done) {
    const shared = cursor.varint();
    const nonShared = cursor.varint();
    const valueLength = cursor.varint();
    if (shared > key.length) throw new LayerConfigError(`${what}: a key shares ${shared} bytes of a ${key.length}-byte key`);
    const next = new Uint8Array(shared + nonShared);
    next.set(key.subarray(0, shared));
    next.set(cursor.take(nonShared), shared);
    key = next;
    entries.push({ key: utf8.decode(key), value: cursor.take(valueLength) });
  }
  return entries;
}

/**
 * Reads every entry of a LevelDB table, in key order, checking the footer's magic number and
 * each block's CRC.
 *
 * @param file The whole table file.
 * @param what Names the file in error messages.
 * @throws LayerConfigError naming the file: bad magic, truncated file, checksum mismatch, corrupt block.
 */
export function readTable(file: Uint8Array, what = "table"): TableEntry[] {
  if (file.length < FOOTER_BYTES) throw new LayerConfigError(`${what}: ${file.length} bytes is too short for a table (footer is ${FOOTER_BYTES} bytes)`);
  const footerAt = file.length - FOOTER_BYTES;
  const magic = file.subarray(file.length - 8);
  if (!TABLE_MAGIC.every((b, i) => magic[i] === b)) {
    throw new LayerConfigError(`${what}: bad footer magic ${Array.from(magic, (b) => b.toString(16).padStart(2, "0")).join("")}: not a TensorFlow index (LevelDB table) file, or truncated`);
  }
  const footer = new ByteCursor(file, footerAt, file.length - 8, what);
  readHandle(footer); // metaindex: filters and stats, which a full scan does not need
  const indexHandle = readHandle(footer);
  const entries: TableEntry[] = [];
  for (const { key, value } of blockEntries(readBlock(file, indexHandle, what), `${what}: index block`)) {
    const handle = readHandle(new ByteCursor(value, 0, value.length, what));
    entries.push(...blockEntries(readBlock(file, handle, what), `${what}: data block ending at key ${JSON.stringify(key)}`));
  }
  return entries;
}
