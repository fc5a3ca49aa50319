/**
 * llm.c's token shard format (browser-safe part: bytes in, bytes out; files are in `node-shards.ts`).
 *
 * A shard is a 1,024-byte header of 256 little-endian int32 values, `[0]` the magic, `[1]` the
 * version, `[2]` the token count, the rest zero; then the tokens, little-endian. As llm.c's
 * `data_common.py` writes them: magic 20240520 version 1 for uint16 tokens (GPT-2; what llm.c's C
 * loader reads), magic 20240801 version 7 for uint32 tokens (Llama 3; vocabularies over 65,536
 * ids). Files that tfgpt wrote before with magic 20240520 "version 2" (uint32 tokens, a layout no
 * llm.c tool knows) are still read, with a deprecation note. Files are named
 * `<prefix>_<split>_NNNNNN.bin` with one shard index across splits (llm.c's fineweb: shard 0 is
 * `val`). nanoGPT's `train.bin` / `val.bin` are the same uint16 tokens without a header.
 */
import { DatasetError } from "./errors.js";

/** The first int32 of an llm.c shard of uint16 tokens (llm.c's "gpt-2" header). */
export const SHARD_MAGIC = 20240520;
/** The first int32 of an llm.c shard of uint32 tokens (llm.c's "llama-3" header, version 7). */
export const SHARD_MAGIC_UINT32 = 20240801;
/** Header size in int32 values. */
export const SHARD_HEADER_INTS = 256;
/** Header size in bytes (the tokens start here). */
export const SHARD_HEADER_BYTES = SHARD_HEADER_INTS * 4;
/**
 * Shard versions written: 1 stores uint16 tokens (magic 20240520), 7 uint32 tokens (magic 20240801).
 * Version 2 (magic 20240520, uint32 tokens) is tfgpt's deprecated layout, read but never written.
 */
export type ShardVersion = 1 | 7;
/** Versions a shard header may carry: those written, plus the deprecated 2. */
export type ShardHeaderVersion = ShardVersion | 2;
/** Which layout a token file has: llm.c's (header + tokens) or nanoGPT's (uint16 tokens only). */
export type ShardFormat = "llmc" | "nanogpt";

/** A validated shard header. */
export interface ShardHeader {
  /** 1 (uint16 tokens), 7 (uint32 tokens) or the deprecated 2 (uint32 tokens); nanoGPT files count as 1. */
  readonly version: ShardHeaderVersion;
  /** Tokens in the shard. */
  readonly numTokens: number;
  /** Bytes per token: 2 or 4. */
  readonly bytesPerToken: 2 | 4;
  /** Where the tokens start in the file: 1,024, or 0 for nanoGPT files. */
  readonly dataOffset: number;
  /** Set for a deprecated layout (magic 20240520 version 2): what to do about it. */
  readonly deprecation?: string;
}

/** True on little-endian platforms (all current browsers and Node targets): typed arrays can view shard bytes. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The shard version a vocabulary needs: 1 (uint16) when every id fits in 16 bits, else 7 (uint32).
 *
 * @param vocabSize Ids are in `[0, vocabSize)`.
 * @example shardVersionFor(50257) // 1; shardVersionFor(100277) // 7
 */
export function shardVersionFor(vocabSize: number): ShardVersion {
  if (!(Number.isSafeInteger(vocabSize) && vocabSize >= 1)) {
    throw new DatasetError(`\`vocabSize\` must be a positive integer, received ${String(vocabSize)}`, "vocabSize");
  }
  return vocabSize <= 65536 ? 1 : 7;
}

/**
 * The 1,024-byte llm.c header for `numTokens` tokens.
 *
 * @param numTokens Token count (below 2^31: the header stores it as an int32).
 * @param version 1 (uint16 tokens, magic 20240520) or 7 (uint32 tokens, magic 20240801).
 * @example encodeShardHeader(105200, 1).byteLength // 1024
 */
export function encodeShardHeader(numTokens: number, version: ShardVersion): Uint8Array {
  if (version !== 1 && version !== 7) {
    throw new DatasetError(`\`version\` must be 1 (uint16 tokens) or 7 (uint32 tokens), received ${String(version)}`, "version");
  }
  if (!(Number.isSafeInteger(numTokens) && numTokens >= 0 && numTokens < 2 ** 31)) {
    throw new DatasetError(`\`numTokens\` must be an integer in [0, 2^31), received ${String(numTokens)}`, "numTokens");
  }
  const bytes = new Uint8Array(SHARD_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, version === 1 ? SHARD_MAGIC : SHARD_MAGIC_UINT32, true);
  view.setInt32(4, version, true);
  view.setInt32(8, numTokens, true);
  return bytes;
}

