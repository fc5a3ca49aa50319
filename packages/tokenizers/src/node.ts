/**
 * Node-only entry of `@tfgpt/tokenizers` (`@tfgpt/tokenizers/node`): file reading. Re-exports the
 * browser-safe main entry so that Node users need one import.
 */
export * from "./index.js";
export { readText, readTextSync, ReadTextOptionsSchema, type InvalidUtf8Report, type ReadTextOptions } from "./read-text.js";
export { loadTokenizer, rankFileMetaPath, readBpeModel, saveTokenizer } from "./tokenizer-files-node.js";
export {
  encodeBatch,
  encodeFile,
  encodeParallel,
  findSafeCuts,
  ParallelEncoder,
  ParallelEncoderOptionsSchema,
  type EncodeFileOptions,
  type ParallelEncoderOptions,
} from "./parallel.js";
