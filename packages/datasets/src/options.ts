/**
 * The public options objects of `@tfgpt/datasets`, one zod schema each, with their TypeScript
 * types inferred from the schemas. A bad value throws `DatasetError` naming the option, the value
 * received and what is allowed.
 */
import { bool, nonNegativeInt, oneOf, parseOptions as parseWith, positiveInt } from "@tfgpt/common";
import { z } from "zod";
import type { Tokenizer } from "@tfgpt/tokenizers";
import { DatasetError } from "./errors.js";

const seed = nonNegativeInt("a non-negative safe integer");

/**
 * Options of `GPTDataset` (the book's `GPTDatasetV1(txt, tokenizer, max_length, stride)`).
 *
 * - `maxLength`: tokens per training window (the context length). Required, a positive integer.
 * - `stride`: tokens between the starts of consecutive windows; `stride === maxLength` gives
 *   non-overlapping windows, `stride < maxLength` overlapping ones. Required, a positive integer.
 *
 * @example
 * ```ts
 * const options = GPTDatasetOptionsSchema.parse({ maxLength: 4, stride: 1 });
 * ```
 */
export const GPTDatasetOptionsSchema = z.strictObject({
  maxLength: positiveInt(),
  stride: positiveInt(),
});
/** `GPTDataset` options as given: `{maxLength, stride}`. */
export type GPTDatasetOptions = z.input<typeof GPTDatasetOptionsSchema>;
/** `GPTDataset` options after validation. */
export type ResolvedGPTDatasetOptions = z.output<typeof GPTDatasetOptionsSchema>;

/** Which special tokens `encode` may turn into their ids (the tokenizer's `allowedSpecial`). */
export const AllowedSpecialSchema = z.union([z.literal("all"), z.array(z.string()).readonly()], {
  error: 'must be "all" or an array of special-token strings',
});

/**
 * Options of `GPTDataset.fromText`: the dataset options plus how the text is encoded.
 *
 * - `allowedSpecial`: special tokens encoded as their single id when they occur in the text.
 *   Default: `["<|endoftext|>"]` when the tokenizer has that token (as the book's
 *   `GPTDatasetV1` does), otherwise none.
 */
export const FromTextOptionsSchema = GPTDatasetOptionsSchema.extend({
  allowedSpecial: AllowedSpecialSchema.optional(),
});
/** `GPTDataset.fromText` options as given: `{maxLength, stride, allowedSpecial?}`. */
export type FromTextOptions = z.input<typeof FromTextOptionsSchema>;

const dataLoaderShape = {
  batchSize: positiveInt().default(1),
  shuffle: bool().default(false),
  seed: seed.default(0),
  dropLast: bool().default(false),
  rank: nonNegativeInt().default(0),
  worldSize: positiveInt().default(1),
};

/** `rank` must be below `worldSize`; checked on the object since it involves both fields. */
function checkRank(value: { rank: number; worldSize: number }, ctx: z.RefinementCtx): void {
  if (value.rank >= value.worldSize) {
    ctx.addIssue({
      code: "custom",
      path: ["rank"],
      input: value.rank,
      message: `must be an integer in [0, ${value.worldSize}) (below \`worldSize\`)`,
    });
  }
}

/**
 * Options of `DataLoader` (PyTorch's `DataLoader` + `DistributedSampler` semantics).
 *
 * - `batchSize`: windows per batch. Default 1.
 * - `shuffle`: a fresh seeded permutation of the windows every epoch. Default `false` (in order).
 * - `seed`: the permutation seed; the same seed gives the same batches. Default 0.
 * - `dropLast`: drop the last batch of an epoch when it has fewer than `batchSize` windows.
 *   Default `false` (kept).
 * - `rank`, `worldSize`: this worker's share of every epoch for data-parallel training: worker
 *   `rank` of `worldSize` gets every `worldSize`-th window of the epoch's order, so the workers'
 *   shares are disjoint and together cover every window once. Defaults 0 and 1.
 *
 * @example
 * ```ts
 * const options = DataLoaderOptionsSchema.parse({ batchSize: 8, shuffle: true, seed: 1 });
 * ```
 */