/**
 * Validates a shard's header against the file's size: the magic, a known version, and a size of
 * exactly `1024 + count * bytesPerToken`.
 *
 * @param head At least the file's first 1,024 bytes (fewer only when the file is that short).
 * @param fileSize The file's size in bytes.
 * @param name The file's name or path, for messages.
 * @throws DatasetError naming the file and what is wrong: too short for a header, wrong magic,
 *   unknown version, negative count, truncated (smaller than the header says) or longer than it says.
 */
export function parseShardHeader(head: Uint8Array, fileSize: number, name: string): ShardHeader {
  if (fileSize < SHARD_HEADER_BYTES || head.byteLength < SHARD_HEADER_BYTES) {
    throw new DatasetError(
      `${name}: truncated shard: ${fileSize} bytes, shorter than the ${SHARD_HEADER_BYTES}-byte llm.c header`,
      "shard",
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, SHARD_HEADER_BYTES);
  const magic = view.getInt32(0, true);
  if (magic !== SHARD_MAGIC && magic !== SHARD_MAGIC_UINT32) {
    throw new DatasetError(`${name}: not an llm.c shard: magic number ${magic}, expected ${SHARD_MAGIC} or ${SHARD_MAGIC_UINT32}`, "shard");
  }
  const version = view.getInt32(4, true);
  if (magic === SHARD_MAGIC && version !== 1 && version !== 2) {
    throw new DatasetError(`${name}: unknown shard version ${version} for magic ${magic}, expected 1 (uint16 tokens)`, "shard");
  }
  if (magic === SHARD_MAGIC_UINT32 && version !== 7) {
    throw new DatasetError(`${name}: unknown shard version ${version} for magic ${magic}, expected 7 (uint32 tokens)`, "shard");
  }
  const deprecation =
    version === 2
      ? `${name}: magic 20240520 version 2 (uint32 tokens) is tfgpt's old layout, which no llm.c tool reads; ` +
        "it is read for now, but re-run `tfgpt prepare` to write llm.c's uint32 header (magic 20240801, version 7)"
      : undefined;
  const numTokens = view.getInt32(8, true);
  if (numTokens < 0) throw new DatasetError(`${name}: the header's token count is negative (${numTokens})`, "shard");
  const bytesPerToken = version === 1 ? 2 : 4;
  const expected = SHARD_HEADER_BYTES + numTokens * bytesPerToken;
  if (fileSize < expected) {
    throw new DatasetError(
      `${name}: truncated shard: the header says ${numTokens} tokens (${expected} bytes), the file has ${fileSize} bytes`,
      "shard",
    );
  }
  if (fileSize > expected) {
    throw new DatasetError(
      `${name}: size ${fileSize} bytes disagrees with the header's ${numTokens} tokens (${expected} bytes expected)`,
      "shard",
    );
  }
  const header = { version: version as ShardHeaderVersion, numTokens, bytesPerToken, dataOffset: SHARD_HEADER_BYTES } as const;
  return deprecation === undefined ? header : { ...header, deprecation };
}

/**
 * The header of a headerless nanoGPT `train.bin`/`val.bin` (uint16 tokens), from its size.
 *
 * @throws DatasetError naming the file when its size is odd (a truncated token).
 */
export function nanoGptHeader(fileSize: number, name: string): ShardHeader {
  if (fileSize % 2 !== 0) {
    throw new DatasetError(`${name}: truncated nanoGPT token file: ${fileSize} bytes is not a whole number of uint16 tokens`, "shard");
  }
  return { version: 1, numTokens: fileSize / 2, bytesPerToken: 2, dataOffset: 0 };
}

/**
 * Token bytes as ids: a view when the platform is little-endian and the bytes are aligned, else a copy.
 *
 * @param bytes `numTokens * bytesPerToken` bytes, little-endian.
 * @param bytesPerToken 2 or 4.
 */
export function tokensFromBytes(bytes: Uint8Array, bytesPerToken: 2 | 4): Uint16Array | Uint32Array {
  const n = Math.floor(bytes.byteLength / bytesPerToken);
  if (LITTLE_ENDIAN && bytes.byteOffset % bytesPerToken === 0) {
    return bytesPerToken === 2 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = bytesPerToken === 2 ? new Uint16Array(n) : new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = bytesPerToken === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true);
  return out;
}

/**
 * Ids as little-endian token bytes (the part of a shard after its header).
 *
 * @param ids Token ids, each below 2^16 for version 1 and below 2^32 for version 7.
 * @param version 1 (uint16) or 7 (uint32; the deprecated 2 is uint32 too).
 * @throws DatasetError naming the first id that does not fit.
 */
export function tokensToBytes(ids: ArrayLike<number>, version: ShardHeaderVersion): Uint8Array {
  const width = version === 1 ? 2 : 4;
  const limit = version === 1 ? 2 ** 16 : 2 ** 32;
  const bytes = new Uint8Array(ids.length * width);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!(Number.isInteger(id) && id >= 0 && id < limit)) {
      throw new DatasetError(`\`ids[${i}]\` must be an integer in [0, ${limit}) for a version-${version} shard, received ${String(id)}`, "ids");
    }
    if (width === 2) view.setUint16(i * 2, id, true);
    else view.setUint32(i * 4, id, true);
  }
  return bytes;
}

