/**
 * `@tfgpt/tokenizers/core`: everything of the main entry except the tiktoken rank tables (several
 * MB): import `@tfgpt/tokenizers/encodings/<name>` for the encodings a page uses (then
 * `getTokenizer(name)` is synchronous), or `await loadTiktoken(name)` (a separate chunk each).
 * Browser-safe.
 *
 * @example
 * ```ts
 * import { getTokenizer } from "@tfgpt/tokenizers/core";
 * import "@tfgpt/tokenizers/encodings/gpt2";
 * getTokenizer("gpt2").encode("hello world"); // [31373, 995]
 * ```
 */
export * from "./api.js";
export { loadTiktoken } from "./load-tiktoken.js";
