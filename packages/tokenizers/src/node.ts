/**
 * Node-only entry of `@tfgpt/tokenizers` (`@tfgpt/tokenizers/node`): reading text and tokenizer
 * files, and encoding on worker threads. It exports only what needs Node (the rest comes from
 * `@tfgpt/tokenizers`, one import more, rather than the whole browser API a second time), and
 * importing it gives `getTokenizer("bpe", { path })` its file reader (`readBpeModel`, registered
 * once, here, in the registry) and registers the five tiktoken encodings (for the worker pool).
 */
import "./encodings/all.js";
import { enableBpeFileReading } from "./registry.js";
import { readBpeModel } from "./tokenizer-files-node.js";

export { readText, readTextSync, type InvalidUtf8Report, type ReadTextOptions } from "./read-text.js";
export { loadTokenizer, readBpeModel, saveTokenizer } from "./tokenizer-files-node.js";
export { encodeBatch, encodeFile, encodeParallel, ParallelEncoder, type EncodeFileOptions, type ParallelEncoderOptions } from "./worker-pool.js";
export { findSafeCuts } from "./cut-safety.js";

enableBpeFileReading(readBpeModel);
