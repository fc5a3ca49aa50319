/**
 * `@tfgpt/layers`: tfjs layers for GPT models that train fast on every backend (cpu, wasm,
 * webgl, tfjs-node): `TokenEmbedding` (also the tied output head), `PositionalEmbedding`,
 * `TokenAndPositionEmbedding`, `CausalSelfAttention`, `TransformerBlock`, `LayerNorm`, a whole
 * GPT (`createGPT`), a from-logits cross-entropy and `generate`. Browser-safe; file IO and
 * backend selection live in `@tfgpt/layers/node`.
 */
import "./register.js";

export { LayerConfigError } from "./errors.js";
export { AdamW, adamW, AdamWOptionsSchema, type AdamWOptions } from "./adamw.js";
export {
  learningRateAt,
  TRAINER_DEFAULTS,
  Trainer,
  TrainerOptionsSchema,
  type CheckpointIO,
  type ResolvedTrainerOptions,
  type TrainBatch,
  type TrainerCallbacks,
  type TrainerCheckpoint,
  type TrainerLoss,
  type TrainerOptions,
  type TrainerState,
} from "./trainer.js";
export { mixSeeds, nextDropoutSeed, withDropoutSeed } from "./dropout-seed.js";
export { missingTrainingInternals, TFJS_CHECKED_VERSION } from "./tfjs-training-internals.js";
export { memoryCheckpoint, type MemoryCheckpoint } from "./checkpoint-memory.js";
export { formatDuration, Progress, renderBar, type ProgressArgs, type ProgressStream } from "./progress.js";
export { type Initializer, type InitializerSpec, type SerializedInitializer } from "./initializers.js";
export { matMul, matMulTransposedB } from "./matmul.js";
export { idRangeOf, idsTensor, recordedIdRange, recordIdRange, targetsTensor, type IdRange } from "./id-range.js";
export { checkIds, embeddingLookup, TokenEmbedding, TokenEmbeddingOptions, type TokenEmbeddingArgs } from "./token-embedding.js";
export {
  PositionalEmbedding,
  PositionalEmbeddingOptions,
  sinusoidalTable,
  type PositionalEmbeddingArgs,
  type PositionKind,
} from "./positional-embedding.js";
export {
  TokenAndPositionEmbedding,
  TokenAndPositionEmbeddingOptions,
  type TokenAndPositionEmbeddingArgs,
} from "./token-and-position-embedding.js";
export { LayerNorm, LayerNormOptions, type LayerNormArgs } from "./layer-norm.js";
export { AttentionOptions, CausalSelfAttention, causalSelfAttention, type AttentionWeights, type CausalSelfAttentionArgs } from "./attention.js";
export { TransformerBlock, TransformerBlockOptions, type TransformerBlockArgs } from "./transformer-block.js";
export {
  contextLengthOf,
  type CreateGPTOptions,
  countParams,
  createGPT,
  GPT_PRESETS,
  GPTConfigSchema,
  parseGPTConfig,
  type GPTConfig,
  type GPTConfigInput,
  type GPTPresetName,
} from "./gpt.js";
export { checkWasmTrainingMemory, GPTModel, paramSplit, trainingStateBytes, WASM_TRAINING_STATE_LIMIT, type ParamSplit } from "./gpt-model.js";
export {
  adapterWeightNames,
  BlockLoRASchema,
  frozenLinear,
  isLoRAWeightName,
  LORA_KERNELS,
  loraAInitializer,
  loraKernelShape,
  project,
  type BlockLoRA,
  type LoRAKernel,
  type LoRAWeights,
  type Projection,
} from "./lora-linear.js";
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  AdapterConfigSchema,
  applyLoRA,
  baseIdentity,
  DEFAULT_LORA_TARGETS,
  freezeBase,
  hasLoRA,
  loadAdapters,
  LoRAOptionsSchema,
  loraParamCounts,
  mergeLoRA,
  resolveLoRATargets,
  toAdapterFiles,
  trainableParamCounts,
  type AdapterConfig,
  type BaseIdentity,
  type LoRAOptions,
  type LoRAParamCounts,
} from "./lora.js";
export { HEAD_IMPLEMENTATIONS, headCrossEntropy, usesHeadKernel, type HeadImplementation } from "./head-cross-entropy.js";
export { HeadKernel, headKernel, HeadKernelOptions, headKernelSupported, type HeadForward } from "./head-kernel.js";
export { maskedCrossEntropy, perplexity, perplexityOf, sparseCrossEntropyFromLogits, type CrossEntropyOptions } from "./losses.js";
export { generate, generateAsync, GenerateOptionsSchema, type GenerateOptions } from "./generate.js";
export { KVCacheDecoder, supportsKVCache } from "./kv-cache.js";
export {
  blobSource,
  bufferSource,
  decodeTensor,
  DECODABLE_DTYPES,
  encodeSafetensors,
  readSafetensorsHeader,
  readTensor,
  SAFETENSORS_DTYPE_BYTES,
  type ByteSource,
  type NamedTensorData,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from "./safetensors.js";
export {
  checkBackendCapacity,
  fromPretrained,
  gpt2WeightTable,
  gptConfigFromHF,
  gptConfigOfModel,
  hfConfigFromGPT,
  HF_CONFIG_FILE,
  HF_INDEX_FILE,
  HF_WEIGHTS_FILE,
  loadPretrained,
  locateWeights,
  toPretrainedFiles,
  WASM_WEIGHTS_LIMIT,
  weightsByPath,
  type CheckpointShard,
  type FromPretrainedOptions,
  type HFConfigOptions,
  type PretrainedConfig,
  type PretrainedSource,
  type WeightMapping,
} from "./pretrained.js";
export {
  bundleShardName,
  parseBundleIndex,
  TensorBundle,
  tensorBundleFromBuffers,
  type BundleDataSource,
  type BundleDType,
  type BundleEntry,
  type BundleIndex,
} from "./tensor-bundle.js";
export {
  configFromOpenAIHParams,
  OpenAIHParamsSchema,
  checkOpenAIGPT2Variables,
  loadOpenAIGPT2,
  openAIGPT2Variables,
  parseOpenAIHParams,
  type OpenAIHParams,
} from "./openai-gpt2.js";
export { ClassifierOptions, LastToken, classificationAccuracy, classificationLoss, createClassifier, type ClassifierOptionsInput } from "./classifier.js";
