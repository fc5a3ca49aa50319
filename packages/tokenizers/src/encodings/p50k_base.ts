/**
 * Registers the p50k_base rank data (from js-tiktoken) so that `getTokenizer("p50k_base")` works
 * synchronously. Import it for its side effect, with `@tfgpt/tokenizers/core`:
 * `import "@tfgpt/tokenizers/encodings/p50k_base";`
 */
import data from "js-tiktoken/ranks/p50k_base";
import { registerTiktokenRanks } from "../tiktoken.js";

registerTiktokenRanks("p50k_base", data);
