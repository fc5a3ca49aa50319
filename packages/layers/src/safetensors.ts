/**
 * The safetensors format (Hugging Face's weight files), read and written without a dependency and
 * without Node built-ins: an 8-byte little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, offsets relative to
 * the end of the header), then the raw little-endian tensor bytes.
 *
 * Reading goes through a `ByteSource` (`size` + `read(offset, length)`), so a file is sliced one
 * tensor at a time (a file handle in Node, `Blob.slice` in a browser) instead of copied whole.
 * F32, F16 and BF16 tensors decode to `Float32Array`; writing is F32 only.
 */
import { LayerConfigError } from "./errors.js";

/** Bytes per element of every dtype the format defines (decoding supports F32, F16 and BF16). */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

/** The dtypes `decodeTensor` turns into float32. */
export const DECODABLE_DTYPES = ["F32", "F16", "BF16"] as const;

/** Largest JSON header accepted (the reference implementation's limit: 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Random access to the bytes of one file (or buffer, or blob). */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** The `length` bytes at `offset` (the caller keeps within `size`). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** One tensor of a safetensors file, with absolute byte offsets into the file. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute offset of the first byte in the file. */
  readonly begin: number;
  /** Absolute offset one past the last byte. */
  readonly end: number;
}

/** The parsed header of a safetensors file. */
export interface SafetensorsHeader {
  /** The file's name, for messages. */
  readonly file: string;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  /** `__metadata__` (string to string), `{}` when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Total file size the header was checked against. */
  readonly size: number;
}

/** A `ByteSource` over bytes in memory (an `ArrayBuffer` or a view); `read` returns views, no copies. */
export function bufferSource(bytes: ArrayBuffer | ArrayBufferView): ByteSource {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: view.byteLength, read: async (offset, length) => view.subarray(offset, offset + length) };
}

/** A `ByteSource` over a `Blob` (a browser `File`, a fetched body): each read is one `Blob.slice`. */
export function blobSource(blob: Blob): ByteSource {
  return { size: blob.size, read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()) };
}

function bad(file: string, detail: string): LayerConfigError {
  return new LayerConfigError(`${file}: not a valid safetensors file: ${detail}`, "file");
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Reads and checks the header of a safetensors file: the length prefix, the JSON, and for every
 * tensor a known dtype, a shape of non-negative integers, and offsets that lie inside the file and
 * match the shape's byte size.
 *
 * @param file The file's name, used in messages.
 * @throws LayerConfigError naming the file (and the tensor) for a truncated file, a header
 *   running past the end, bad JSON, an unknown dtype or offsets that do not fit.
 */
export async function readSafetensorsHeader(source: ByteSource, file: string): Promise<SafetensorsHeader> {
  if (source.size < 8) throw bad(file, `${source.size} bytes, shorter than the 8-byte header length (truncated?)`);
  const prefix = await source.read(0, 8);
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (length > MAX_HEADER_BYTES) throw bad(file, `the header claims ${length} bytes (at most ${MAX_HEADER_BYTES} allowed)`);
  if (8 + length > source.size) throw bad(file, `the header claims ${length} bytes but the file has only ${source.size - 8} after the length (truncated?)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await source.read(8, length)));
  } catch (error) {
    throw bad(file, `the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad(file, "the header is not a JSON object");
  const dataStart = 8 + length;
  const dataSize = source.size - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Object.values(value).some((v) => typeof v !== "string")) {
        throw bad(file, "`__metadata__` must map strings to strings");
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    const dtype = info?.dtype;
    if (typeof dtype !== "string" || !(dtype in SAFETENSORS_DTYPE_BYTES)) {
      throw bad(file, `tensor "${name}" has dtype ${JSON.stringify(dtype)}, not one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")}`);
    }
    const shape = info?.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(file, `tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    }
    const offsets = info?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw bad(file, `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataSize) {
      throw bad(file, `tensor "${name}" ends at byte ${end} of the data but the file holds only ${dataSize} data bytes (truncated?)`);
    }
    const expected = elementCount(shape as number[]) * (SAFETENSORS_DTYPE_BYTES[dtype] as number);
    if (end - begin !== expected) {
      throw bad(file, `tensor "${name}" (${dtype} [${shape.join(", ")}]) needs ${expected} bytes but its data_offsets span ${end - begin}`);
    }
    entries.set(name, { name, dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }
  return { file, entries, metadata, size: source.size };
}

let halfTable: Float32Array | null = null;

/** float16 bit patterns -> float32 values, all 65,536 of them (256 KB, built on first use). */
function halfToFloat(): Float32Array {
  if (halfTable !== null) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

/**
 * The values of one tensor as float32, from its raw little-endian bytes (`entry.end - entry.begin`
 * of them). F32 bytes at a 4-byte-aligned offset are viewed, not copied.
 *
 * @throws LayerConfigError for a dtype other than F32, F16 or BF16, naming the file and tensor.
 */
export function decodeTensor(entry: SafetensorsEntry, bytes: Uint8Array, file: string): Float32Array {
  const n = elementCount(entry.shape);
  switch (entry.dtype) {
    case "F32": {
      if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      return new Float32Array(bytes.slice(0, 4 * n).buffer);
    }
    case "F16":
    case "BF16": {
      const halves = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice(0, 2 * n).buffer);
      const out = new Float32Array(n);
      if (entry.dtype === "F16") {
        const table = halfToFloat();
        for (let i = 0; i < n; i++) out[i] = table[halves[i] as number] as number;
      } else {
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) bits[i] = (halves[i] as number) << 16;
      }
      return out;
    }
    default:
      throw new LayerConfigError(
        `${file}: tensor "${entry.name}" has dtype ${entry.dtype}; only ${DECODABLE_DTYPES.join(", ")} can be loaded (as float32)`,
        "dtype",
      );
  }
}

/** Reads one tensor of a checked header as float32. */
export async function readTensor(source: ByteSource, header: SafetensorsHeader, name: string): Promise<Float32Array> {
  const entry = header.entries.get(name);
  if (entry === undefined) throw new LayerConfigError(`${header.file}: no tensor "${name}"`, "name");
  return decodeTensor(entry, await source.read(entry.begin, entry.end - entry.begin), header.file);
}

/** One float32 tensor to write. */
export interface NamedTensorData {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * The bytes of a safetensors file holding `tensors` as F32, in the order given, as a list of
 * chunks (the header, then each tensor's bytes as a view of its data: nothing is copied, so a
 * writer streams them one by one). The header is padded with spaces to a multiple of 8 bytes,
 * as the reference implementation does, so every tensor starts 8-byte aligned.
 *
 * @param metadata `__metadata__` (transformers requires `{format: "pt"}`, the default).
 * @throws LayerConfigError when a tensor's data length does not match its shape.
 */
export function encodeSafetensors(tensors: readonly NamedTensorData[], metadata: Record<string, string> = { format: "pt" }): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    if (elementCount(t.shape) !== t.data.length) {
      throw new LayerConfigError(`tensor "${t.name}" of shape [${t.shape.join(", ")}] holds ${t.data.length} values`, "tensors");
    }
    header[t.name] = { dtype: "F32", shape: [...t.shape], data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  return [prefix, json, ...tensors.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
}