export const DataLoaderOptionsSchema = z.strictObject(dataLoaderShape).superRefine(checkRank);
/** `DataLoader` options as given; every field optional. */
export type DataLoaderOptions = z.input<typeof DataLoaderOptionsSchema>;
/** `DataLoader` options with defaults filled in. */
export type ResolvedDataLoaderOptions = z.output<typeof DataLoaderOptionsSchema>;

function isTokenizer(value: unknown): value is Tokenizer {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Partial<Tokenizer>;
  return typeof t.encode === "function" && typeof t.vocabSize === "number";
}

/** A `Tokenizer` instance, or the name of one in the `@tfgpt/tokenizers` registry. */
export const TokenizerChoiceSchema = z.union([z.string().min(1), z.custom<Tokenizer>(isTokenizer)], {
  error: 'must be a Tokenizer or a registry name such as "gpt2"',
});

/**
 * Options of `createDataLoader(text, options)`: the book's
 * `create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True,
 * drop_last=True)` with its defaults.
 *
 * - `batchSize`: default 4. `maxLength`: default 256. `stride`: default 128.
 * - `shuffle`: default `true`. `dropLast`: default `true`. `seed`: default 0.
 * - `rank`, `worldSize`: defaults 0 and 1 (see `DataLoaderOptionsSchema`).
 * - `tokenizer`: a `Tokenizer`, or a registry name for `getTokenizer`. Default `"gpt2"`.
 * - `allowedSpecial`: default `["<|endoftext|>"]` (as the book's `GPTDatasetV1`), dropped when the
 *   tokenizer has no such token.
 *
 * @example
 * ```ts
 * const options = CreateDataLoaderOptionsSchema.parse({ maxLength: 4, stride: 4, batchSize: 8, shuffle: false });
 * ```
 */
export const CreateDataLoaderOptionsSchema = z
  .strictObject({
    ...dataLoaderShape,
    batchSize: positiveInt().default(4),
    maxLength: positiveInt().default(256),
    stride: positiveInt().default(128),
    shuffle: bool().default(true),
    dropLast: bool().default(true),
    tokenizer: TokenizerChoiceSchema.default("gpt2"),
    allowedSpecial: AllowedSpecialSchema.optional(),
  })
  .superRefine(checkRank);
/** `createDataLoader` options as given; every field optional. */
export type CreateDataLoaderOptions = z.input<typeof CreateDataLoaderOptionsSchema>;
/** `createDataLoader` options with the book's defaults filled in. */
export type ResolvedCreateDataLoaderOptions = z.output<typeof CreateDataLoaderOptionsSchema>;

/**
 * Validates `value` against `schema`, resolving defaults (`undefined` is read as `{}`); throws
 * `DatasetError` with the first problem found: the option, the value received and what is
 * allowed (`@tfgpt/common`'s `parseOptions`).
 *
 * @param schema One of this package's schemas.
 * @param value The options as given.
 * @param what Who is configured, e.g. `"DataLoader"`: "DataLoader has no option ...",
 *   "DataLoader options must be an object".
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  return parseWith(schema, value, { what, error: (message, option) => new DatasetError(message, option) });
}

/**
 * Options of `createDataLoaderFromFile` (`@tfgpt/datasets/node`): those of `createDataLoader`
 * plus how the file is read.
 *
 * - `newline`: `"lf"` (default) reads like Python's `open(path, encoding="utf-8").read()` (BOM
 *   kept, CRLF and CR turned into LF); `"keep"` keeps the text as stored.
 */
export const NewlineSchema = oneOf(["lf", "keep"]);
/** `createDataLoaderFromFile` options: `createDataLoader`'s plus `newline` (default `"lf"`). */
export type CreateDataLoaderFromFileOptions = CreateDataLoaderOptions & { newline?: z.input<typeof NewlineSchema> };
