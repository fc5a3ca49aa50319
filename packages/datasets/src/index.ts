/**
 * `@tfgpt/datasets`: GPT training windows over token ids and a seeded, resumable data loader.
 * Runs in Node and in browsers (no tfjs, no Node built-ins here; see `./tf` and `./node`).
 */
export { DatasetError } from "./errors.js";
export {
  AllowedSpecialSchema,
  CreateDataLoaderOptionsSchema,
  DataLoaderOptionsSchema,
  FromTextOptionsSchema,
  GPTDatasetOptionsSchema,
  NewlineSchema,
  TokenizerChoiceSchema,
  type CreateDataLoaderOptions,
  type CreateDataLoaderFromFileOptions,
  type DataLoaderOptions,
  type FromTextOptions,
  type GPTDatasetOptions,
  type ResolvedCreateDataLoaderOptions,
  type ResolvedDataLoaderOptions,
  type ResolvedGPTDatasetOptions,
} from "./options.js";
export { TokenStore, type TokenArray, type TokenSource, type TokenStoreOptions } from "./token-store.js";
export { GPTDataset, type GPTWindow } from "./gpt-dataset.js";
export { Sampler, permutation, mulberry32, type SamplerOptions } from "./sampler.js";
export { DataLoader, DataLoaderStateSchema, type Batch, type DataLoaderState } from "./data-loader.js";
export { createDataLoader } from "./create-data-loader.js";
export {
  SHARD_HEADER_BYTES,
  SHARD_HEADER_INTS,
  SHARD_MAGIC,
  SHARD_MAGIC_UINT32,
  checkShardIds,
  decodeShard,
  encodeShard,
  encodeShardHeader,
  nanoGptHeader,
  parseShardHeader,
  shardFileName,
  shardSplitOf,
  shardVersionFor,
  type ShardFormat,
  type ShardHeader,
  type ShardHeaderVersion,
  type ShardVersion,
} from "./shards.js";
export {
  MemoryShardSource,
  ShardedTokenStore,
  ShardedTokenStoreOptionsSchema,
  type ShardSource,
  type ShardedTokenStoreOptions,
} from "./shard-store.js";
export {
  ExampleLoader,
  ExampleLoaderOptionsSchema,
  ExampleLoaderStateSchema,
  type ExampleLoaderOptions,
  type ExampleLoaderState,
} from "./example-loader.js";
export { lengthBucketedBatches, paddingOf, type LengthBucketOptions } from "./length-buckets.js";
export {
  LabelledParseOptionsSchema,
  LabelledTextDataset,
  LabelledTextOptionsSchema,
  balanceRows,
  endOfTextId,
  labelledFormatOf,
  parseLabelledText,
  type LabelledBatch,
  type LabelledFormat,
  type LabelledParseOptions,
  type LabelledRow,
  type LabelledTextOptions,
} from "./labelled-text.js";
export {
  CollateOptionsSchema,
  IGNORE_INDEX,
  InstructionDataset,
  InstructionDatasetOptionsSchema,
  collateInstructions,
  formatExample,
  formatInput,
  parseInstructionJson,
  type CollateOptions,
  type InstructionBatch,
  type InstructionDatasetOptions,
  type InstructionEntry,
} from "./instruction.js";
