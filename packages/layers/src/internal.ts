/**
 * `@tfgpt/layers/internal`: helpers that our own CLI (`tfgpt`), benchmarks and tests use but a
 * user of the layers does not need. **Unstable: not covered by semver**; any release may change
 * or remove them. Browser-safe, like the main entry.
 */
export { formatDuration, Progress, renderBar, type ProgressArgs, type ProgressStream } from "./progress.js";
export { checkWasmTrainingMemory, paramSplit, trainingStateBytes, WASM_TRAINING_STATE_LIMIT } from "./gpt-model.js";
export { HEAD_IMPLEMENTATIONS, headCrossEntropy, usesHeadKernel } from "./head-cross-entropy.js";
export { crossEntropyGrad, gpuCrossEntropyBackend, rowLogSumExp, useGpuCrossEntropyKernels } from "./gpu-cross-entropy.js";
export { HeadKernel, headKernel, headKernelSupported, type HeadForward } from "./head-kernel.js";
export { matMul, matMulTransposedB } from "./matmul.js";
export { checkIds, embeddingLookup } from "./token-embedding.js";
export { idRangeOf, recordedIdRange, recordIdRange, type IdRange } from "./id-range.js";
export { KVCacheDecoder, supportsKVCache } from "./kv-cache.js";
export {
  decodeTensor,
  encodeSafetensors,
  readSafetensorsHeader,
  readTensor,
  type NamedTensorData,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from "./safetensors.js";
export { gpt2WeightTable, weightsByPath } from "./pretrained.js";
export { missingTrainingInternals, TFJS_CHECKED_VERSION } from "./tfjs-training-internals.js";
