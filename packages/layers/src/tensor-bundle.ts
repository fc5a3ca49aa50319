/**
 * TensorFlow's tensor bundle (checkpoint format V2: `prefix.index` + `prefix.data-0000i-of-0000n`),
 * read without TensorFlow: the format of OpenAI's GPT-2 release and of `tf.train.Saver` /
 * `tf.train.Checkpoint`. The index is a LevelDB table mapping each variable name to a
 * `BundleEntryProto` (dtype, shape, shard, offset, size, masked CRC-32C); the empty key holds the
 * `BundleHeaderProto`. Tensors are read one at a time, only the bytes each needs, and checked
 * against their CRC.
 *
 * Browser-safe: data shards come through a `BundleDataSource` (ArrayBuffers here; files in
 * `@tfgpt/layers/node`'s `openTensorBundle`).
 */
import { crc32c, unmaskCrc } from "./crc32c.js";
import { LayerConfigError } from "./errors.js";
import { ByteCursor, readTable } from "./sstable.js";

/** Element types a bundle entry may hold that this reader converts to float32. */
export type BundleDType = "float32" | "float64" | "float16" | "bfloat16" | "int32" | "int64" | "other";

/** TensorFlow's `DataType` enum values for the types above. */
const DTYPES: Record<number, { name: BundleDType; bytes: number }> = {
  1: { name: "float32", bytes: 4 },
  2: { name: "float64", bytes: 8 },
  3: { name: "int32", bytes: 4 },
  9: { name: "int64", bytes: 8 },
  14: { name: "bfloat16", bytes: 2 },
  19: { name: "float16", bytes: 2 },
};

/** One variable of a bundle, as its index describes it. */
export interface BundleEntry {
  readonly name: string;
  readonly dtype: BundleDType;
  /** TensorFlow's numeric dtype (for messages about unsupported types). */
  readonly dtypeCode: number;
  readonly shape: readonly number[];
  readonly shard: number;
  readonly offset: number;
  readonly size: number;
  /** The stored CRC-32C of the tensor's bytes (unmasked). */
  readonly crc32c: number;
}

/** Reads `size` bytes at `offset` of data shard `shard`. */
export type BundleDataSource = (shard: number, offset: number, size: number) => Promise<Uint8Array>;

