/**
 * `@tfgpt/layers/node`: the Node-only part of the package (backend selection, multi-threaded
 * wasm), kept out of the main entry so that it runs in a browser.
 */
export {
  BACKEND_NAMES,
  BackendUnavailableError,
  selectBackend,
  SelectBackendOptionsSchema,
  type SelectBackendOptions,
  type BackendName,
  type BackendSelection,
  tensorflowInstallHint,
  type SkippedBackend,
  type TensorflowInfo,
} from "./backend.js";
export {
  getThreadsCount,
  MAX_WASM_THREADS,
  setWasmBackend,
  WasmBackendOptionsSchema,
  type WasmBackendOptions,
  type WasmBackendResult,
} from "./wasm-threads.js";
export { directoryHandler, loadModelFromDir, saveModelToDir } from "./model-files.js";
export { checkpointPrefix, openTensorBundle } from "./tensor-bundle-node.js";
export { enableHeadKernelThreads, HeadKernelThreadsOptionsSchema, type HeadKernelThreadsOptions } from "./head-kernel-node.js";
export {
  fileSource,
  fromPretrained,
  isOpenAIGPT2Dir,
  isPretrainedDir,
  OPENAI_HPARAMS_FILE,
  pretrainedGPTConfig,
  readPretrainedConfig,
  savePretrained,
  type SavePretrainedOptions,
} from "./pretrained-node.js";
export { loadAdapters, saveAdapters } from "./lora-node.js";
export {
  CHECKPOINT_FILES,
  checkpointDirectory,
  type CheckpointDirectoryOptions,
  checkpointName,
  LATEST_FILE,
  readCheckpointFiles,
  resolveCheckpoint,
  writeCheckpointFiles,
  writeDirAtomic,
} from "./checkpoint-node.js";
export { progressCallback, type ProgressCallbackOptions } from "./progress-callback-node.js";
