/**
 * `@tfgpt/datasets`: GPT training windows over token ids and a seeded, resumable data loader.
 * Runs in Node and in browsers (no tfjs, no Node built-ins here; see `./tf` and `./node`).
 *
 * Exported: what a user builds, calls or catches, and the schemas of the states a user saves and
 * restores. Not exported: the options schemas (each constructor validates its own options; the
 * option types are exported), the shard byte codec (`ShardWriter` / `openShards` in `./node` and
 * `ShardedTokenStore` use it), the seeded PRNG. See the README's "API"; the repository's
 * `test/exports.test.ts` pins the names (`test/public-api.json`).
 */
export { DatasetError } from "./errors.js";
export type {
  CreateDataLoaderFromFileOptions,
  CreateDataLoaderOptions,
  DataLoaderOptions,
  FromTextOptions,
  GPTDatasetOptions,
  ResolvedCreateDataLoaderOptions,
  ResolvedDataLoaderOptions,
  ResolvedGPTDatasetOptions,
} from "./options.js";
/** The DataLoader's option schema, for validating user input (a page's form) with the library's rules and messages. */
export { DataLoaderOptionsSchema } from "./options.js";
export { TokenStore, type TokenArray, type TokenSource, type TokenStoreOptions } from "./token-store.js";
export { GPTDataset, type GPTWindow } from "./gpt-dataset.js";
export { permutation } from "./sampler.js";
export { DataLoader, DataLoaderStateSchema, type Batch, type DataLoaderState } from "./data-loader.js";
export { createDataLoader } from "./create-data-loader.js";
export type { ShardFormat, ShardHeader, ShardHeaderVersion, ShardVersion } from "./shards.js";
export { MemoryShardSource, ShardedTokenStore, type ShardSource, type ShardedTokenStoreOptions } from "./shard-store.js";
export { ExampleLoader, ExampleLoaderStateSchema, type ExampleLoaderOptions, type ExampleLoaderState } from "./example-loader.js";
export { lengthBucketedBatches, paddingOf, type LengthBucketOptions } from "./length-buckets.js";
export {
  LabelledTextDataset,
  balanceRows,
  parseLabelledText,
  type LabelledBatch,
  type LabelledFormat,
  type LabelledParseOptions,
  type LabelledRow,
  type LabelledTextOptions,
} from "./labelled-text.js";
export {
  IGNORE_INDEX,
  InstructionDataset,
  collateInstructions,
  formatExample,
  formatInput,
  parseInstructionJson,
  type CollateOptions,
  type InstructionBatch,
  type InstructionDatasetOptions,
  type InstructionEntry,
} from "./instruction.js";
