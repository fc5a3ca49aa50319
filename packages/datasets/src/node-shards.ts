/**
 * llm.c shards on disk (Node only): validating and opening shard files as a `ShardedTokenStore`
 * that reads each window's bytes at an offset (bounded memory: no shard is loaded whole), and a
 * `ShardWriter` that streams tokens into shards written atomically (temp file, then rename).
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { nonNegativeInt, oneOf, positiveInt } from "@tfgpt/common";
import { z } from "zod";
import { DatasetError, describeValue } from "./errors.js";
import { parseOptions } from "./options.js";
import { ShardedTokenStore, ShardedTokenStoreOptionsSchema, type ShardSource } from "./shard-store.js";
import {
  LITTLE_ENDIAN,
  SHARD_HEADER_BYTES,
  checkShardIds,
  encodeShardHeader,
  nanoGptHeader,
  parseShardHeader,
  shardFileName,
  shardSplitOf,
  shardVersionFor,
  tokensFromBytes,
  tokensToBytes,
  type ShardFormat,
  type ShardHeader,
  type ShardVersion,
} from "./shards.js";

/** Tokens checked per read when scanning a shard's ids (2-4 MiB of buffer). */
const SCAN_TOKENS = 1 << 20;

/** A shard's format from its name: nanoGPT's `train.bin`/`val.bin` are headerless, the rest llm.c's. */
function formatOf(file: string, format: ShardFormat | "auto"): ShardFormat {
  if (format !== "auto") return format;
  const base = path.basename(file);
  return base === "train.bin" || base === "val.bin" ? "nanogpt" : "llmc";
}

/** Files whose deprecated-layout note was emitted (once per file and process). */
const warnedDeprecated = new Set<string>();

/**
 * Reads and validates the header of a shard file against its size. A file in the deprecated
 * layout (magic 20240520 version 2) is read, with a `DeprecationWarning` (code `TFGPT_SHARD_V2`).
 *
 * @param file The shard's path.
 * @param format `"llmc"`, `"nanogpt"` (headerless uint16) or `"auto"` (default: nanoGPT for files
 *   named `train.bin`/`val.bin`).
 * @throws DatasetError naming the file: missing, a directory, truncated, wrong magic, unknown
 *   version, or a size that disagrees with the header's count.
 * @example readShardHeader("data/pg84_train_000001.bin") // { version: 1, numTokens: 94680, ... }
 */
