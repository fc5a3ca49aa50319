/**
 * `@tfgpt/layers/node`: the Node-only part of the package (backend selection, multi-threaded
 * wasm, the threaded head kernel), model, checkpoint and pretrained files on disk; kept out of the
 * main entry so that it runs in a browser. Like the other packages' `/node` entries it exports
 * only what needs Node (the rest comes from
 * `@tfgpt/layers`). The repository's `test/exports.test.ts` pins the names (`test/public-api.json`).
 */
export { BACKEND_NAMES, BackendUnavailableError, selectBackend, tensorflowInstallHint, type BackendName, type BackendSelection, type SkippedBackend, type TensorflowInfo } from "./backend.js";
export { getThreadsCount, type WasmBackendResult } from "./wasm-threads.js";
export { directoryHandler, loadModelFromDir, saveModelToDir } from "./model-files.js";
export { openTensorBundle } from "./tensor-bundle-node.js";
export { enableHeadKernelThreads } from "./head-kernel-node.js";
export { fileSource, fromPretrained, isPretrainedDir, pretrainedGPTConfig, savePretrained, type SavePretrainedOptions } from "./pretrained-node.js";
export { loadAdapters, saveAdapters } from "./lora-node.js";
export {
  CHECKPOINT_FILES,
  checkpointDirectory,
  type CheckpointDirectoryOptions,
  checkpointName,
  LATEST_FILE,
  readCheckpointFiles,
  resolveCheckpoint,
} from "./checkpoint-node.js";
export { progressCallback, type ProgressCallbackOptions } from "./progress-callback-node.js";
