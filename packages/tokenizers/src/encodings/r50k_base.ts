/**
 * Registers the r50k_base rank data (from js-tiktoken) so that `getTokenizer("r50k_base")` works
 * synchronously. Import it for its side effect, with `@tfgpt/tokenizers/core`:
 * `import "@tfgpt/tokenizers/encodings/r50k_base";`
 */
import data from "js-tiktoken/ranks/r50k_base";
import { registerTiktokenRanks } from "../tiktoken.js";

registerTiktokenRanks("r50k_base", data);