export function readShardHeader(file: string, format: ShardFormat | "auto" = "auto"): ShardHeader {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(`${file}: ${code === "ENOENT" ? "no such shard file" : `cannot open (${code ?? String(err)})`}`, "shard");
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new DatasetError(`${file} is a directory, expected a shard file`, "shard");
    if (formatOf(file, format) === "nanogpt") return nanoGptHeader(info.size, file);
    const head = new Uint8Array(Math.min(SHARD_HEADER_BYTES, info.size));
    readSync(fd, head, 0, head.byteLength, 0);
    const header = parseShardHeader(head, info.size, file);
    if (header.deprecation !== undefined && !warnedDeprecated.has(file)) {
      // Once per file and process: reading on is fine, the note says how to migrate.
      warnedDeprecated.add(file);
      process.emitWarning(header.deprecation, { type: "DeprecationWarning", code: "TFGPT_SHARD_V2" });
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

/**
 * Keeps at most `limit` shard files open (least recently used closed first), so a dataset of
 * thousands of shards does not run out of file descriptors.
 */
class FilePool {
  private readonly open = new Map<string, number>();
  constructor(private readonly limit: number) {}

  fd(file: string): number {
    const fd = this.open.get(file);
    if (fd !== undefined) {
      this.open.delete(file); // re-insert: Map order is the recency order
      this.open.set(file, fd);
      return fd;
    }
    if (this.open.size >= this.limit) {
      const [oldest, oldFd] = this.open.entries().next().value as [string, number];
      this.open.delete(oldest);
      closeSync(oldFd);
    }
    const opened = openSync(file, "r");
    this.open.set(file, opened);
    return opened;
  }

  close(): void {
    for (const fd of this.open.values()) closeSync(fd);
    this.open.clear();
  }
}

/**
 * One shard file, read by range with `readSync` at an offset: memory is one reusable buffer of the
 * largest range read (a window), never the shard.
 */
export class FileShardSource implements ShardSource {
  /** The file's path. */
  readonly name: string;
  readonly numTokens: number;
  /** The validated header. */
  readonly header: ShardHeader;
  private readonly pool: FilePool;
  private buffer = new Uint8Array(0);

  /**
   * @param file The shard's path.
   * @param header Its validated header (`readShardHeader`).
   * @param pool Shared open-file pool.
   */
  constructor(file: string, header: ShardHeader, pool: FilePool) {
    this.name = file;
    this.header = header;
    this.numTokens = header.numTokens;
    this.pool = pool;
  }

  /** Copies tokens `[start, end)` of the shard into `out` at `offset`. */
  read(start: number, end: number, out: Int32Array, offset: number): void {
    const width = this.header.bytesPerToken;
    const bytes = (end - start) * width;
    if (this.buffer.byteLength < bytes) this.buffer = new Uint8Array(Math.max(bytes, this.buffer.byteLength * 2));
    const buffer = this.buffer.subarray(0, bytes);
    let done = 0;
    while (done < bytes) {
      const got = readSync(this.pool.fd(this.name), buffer, done, bytes - done, this.header.dataOffset + start * width + done);
      if (got === 0) throw new DatasetError(`${this.name}: truncated shard: the file ended while reading tokens ${start}..${end}`, "shard");
      done += got;
    }
    out.set(tokensFromBytes(buffer, width), offset);
  }

  /**
   * Checks every id against `vocabSize`, streaming the file in 1M-token chunks.
   *
   * @throws DatasetError naming the file, the token's index and its value.
   */
  checkIds(vocabSize: number): void {
    const chunk = new Int32Array(Math.min(SCAN_TOKENS, this.numTokens));
    for (let at = 0; at < this.numTokens; at += SCAN_TOKENS) {
      const end = Math.min(this.numTokens, at + SCAN_TOKENS);
      this.read(at, end, chunk, 0);
      checkShardIds(chunk.subarray(0, end - at), vocabSize, this.name, at);
    }
  }
}

/**
 * The shard files of a directory: its `*.bin` files sorted by name, those of `split` only when given.
 *
 * @param dir The directory.
 * @param split `"train"` (`*_train_*.bin`, nanoGPT `train.bin`), `"val"`, or `undefined` for all.
 * @throws DatasetError naming the directory when it holds no matching shard.
 */
export function listShards(dir: string, split?: "train" | "val"): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(`${dir}: ${code === "ENOENT" ? "no such directory" : `cannot list (${code ?? String(err)})`}`, "shards");
  }
  const files = names
    .filter((n) => n.endsWith(".bin") && (split === undefined || shardSplitOf(n) === split))
    .sort()
    .map((n) => path.join(dir, n));
  if (files.length === 0) {
    throw new DatasetError(`${dir}: no ${split === undefined ? "" : `${split} `}shards (*.bin files) in this directory`, "shards");
  }
  return files;
}

/**
 * Options of `openShards`: `ShardedTokenStore`'s plus where the shards are.
 *
 * - `crossShards`: windows may span shard ends (default `false`; see `ShardedTokenStoreOptionsSchema`).
 * - `vocabSize`: when given, every id of every shard is checked against it before the store is
 *   returned (a streamed scan). Default: none.
 * - `split`: for a directory, only `*_<split>_*.bin` files. Default: every `.bin` file.
 * - `format`: `"llmc"`, `"nanogpt"` or `"auto"` (default: nanoGPT for `train.bin`/`val.bin`).
 * - `maxOpenFiles`: shard files kept open at once. Default 8.
 */
export const OpenShardsOptionsSchema = ShardedTokenStoreOptionsSchema.extend({
  split: oneOf(["train", "val"]).optional(),
  format: oneOf(["llmc", "nanogpt", "auto"]).default("auto"),
  maxOpenFiles: positiveInt().default(8),
});
/** `openShards` options as given. */
export type OpenShardsOptions = z.input<typeof OpenShardsOptionsSchema>;

/**
 * Opens shard files as one `ShardedTokenStore`, validating every header against its file's size
 * (and every id when `vocabSize` is given) before returning, so a bad shard fails before training.
 *
 * @param input A shard file, a directory of shards, or a list of files (in order).
 * @param options See `OpenShardsOptionsSchema`.
 * @throws DatasetError naming the file and what is wrong.
 * @example
 * ```ts
 * const store = openShards("data/pg84", { split: "train", vocabSize: 50257 });
 * const loader = new DataLoader(new GPTDataset(store, { maxLength: 64, stride: 64 }), { batchSize: 8, shuffle: true });
 * ```
 */
