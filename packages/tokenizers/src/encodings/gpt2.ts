/**
 * Registers the gpt2 rank data (from js-tiktoken) so that `getTokenizer("gpt2")` works
 * synchronously. Import it for its side effect, with `@tfgpt/tokenizers/core`:
 * `import "@tfgpt/tokenizers/encodings/gpt2";`
 */
import data from "js-tiktoken/ranks/gpt2";
import { registerTiktokenRanks } from "../tiktoken.js";

registerTiktokenRanks("gpt2", data);
