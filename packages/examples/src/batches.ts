/**
 * `tfgpt batches FILE --max-length N --stride N --batch-size N [--shuffle] [--seed S]
 * [--no-drop-last] [--newline lf|keep] [--encoding E | --tokenizer FILE] [--json]`: the first batch the data
 * loader gives, i.e. the chapter-2 notebook's `next(iter(dataloader))`.
 *
 * `dropLast` defaults to true, as in the notebook's `create_dataloader_v1` (`drop_last=True`);
 * `--no-drop-last` keeps a last partial batch. It only matters for the first batch when the text
 * has fewer windows than one batch: then the command fails with drop-last and prints the
 * partial batch without it.
 */
import { DataLoader, GPTDataset, type TokenSource } from "@tfgpt/datasets";
import { z } from "zod";
import type { CommandIO } from "./io.js";
import { integerFlag, LIMITS, newlineFlag, stringFlag } from "./options.js";
import { isShardInput, openShardInput } from "./shard-input.js";
import { readTextFile } from "./text-file.js";
import { tokenizerFromFlags } from "./tokenizer-flag.js";

/** The validated config of `tfgpt batches`. */
export const BatchesConfigSchema = z.object({
  /** The text file to cut into windows, or a `.bin` shard / directory of shards (`tfgpt prepare`). */
  file: stringFlag("file"),
  /** Tokens per window. */
  maxLength: integerFlag("max-length", 1, LIMITS.context),
  /** Tokens between window starts. */
  stride: integerFlag("stride", 1, LIMITS.stride),
  /** Windows per batch. */
  batchSize: integerFlag("batch-size", 1, LIMITS.batchSize),
  /** Seeded permutation instead of in-order windows. Default false. */
  shuffle: z.boolean().default(false),
  /** Shuffle seed. Default 0. */
  seed: integerFlag("seed", 0, 2 ** 32 - 1).default(0),
  /** Drop a last partial batch (the notebook's `drop_last=True`). Default true. */
  dropLast: z.boolean().default(true),
  /** Newline handling when reading. Default `"lf"`. */
  newline: newlineFlag.default("lf"),
  /** Tokenizer registry name. Default `"gpt2"` (unless `tokenizer` is given). */
  encoding: stringFlag("encoding").optional(),
  /** A tokenizer file saved by `tfgpt train-tokenizer`, instead of `encoding`. */
  tokenizer: stringFlag("tokenizer").optional(),
  /** Print `{"inputs": [[...]], "targets": [[...]]}`. Default false. */
  json: z.boolean().default(false),
});
export type BatchesConfig = z.output<typeof BatchesConfigSchema>;

/** The first batch as nested arrays, rows of `maxLength` ids. */
export interface BatchRows {
  readonly inputs: number[][];
  readonly targets: number[][];
}

function rows(flat: Int32Array, width: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(Array.from(flat.subarray(i, i + width)));
  return out;
}

/**
 * The first batch for `config`, as nested arrays.
 *
 * @throws the datasets' `DatasetError` (text too short, no full batch with drop-last) or the
 *   tokenizers' `TokenizerError` (unknown encoding), and `CliError` for an unreadable file.
 */
export async function firstBatch(config: BatchesConfig): Promise<BatchRows & { windows: number; batches: number }> {
  const tokenizer = tokenizerFromFlags(config);
  const windows = { maxLength: config.maxLength, stride: config.stride };
  // A .bin shard or a directory of shards (tfgpt prepare) is read as tokens, validated first.
  const shards = (await isShardInput(config.file)) ? await openShardInput(config.file, tokenizer.vocabSize, "train") : undefined;
  const dataset: GPTDataset<TokenSource> = shards
    ? new GPTDataset(shards, windows)
    : GPTDataset.fromText(await readTextFile(config.file, config.newline), tokenizer, windows);
  const loader = new DataLoader(dataset, {
    batchSize: config.batchSize,
    shuffle: config.shuffle,
    seed: config.seed,
    dropLast: config.dropLast,
  });
  const batch = loader.nextBatch();
  return {
    inputs: rows(batch.inputs, batch.maxLength),
    targets: rows(batch.targets, batch.maxLength),
    windows: dataset.length,
    batches: loader.numBatches,
  };
}

/** Prints the first batch (`--json`: `{"inputs": [[...]], "targets": [[...]]}`). */
export async function runBatches(config: BatchesConfig, io: CommandIO): Promise<void> {
  const batch = await firstBatch(config);
  if (config.json) {
    io.stdout.write(`${JSON.stringify({ inputs: batch.inputs, targets: batch.targets })}\n`);
    return;
  }
  const show = (name: string, r: number[][]) => `${name}:\n${r.map((row) => `  [${row.join(", ")}]`).join("\n")}\n`;
  io.stdout.write(
    `${batch.windows} windows, ${batch.batches} batches of ${config.batchSize}; first batch:\n` +
      show("inputs", batch.inputs) +
      show("targets", batch.targets),
  );
}