/**
 * A whole shard in memory: header + tokens (for browsers, tests and small corpora; `ShardWriter` in
 * `@tfgpt/datasets/node` streams large ones to files).
 *
 * @param ids Token ids.
 * @param version Default: 1 when every id is below 65,536, else 7.
 * @example
 * ```ts
 * const bytes = encodeShard([50256, 40, 367]); // 1024 + 3 * 2 bytes
 * decodeShard(bytes, "mem.bin"); // Uint16Array [50256, 40, 367]
 * ```
 */
export function encodeShard(ids: ArrayLike<number>, version?: ShardVersion): Uint8Array {
  let v = version;
  if (v === undefined) {
    let max = 0;
    for (let i = 0; i < ids.length; i++) max = Math.max(max, ids[i] as number);
    v = max < 65536 ? 1 : 7;
  }
  const body = tokensToBytes(ids, v);
  const out = new Uint8Array(SHARD_HEADER_BYTES + body.byteLength);
  out.set(encodeShardHeader(ids.length, v), 0);
  out.set(body, SHARD_HEADER_BYTES);
  return out;
}

/**
 * Checks that every id, taken as an unsigned 32-bit value, is below `vocabSize`.
 *
 * @param ids Ids of one shard, or a chunk of them starting at token `offset` of the shard.
 * @throws DatasetError naming the file, the token's position and its value.
 */
export function checkShardIds(ids: ArrayLike<number>, vocabSize: number, name: string, offset = 0): void {
  for (let i = 0; i < ids.length; i++) {
    // Unsigned: a uint32 id >= 2^31 read through an Int32Array is negative and must not pass.
    const id = (ids[i] as number) >>> 0;
    if (id >= vocabSize) {
      throw new DatasetError(`${name}: token ${offset + i} is ${id}, not below the vocabulary size ${vocabSize}`, "shard");
    }
  }
}

/**
 * Parses a whole shard held in memory.
 *
 * @param bytes The file's bytes.
 * @param name For messages.
 * @param options `format` (default `"llmc"`), `vocabSize` (when given every id must be below it).
 * @returns The tokens (a view of `bytes` where possible).
 * @throws DatasetError for a bad header, a size mismatch or an id out of the vocabulary.
 */
export function decodeShard(
  bytes: Uint8Array,
  name: string,
  options: { readonly format?: ShardFormat; readonly vocabSize?: number } = {},
): Uint16Array | Uint32Array {
  const header = options.format === "nanogpt" ? nanoGptHeader(bytes.byteLength, name) : parseShardHeader(bytes, bytes.byteLength, name);
  const ids = tokensFromBytes(bytes.subarray(header.dataOffset), header.bytesPerToken);
  if (options.vocabSize !== undefined) checkShardIds(ids, options.vocabSize, name);
  return ids;
}

/**
 * llm.c's shard file name: `<prefix>_<split>_NNNNNN.bin`.
 *
 * @example shardFileName("pg84", "val", 0) // "pg84_val_000000.bin"
 */
export function shardFileName(prefix: string, split: "train" | "val", index: number): string {
  return `${prefix}_${split}_${String(index).padStart(6, "0")}.bin`;
}

/**
 * The split of a shard from its file name: `"train"` for `*_train_*.bin` or nanoGPT's `train.bin`,
 * `"val"` for `*_val_*.bin` / `val.bin`, `undefined` otherwise.
 */
export function shardSplitOf(fileName: string): "train" | "val" | undefined {
  if (fileName === "train.bin" || /_train_?\d*\.bin$/.test(fileName)) return "train";
  if (fileName === "val.bin" || /_val_?\d*\.bin$/.test(fileName)) return "val";
  return undefined;
}
