/**
 * `@tfgpt/tokenizers`: pluggable tokenizers behind one `Tokenizer` interface, with all five
 * tiktoken encodings registered (`getTokenizer("o200k_base")` is synchronous). Browser-safe: no
 * Node built-ins here (file reading lives in `@tfgpt/tokenizers/node`). A page that needs fewer
 * encodings imports `@tfgpt/tokenizers/core` plus `@tfgpt/tokenizers/encodings/<name>` (or calls
 * its `loadTiktoken`), and its bundle holds only those rank tables.
 */
export * from "./api.js";
import "./encodings/all.js";