/** `prefix.data-00000-of-00001`: the file name of a data shard. */
export function bundleShardName(prefix: string, shard: number, numShards: number): string {
  return `${prefix}.data-${String(shard).padStart(5, "0")}-of-${String(numShards).padStart(5, "0")}`;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function parseShape(bytes: Uint8Array, what: string): number[] {
  const shape: number[] = [];
  const c = new ByteCursor(bytes, 0, bytes.length, what);
  while (!c.done) {
    const tag = c.varint();
    if (tag === (2 << 3) + 2) {
      const dim = c.take(c.varint());
      const d = new ByteCursor(dim, 0, dim.length, what);
      let size = 0;
      while (!d.done) {
        const t = d.varint();
        if (t === (1 << 3) + 0) size = d.varint();
        else skipField(d, t);
      }
      shape.push(size);
    } else skipField(c, tag);
  }
  return shape;
}

function skipField(c: ByteCursor, tag: number): void {
  switch (tag & 7) {
    case 0: c.varint(); return;
    case 1: c.take(8); return;
    case 2: c.take(c.varint()); return;
    case 5: c.take(4); return;
    default: throw new LayerConfigError(`${c.what}: unsupported protobuf wire type ${tag & 7}`);
  }
}

function parseEntry(name: string, bytes: Uint8Array, what: string): BundleEntry {
  const c = new ByteCursor(bytes, 0, bytes.length, `${what}: entry ${JSON.stringify(name)}`);
  let dtypeCode = 0;
  let shape: number[] = [];
  let shard = 0;
  let offset = 0;
  let size = 0;
  let crc = 0;
  let sliced = false;
  while (!c.done) {
    const tag = c.varint();
    switch (tag) {
      case (1 << 3) | 0: dtypeCode = c.varint(); break;
      case (2 << 3) | 2: shape = parseShape(c.take(c.varint()), c.what); break;
      case (3 << 3) | 0: shard = c.varint(); break;
      case (4 << 3) | 0: offset = c.varint(); break;
      case (5 << 3) | 0: size = c.varint(); break;
      case (6 << 3) | 5: crc = c.fixed32(); break;
      case (7 << 3) | 2: sliced = true; skipField(c, tag); break;
      default: skipField(c, tag);
    }
  }
  if (sliced) throw new LayerConfigError(`${what}: variable ${JSON.stringify(name)} is saved in slices (partitioned variables are not supported)`);
  if (offset > MAX_SAFE || size > MAX_SAFE) throw new LayerConfigError(`${what}: variable ${JSON.stringify(name)} has an offset or size beyond 2^53`);
  const dtype = DTYPES[dtypeCode]?.name ?? "other";
  return { name, dtype, dtypeCode, shape, shard, offset, size, crc32c: unmaskCrc(crc) };
}

/** What the index file holds: the header's shard count and every variable. */
export interface BundleIndex {
  readonly numShards: number;
  readonly entries: ReadonlyMap<string, BundleEntry>;
}

/**
 * Parses a bundle's `.index` file.
 *
 * @param bytes The whole `.index` file (small: names and offsets only).
 * @param what Names the file in error messages (e.g. its path).
 * @throws LayerConfigError naming the file: not a table (bad magic), corrupt or truncated, big-endian, no header.
 */
export function parseBundleIndex(bytes: Uint8Array, what = "model.ckpt.index"): BundleIndex {
  const entries = new Map<string, BundleEntry>();
  let numShards: number | undefined;
  for (const { key, value } of readTable(bytes, what)) {
    if (key === "") {
      const c = new ByteCursor(value, 0, value.length, `${what}: header`);
      numShards = 1;
      while (!c.done) {
        const tag = c.varint();
        if (tag === ((1 << 3) | 0)) numShards = c.varint();
        else if (tag === ((2 << 3) | 0)) {
          if (c.varint() !== 0) throw new LayerConfigError(`${what}: the bundle is big-endian; only little-endian bundles are supported`);
        } else skipField(c, tag);
      }
    } else {
      entries.set(key, parseEntry(key, value, what));
    }
  }
  if (numShards === undefined) throw new LayerConfigError(`${what}: no bundle header (empty key): not a TensorFlow V2 checkpoint index`);
  for (const e of entries.values()) {
    if (e.shard >= numShards) throw new LayerConfigError(`${what}: variable ${JSON.stringify(e.name)} is in shard ${e.shard} of ${numShards}`);
  }
  return { numShards, entries };
}

/** Converts half-precision bits to float32. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * A checkpoint opened for reading: its index parsed, tensors read on demand.
 *
 * @example
 * ```ts
 * const bundle = new TensorBundle(parseBundleIndex(indexBytes), async (shard, offset, size) => dataBytes.subarray(offset, offset + size));
 * const wte = await bundle.readFloat32("model/wte"); // { shape: [50257, 768], values: Float32Array }
 * ```
 */
export class TensorBundle {
  constructor(
    readonly index: BundleIndex,
    private readonly source: BundleDataSource,
    /** Names the checkpoint in error messages. */
    readonly what = "checkpoint",
  ) {}

  /** Variable names, sorted. */
  get names(): string[] {
    return [...this.index.entries.keys()];
  }

  /** The entry of `name`, or a LayerConfigError naming the missing variable. */
  entry(name: string): BundleEntry {
    const entry = this.index.entries.get(name);
    if (entry === undefined) throw new LayerConfigError(`${this.what}: no variable ${JSON.stringify(name)} in the checkpoint`, name);
    return entry;
  }

  /**
   * Reads one variable as float32 (float16, bfloat16, float64 and int32 converted), checking its
   * byte count and CRC-32C.
   *
   * @throws LayerConfigError naming the variable: missing, unsupported dtype, wrong size, CRC mismatch.
   */
  async readFloat32(name: string): Promise<{ shape: number[]; values: Float32Array }> {
    const entry = this.entry(name);
    const info = DTYPES[entry.dtypeCode];
    if (info === undefined || entry.dtype === "int64") {
      throw new LayerConfigError(`${this.what}: variable ${JSON.stringify(name)} has dtype ${entry.dtypeCode} (TensorFlow DataType); float32, float64, float16, bfloat16 and int32 are supported`, name);
    }
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (count * info.bytes !== entry.size) {
      throw new LayerConfigError(`${this.what}: variable ${JSON.stringify(name)} has shape [${entry.shape.join(", ")}] (${count * info.bytes} bytes) but ${entry.size} bytes stored`, name);
    }
    const bytes = await this.source(entry.shard, entry.offset, entry.size);
    if (bytes.length !== entry.size) {
      throw new LayerConfigError(`${this.what}: variable ${JSON.stringify(name)}: ${entry.size} bytes at offset ${entry.offset} of shard ${entry.shard} but only ${bytes.length} could be read (truncated data file?)`, name);
    }
    if (crc32c(bytes) !== entry.crc32c) {
      throw new LayerConfigError(`${this.what}: variable ${JSON.stringify(name)} fails its CRC-32C check (corrupt data file)`, name);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float32Array(count);
    switch (entry.dtype) {
      case "float32": for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true); break;
      case "float64": for (let i = 0; i < count; i++) values[i] = view.getFloat64(8 * i, true); break;
      case "int32": for (let i = 0; i < count; i++) values[i] = view.getInt32(4 * i, true); break;
      case "float16": for (let i = 0; i < count; i++) values[i] = halfToFloat(view.getUint16(2 * i, true)); break;
      case "bfloat16": {
        const bits = new Uint32Array(values.buffer);
        for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
        break;
      }
      default: break;
    }
    return { shape: [...entry.shape], values };
  }
}

/**
 * Opens a bundle held in memory (the browser path: `fetch` the `.index` and `.data-*` files).
 *
 * @param index The `.index` file.
 * @param shards The data shards, in order (`.data-00000-of-0000n`, ...).
 */
export function tensorBundleFromBuffers(index: ArrayBuffer | Uint8Array, shards: ReadonlyArray<ArrayBuffer | Uint8Array>, what = "checkpoint"): TensorBundle {
  const parsed = parseBundleIndex(index instanceof Uint8Array ? index : new Uint8Array(index), `${what}.index`);
  if (shards.length !== parsed.numShards) {
    throw new LayerConfigError(`${what}: the index names ${parsed.numShards} data shard(s), ${shards.length} given`);
  }
  const views = shards.map((s) => (s instanceof Uint8Array ? s : new Uint8Array(s)));
  return new TensorBundle(parsed, async (shard, offset, size) => views[shard]!.subarray(offset, Math.min(offset + size, views[shard]!.length)), what);
}
