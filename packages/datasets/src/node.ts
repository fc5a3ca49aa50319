/**
 * `@tfgpt/datasets/node`: the Node-only part (reading text, labelled and instruction files; token
 * shards on disk). It exports only what needs Node: the rest comes from `@tfgpt/datasets` (one
 * import more, rather than the whole browser API a second time).
 */
import { readText } from "@tfgpt/tokenizers/node";
import { createDataLoader } from "./create-data-loader.js";
import type { DataLoader } from "./data-loader.js";
import { z } from "zod";
import { DatasetError } from "./errors.js";
import { NewlineSchema, parseOptions, type CreateDataLoaderFromFileOptions } from "./options.js";
import { parseInstructionJson, type InstructionEntry } from "./instruction.js";
import { labelledFormatOf, parseLabelledText, type LabelledFormat, type LabelledParseOptions, type LabelledRow } from "./labelled-text.js";

/** How `createDataLoaderFromFile` reads the file (the rest of its options are `createDataLoader`'s). */
const FileOptionsSchema = z.strictObject({ newline: NewlineSchema.default("lf") });

export {
  FileShardSource,
  ShardWriter,
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
  const parsed = parseOptions(FileOptionsSchema, { newline }, "createDataLoaderFromFile");
  const text = await readText(path, { newline: parsed.newline });
  return createDataLoader(text, rest);
}

/**
 * Reads labelled texts from a CSV, TSV or JSON Lines file (`parseLabelledText`); the format comes
 * from `format` or the file's extension (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`).
 *
 * @throws DatasetError for an unknown extension or a bad row (naming `path:line` and the field);
 *   the tokenizers' error naming the path for a missing or unreadable file.
 * @example
 * const rows = await readLabelledFile("data/classify.csv"); // [{text, label, line}, ...]
 */
export async function readLabelledFile(path: string, options: LabelledParseOptions & { format?: LabelledFormat } = {}): Promise<LabelledRow[]> {
  const { format, ...rest } = options;
  const resolved = format ?? labelledFormatOf(path);
  if (resolved === undefined) throw new DatasetError(`cannot tell the format of ${JSON.stringify(path)}: name it .csv, .tsv or .jsonl`, "format");
  return parseLabelledText(await readText(path), resolved, path, rest);
}

/**
 * Reads a JSON list of `{instruction, input, output}` entries (`parseInstructionJson`).
 *
 * @throws DatasetError naming `path:line`, the entry and the field for bad input.
 * @example
 * const entries = await readInstructionFile("data/instruct.json");
 */
export async function readInstructionFile(path: string): Promise<InstructionEntry[]> {
  return parseInstructionJson(await readText(path), path);
}
