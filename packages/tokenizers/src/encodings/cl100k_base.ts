/**
 * Registers the cl100k_base rank data (from js-tiktoken) so that `getTokenizer("cl100k_base")` works
 * synchronously. Import it for its side effect, with `@tfgpt/tokenizers/core`:
 * `import "@tfgpt/tokenizers/encodings/cl100k_base";`
 */
import data from "js-tiktoken/ranks/cl100k_base";
import { registerTiktokenRanks } from "../tiktoken.js";

registerTiktokenRanks("cl100k_base", data);
