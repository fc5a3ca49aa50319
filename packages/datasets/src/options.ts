/**
 * The public options objects of `@tfgpt/datasets`, one zod schema each, with their TypeScript
 * types inferred from the schemas. A bad value throws `DatasetError` naming the option, the value
 * received and what is allowed.
 */
import { z } from "zod";
import type { Tokenizer } from "@tfgpt/tokenizers";
import { DatasetError, describeValue } from "./errors.js";

/** An integer >= `min`, with one message for every way of getting it wrong. */
function integerAtLeast(option: string, min: number, allowed: string) {
  const error = (issue: { input?: unknown }) =>
    `\`${option}\` must be ${allowed}, received ${describeValue(issue.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(Number.MAX_SAFE_INTEGER, { error });
}

function boolean(option: string) {
  return z.boolean({
    error: (issue) => `\`${option}\` must be true or false, received ${describeValue(issue.input)}`,
  });
}

/** A positive integer option: `` `stride` must be a positive integer, received 0 ``. */
export const positiveInteger = (option: string) => integerAtLeast(option, 1, "a positive integer");

const seed = integerAtLeast("seed", 0, "a non-negative safe integer");

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
  maxLength: positiveInteger("maxLength"),
  stride: positiveInteger("stride"),
});
/** `GPTDataset` options as given: `{maxLength, stride}`. */
export type GPTDatasetOptions = z.input<typeof GPTDatasetOptionsSchema>;
/** `GPTDataset` options after validation. */
export type ResolvedGPTDatasetOptions = z.output<typeof GPTDatasetOptionsSchema>;

/** Which special tokens `encode` may turn into their ids (the tokenizer's `allowedSpecial`). */
export const AllowedSpecialSchema = z.union([z.literal("all"), z.array(z.string()).readonly()], {
  error: (issue) =>
    `\`allowedSpecial\` must be "all" or an array of special-token strings, received ${describeValue(issue.input)}`,
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
  batchSize: positiveInteger("batchSize").default(1),
  shuffle: boolean("shuffle").default(false),
  seed: seed.default(0),
  dropLast: boolean("dropLast").default(false),
  rank: integerAtLeast("rank", 0, "a non-negative integer").default(0),
  worldSize: positiveInteger("worldSize").default(1),
};

/** `rank` must be below `worldSize`; checked on the object since it involves both fields. */
function checkRank(value: { rank: number; worldSize: number }, ctx: z.RefinementCtx): void {
  if (value.rank >= value.worldSize) {
    ctx.addIssue({
      code: "custom",
      path: ["rank"],
      input: value.rank,
      message: `\`rank\` must be an integer in [0, ${value.worldSize}) (below \`worldSize\`), received ${value.rank}`,
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
  error: (issue) =>
    `\`tokenizer\` must be a Tokenizer or a registry name such as "gpt2", received ${describeValue(issue.input)}`,
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
    batchSize: positiveInteger("batchSize").default(4),
    maxLength: positiveInteger("maxLength").default(256),
    stride: positiveInteger("stride").default(128),
    shuffle: boolean("shuffle").default(true),
    dropLast: boolean("dropLast").default(true),
    tokenizer: TokenizerChoiceSchema.default("gpt2"),
    allowedSpecial: AllowedSpecialSchema.optional(),
  })
  .superRefine(checkRank);
/** `createDataLoader` options as given; every field optional. */
export type CreateDataLoaderOptions = z.input<typeof CreateDataLoaderOptionsSchema>;
/** `createDataLoader` options with the book's defaults filled in. */
export type ResolvedCreateDataLoaderOptions = z.output<typeof CreateDataLoaderOptionsSchema>;

/**
 * Validates `value` against `schema`, resolving defaults; throws `DatasetError` with the first
 * problem found (the option, the value received and what is allowed).
 *
 * @param schema One of this module's schemas.
 * @param value The options as given (`undefined` is read as `{}`).
 * @param what Names the options object in messages, e.g. `"DataLoader options"`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new DatasetError(`invalid ${what}`);
  const option = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `\`${k}\``).join(", ");
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    const allowed = shape === undefined ? "" : ` (allowed: ${Object.keys(shape).join(", ")})`;
    throw new DatasetError(`unknown option ${keys} in ${what}${allowed}`, issue.keys[0]);
  }
  if (issue.path.length === 0) {
    throw new DatasetError(`${what} must be an object, received ${describeValue(value)}`);
  }
  throw new DatasetError(issue.message, option);
}

/**
 * Options of `createDataLoaderFromFile` (`@tfgpt/datasets/node`): those of `createDataLoader`
 * plus how the file is read.
 *
 * - `newline`: `"lf"` (default) reads like Python's `open(path, encoding="utf-8").read()` (BOM
 *   kept, CRLF and CR turned into LF); `"keep"` keeps the text as stored.
 */
export const NewlineSchema = z.enum(["lf", "keep"], {
  error: (issue) => `\`newline\` must be "lf" or "keep", received ${describeValue(issue.input)}`,
});
/** `createDataLoaderFromFile` options: `createDataLoader`'s plus `newline` (default `"lf"`). */
export type CreateDataLoaderFromFileOptions = CreateDataLoaderOptions & { newline?: z.input<typeof NewlineSchema> };
