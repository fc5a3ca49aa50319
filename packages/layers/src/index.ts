/**
 * `@tfgpt/layers`: tfjs layers for GPT models that train fast on every backend (cpu, wasm,
 * webgl, tfjs-node): `TokenEmbedding` (also the tied output head), `PositionalEmbedding`,
 * `TokenAndPositionEmbedding`, `CausalSelfAttention`, `TransformerBlock`, `LayerNorm`, a whole
 * GPT (`createGPT`), a from-logits cross-entropy and `generate`. Browser-safe (with the browser's
 * backend choice, `selectBrowserBackend`); file IO and Node's backend selection live in
 * `@tfgpt/layers/node`.
 *
 * Exported, like tfjs-layers and keras-hub: the layers, the GPT model and its config/presets,
 * training (AdamW, Trainer, losses, batch tensors), generation, LoRA, pretrained weights and the
 * classifier, plus the types of what they take and return. Not exported: the zod schemas of
 * options (each constructor and function validates its own; the option types are exported),
 * kernels and their helpers (`matMul`, `HeadKernel`, `checkIds`, the KV cache), the weight-file
 * codecs (safetensors, TF bundle) and the progress bar. Our own CLI, benchmarks and tests reach
 * the few they need through `@tfgpt/layers/internal` (not covered by semver). See the README's
 * "API"; the repository's `test/exports.test.ts` pins the names (`test/public-api.json`).
 */
import "./register.js";

export { LayerConfigError } from "./errors.js";
export { AdamW, adamW, type AdamWOptions } from "./adamw.js";
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
export { memoryCheckpoint, type MemoryCheckpoint } from "./checkpoint-memory.js";
export { BROWSER_BACKEND_NAMES, selectBrowserBackend, type BrowserBackendName, type BrowserBackendSelection, type SelectBrowserBackendOptions } from "./browser-backend.js";
export type { Initializer, InitializerSpec, SerializedInitializer } from "./initializers.js";
export { idsTensor, targetsTensor } from "./id-range.js";
export { TokenEmbedding, type TokenEmbeddingArgs } from "./token-embedding.js";
export { PositionalEmbedding, type PositionalEmbeddingArgs, type PositionKind } from "./positional-embedding.js";
export { TokenAndPositionEmbedding, type TokenAndPositionEmbeddingArgs } from "./token-and-position-embedding.js";
export { LayerNorm, type LayerNormArgs } from "./layer-norm.js";
export { CausalSelfAttention, type AttentionWeights, type CausalSelfAttentionArgs } from "./attention.js";
export { TransformerBlock, type TransformerBlockArgs } from "./transformer-block.js";
export {
  contextLengthOf,
  type CreateGPTOptions,
  countParams,
  createGPT,
  GPT_PRESETS,
  parseGPTConfig,
  type GPTConfig,
  type GPTConfigInput,
  type GPTPresetName,
} from "./gpt.js";
export { referenceForward, referenceLoss } from "./reference-gpt.js";
export { GPTModel, type ParamSplit } from "./gpt-model.js";
export type { BlockLoRA, LoRAKernel, LoRAWeights, Projection } from "./lora-linear.js";
export {
  applyLoRA,
  DEFAULT_LORA_TARGETS,
  freezeBase,
  hasLoRA,
  loadAdapters,
  loraParamCounts,
  mergeLoRA,
  toAdapterFiles,
  trainableParamCounts,
  type AdapterConfig,
  type BaseIdentity,
  type LoRAOptions,
  type LoRAParamCounts,
} from "./lora.js";
export type { HeadImplementation } from "./head-cross-entropy.js";
export { maskedCrossEntropy, perplexity, perplexityOf, sparseCrossEntropyFromLogits, type CrossEntropyOptions } from "./losses.js";
export { generate, generateAsync, GenerateOptionsSchema, type GenerateOptions } from "./generate.js";
export { blobSource, bufferSource, type ByteSource } from "./safetensors.js";
export {
  fromPretrained,
  gptConfigFromHF,
  gptConfigOfModel,
  hfConfigFromGPT,
  loadPretrained,
  toPretrainedFiles,
  type CheckpointShard,
  type FromPretrainedOptions,
  type HFConfigOptions,
  type PretrainedConfig,
  type PretrainedSource,
} from "./pretrained.js";
export { tensorBundleFromBuffers, type BundleDataSource, type TensorBundle } from "./tensor-bundle.js";
export { loadOpenAIGPT2, parseOpenAIHParams, type OpenAIHParams } from "./openai-gpt2.js";
export { classificationAccuracy, classificationLoss, createClassifier, LastToken, type ClassifierOptions } from "./classifier.js";
