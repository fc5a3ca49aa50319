/**
 * `@tfgpt/datasets/node`: Node-only helpers (file reading). Re-exports the browser-safe main entry
 * so that Node users need one import.
 */
import { readText } from "@tfgpt/tokenizers/node";
import { createDataLoader } from "./create-data-loader.js";
import type { DataLoader } from "./data-loader.js";
import { DatasetError } from "./errors.js";
import { NewlineSchema, type CreateDataLoaderFromFileOptions } from "./options.js";

export * from "./index.js";
export {
  FileShardSource,
  OpenShardsOptionsSchema,
  ShardWriter,
  ShardWriterOptionsSchema,
  listShards,
  openShards,
  readShardHeader,
  type OpenShardsOptions,
  type ShardWriterOptions,
  type WrittenShard,
} from "./node-shards.js";

/**
 * Reads a UTF-8 text file (as Python's `open(path, encoding="utf-8").read()` does, unless
 * `newline: "keep"`) and makes the book's data loader from it: `createDataLoader(text, options)`.
 *
 * @param path The text file.
 * @param options Those of `createDataLoader` (defaults: `batchSize` 4, `maxLength` 256, `stride`
 *   128, `shuffle` true, `dropLast` true, `seed` 0, `tokenizer` `"gpt2"`) plus `newline`
 *   (`"lf"` by default, or `"keep"`).
 * @throws DatasetError for bad options, an empty or too short text; the tokenizers' error naming
 *   the path for a missing, unreadable or directory path.
 *
 * @example
 * ```ts
 * const loader = await createDataLoaderFromFile("../shared/data/pg84.txt", {
 *   maxLength: 4, stride: 4, batchSize: 8, shuffle: false,
 * });
 * const { inputs } = loader.nextBatch(); // Int32Array [8 * 4], starts 171, 119, 123, 464
 * ```
 */
export async function createDataLoaderFromFile(
  path: string,
  options: CreateDataLoaderFromFileOptions = {},
): Promise<DataLoader> {
  const { newline, ...rest } = options;
  const parsed = NewlineSchema.default("lf").safeParse(newline);
  if (!parsed.success) throw new DatasetError(parsed.error.issues[0]?.message ?? "bad `newline`", "newline");
  const text = await readText(path, { newline: parsed.data });
  return createDataLoader(text, rest);
}