export function openShards(input: string | readonly string[], options: OpenShardsOptions = {}): ShardedTokenStore {
  const { split, format, maxOpenFiles, ...storeOptions } = parseOptions(OpenShardsOptionsSchema, options, "openShards");
  let files: string[];
  if (typeof input === "string") {
    let isDir = false;
    try {
      isDir = statSync(input).isDirectory();
    } catch {
      // readShardHeader names the missing file.
    }
    files = isDir ? listShards(input, split) : [input];
  } else {
    files = [...input];
  }
  const pool = new FilePool(maxOpenFiles);
  const sources = files.map((file) => new FileShardSource(file, readShardHeader(file, format), pool));
  if (storeOptions.vocabSize !== undefined) for (const source of sources) source.checkIds(storeOptions.vocabSize);
  return new ShardedTokenStore(sources, storeOptions);
}

/**
 * Options of `ShardWriter`.
 *
 * - `outDir`: the directory the shards go to (must exist).
 * - `prefix`: file names are `<prefix>_<split>_NNNNNN.bin`. Default `"data"`.
 * - `vocabSize`: picks the version (1: uint16 up to 65,536 ids, else 7: uint32, magic 20240801) and bounds the ids. Required.
 * - `shardTokens`: tokens per shard (the last shard of a split has fewer). Default 100,000,000
 *   (llm.c's fineweb shards).
 * - `format`: `"llmc"` (default) or `"nanogpt"` (one headerless uint16 `train.bin` and `val.bin`;
 *   `prefix` and `shardTokens` do not apply).
 */
export const ShardWriterOptionsSchema = z.strictObject({
  outDir: z.string({ error: "must be a directory path" }).min(1, { error: "must be a directory path" }),
  prefix: z
    .string({ error: 'must be letters, digits, "_", "-" or "."' })
    .regex(/^[\w.-]+$/, { error: 'must be letters, digits, "_", "-" or "."' })
    .default("data"),
  vocabSize: positiveInt(),
  shardTokens: positiveInt("an integer in [1, 2^31)")
    .max(2 ** 31 - 1, { error: "must be an integer in [1, 2^31)" })
    .default(100_000_000),
  format: oneOf(["llmc", "nanogpt"]).default("llmc"),
  /** The number of the first shard written (a job continued after its first shards). Default 0. */
  firstIndex: nonNegativeInt().default(0),
});
/** `ShardWriter` options as given. */
export type ShardWriterOptions = z.input<typeof ShardWriterOptionsSchema>;

/** One file a `ShardWriter` wrote. */
export interface WrittenShard {
  /** Its path. */
  readonly path: string;
  readonly split: "train" | "val";
  /** Tokens in it. */
  readonly tokens: number;
}

/**
 * Streams token ids into shard files. Tokens are buffered up to one shard (O(shardTokens) memory)
 * and each shard is written to a temp file and renamed into place, so a reader never sees half a
 * shard. Shards are numbered across splits in the order written (llm.c's fineweb: write the `val`
 * tokens first and shard 0 is `val`). `outDir` and its parents are created before the first file.
 *
 * @example
 * ```ts
 * const writer = new ShardWriter({ outDir: "data", prefix: "pg84", vocabSize: 50257 });
 * writer.write(valIds, "val");
 * writer.write(trainIds, "train");
 * const files = writer.finish(); // [{path: "data/pg84_val_000000.bin", ...}, {path: "data/pg84_train_000001.bin", ...}]
 * ```
 */
export class ShardWriter {
  /** The resolved options. */
  readonly options: z.output<typeof ShardWriterOptionsSchema>;
  /** 1 (uint16 tokens) or 2 (uint32). */
  readonly version: ShardVersion;
  private readonly written: WrittenShard[] = [];
  private buffer: Uint16Array | Uint32Array;
  private filled = 0;
  private split: "train" | "val" | undefined;
  private nextIndex = 0;
  /** nanoGPT: the open temp file per split. */
  private readonly streams = new Map<"train" | "val", { fd: number; temp: string; final: string; tokens: number }>();
  private done = false;
  private outDirMade = false;

