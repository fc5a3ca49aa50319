/**
 * Registers the o200k_base rank data (from js-tiktoken) so that `getTokenizer("o200k_base")` works
 * synchronously. Import it for its side effect, with `@tfgpt/tokenizers/core`:
 * `import "@tfgpt/tokenizers/encodings/o200k_base";`
 */
import data from "js-tiktoken/ranks/o200k_base";
import { registerTiktokenRanks } from "../tiktoken.js";

registerTiktokenRanks("o200k_base", data);
