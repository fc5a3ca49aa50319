/**
 * Loading a tiktoken encoding's ranks on demand (a separate chunk per encoding in bundlers).
 * Exported by `@tfgpt/tokenizers/core` only: the main entry has all five already, and a module
 * that both imports a rank table and loads it dynamically makes bundlers warn.
 */
import type { BpeTokenizer } from "./bpe-tokenizer.js";
import { getTiktoken, isTiktokenLoaded } from "./tiktoken.js";
import type { TiktokenEncodingName } from "./tiktoken-encoding.js";

/**
 * Loads the rank data of `name` on demand (a separate chunk in bundlers) and returns its
 * tokenizer; afterwards `getTokenizer(name)` works synchronously.
 *
 * @example
 * ```ts
 * import { loadTiktoken } from "@tfgpt/tokenizers/core";
 * const o200k = await loadTiktoken("o200k_base");
 * ```
 */
export async function loadTiktoken(name: TiktokenEncodingName): Promise<BpeTokenizer> {
  if (!isTiktokenLoaded(name)) {
    // One literal import per encoding, so that bundlers split each rank table into its own chunk.
    switch (name) {
      case "gpt2":
        await import("./encodings/gpt2.js");
        break;
      case "r50k_base":
        await import("./encodings/r50k_base.js");
        break;
      case "p50k_base":
        await import("./encodings/p50k_base.js");
        break;
      case "cl100k_base":
        await import("./encodings/cl100k_base.js");
        break;
      case "o200k_base":
        await import("./encodings/o200k_base.js");
        break;
      default:
        break;
    }
  }
  return getTiktoken(name);
}