  /**
   * @param options See `ShardWriterOptionsSchema`.
   * @throws DatasetError for a bad option, or a vocabulary over 65,536 ids with `format: "nanogpt"`.
   */
  constructor(options: ShardWriterOptions) {
    this.options = parseOptions(ShardWriterOptionsSchema, options, "ShardWriter");
    this.version = shardVersionFor(this.options.vocabSize);
    if (this.options.format === "nanogpt" && this.version !== 1) {
      throw new DatasetError(
        `\`format\` "nanogpt" stores uint16 tokens, but \`vocabSize\` ${this.options.vocabSize} needs more than 16 bits: use format "llmc"`,
        "format",
      );
    }
    this.nextIndex = this.options.firstIndex;
    const initial = Math.min(this.options.shardTokens, 1 << 16);
    this.buffer = this.version === 1 ? new Uint16Array(initial) : new Uint32Array(initial);
  }

  /**
   * Appends ids to `split`, writing every shard that fills up.
   *
   * @throws DatasetError for an id outside `[0, vocabSize)` or a writer already finished.
   */
  write(ids: ArrayLike<number>, split: "train" | "val"): void {
    if (this.done) throw new DatasetError("this ShardWriter is finished", "write");
    const { vocabSize } = this.options;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
        throw new DatasetError(`\`ids[${i}]\` must be an integer in [0, ${vocabSize}), received ${describeValue(id)}`, "ids");
      }
    }
    if (this.options.format === "nanogpt") {
      this.append(ids, split);
      return;
    }
    if (this.split !== split && this.filled > 0) this.flush();
    this.split = split;
    let at = 0;
    while (at < ids.length) {
      const room = this.options.shardTokens - this.filled;
      const take = Math.min(room, ids.length - at);
      this.reserve(this.filled + take);
      const part = ArrayBuffer.isView(ids) ? (ids as unknown as Int32Array).subarray(at, at + take) : Array.prototype.slice.call(ids, at, at + take);
      this.buffer.set(part as ArrayLike<number>, this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.options.shardTokens) this.flush();
    }
  }

  /** Files written so far (complete shards renamed into place). */
  get writtenCount(): number {
    return this.written.length;
  }

  /** Writes what is buffered and returns every file written, in order. */
  finish(): WrittenShard[] {
    if (this.done) return [...this.written];
    if (this.filled > 0) this.flush();
    for (const [split, s] of this.streams) {
      closeSync(s.fd);
      renameSync(s.temp, s.final);
      this.written.push({ path: s.final, split, tokens: s.tokens });
    }
    this.streams.clear();
    this.done = true;
    return [...this.written];
  }

  /** Removes unfinished temp files (after an error); shards already renamed stay. */
  abort(): void {
    for (const s of this.streams.values()) {
      closeSync(s.fd);
      rmSync(s.temp, { force: true });
    }
    this.streams.clear();
    this.done = true;
  }

  private makeOutDir(): void {
    if (this.outDirMade) return;
    mkdirSync(this.options.outDir, { recursive: true });
    this.outDirMade = true;
  }

  private reserve(size: number): void {
    if (size <= this.buffer.length) return;
    const grown = Math.min(this.options.shardTokens, Math.max(size, this.buffer.length * 2));
    const next = this.version === 1 ? new Uint16Array(grown) : new Uint32Array(grown);
    next.set(this.buffer.subarray(0, this.filled));
    this.buffer = next;
  }

  private flush(): void {
    const split = this.split ?? "train";
    const final = path.join(this.options.outDir, shardFileName(this.options.prefix, split, this.nextIndex));
    const temp = `${final}.tmp-${process.pid}`;
    const tokens = this.buffer.subarray(0, this.filled);
    this.makeOutDir();
    const fd = openSync(temp, "w");
    try {
      writeAll(fd, encodeShardHeader(this.filled, this.version));
      writeAll(fd, tokenBytes(tokens, this.version));
      closeSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(temp, { force: true });
      throw err;
    }
    renameSync(temp, final);
    this.written.push({ path: final, split, tokens: this.filled });
    this.nextIndex++;
    this.filled = 0;
  }

  private append(ids: ArrayLike<number>, split: "train" | "val"): void {
    let s = this.streams.get(split);
    if (s === undefined) {
      const final = path.join(this.options.outDir, `${split}.bin`);
      const temp = `${final}.tmp-${process.pid}`;
      this.makeOutDir();
      s = { fd: openSync(temp, "w"), temp, final, tokens: 0 };
      this.streams.set(split, s);
    }
    writeAll(s.fd, tokenBytes(Uint16Array.from(ids), 1));
    s.tokens += ids.length;
  }
}

/** Little-endian bytes of typed token ids (a view on little-endian platforms). */
function tokenBytes(tokens: Uint16Array | Uint32Array, version: ShardVersion): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength);
  return tokensToBytes(tokens, version);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}
