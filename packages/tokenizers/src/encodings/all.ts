/** Registers all five tiktoken encodings (what the main entry `@tfgpt/tokenizers` does). */
import "./gpt2.js";
import "./r50k_base.js";
import "./p50k_base.js";
import "./cl100k_base.js";
import "./o200k_base.js";
