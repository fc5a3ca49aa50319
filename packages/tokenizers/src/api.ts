/**
 * The public API shared by `@tfgpt/tokenizers` (which also registers all five encodings) and
 * `@tfgpt/tokenizers/core`. What is here is what a user calls, passes or catches; the engine
 * (`BpeCore`), the options schemas (each function validates its own options; their types are
 * exported), the tiktoken rank codec and regex compiler stay internal (see the README's "API").
 * the repository's `test/exports.test.ts` pins the names (`test/public-api.json`).
 */
export type { EncodeOptions, SpecialTokenSet, Tokenizer, TokenizerSpec } from "./tokenizer.js";
export { TokenizerError } from "./errors.js";
export { getTokenizer, listTokenizers, registerTokenizer, type TokenizerFactory } from "./registry.js";
export { BpeTokenizer } from "./bpe-tokenizer.js";
export { isTiktokenLoaded, TIKTOKEN_ENCODINGS, type TiktokenEncodingName } from "./tiktoken.js";
export { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN, R50K_PATTERN } from "./pretokenizer.js";
export { encodingForModel, encodingNameForModel } from "./models.js";
export type { BpeModel } from "./bpe-model.js";
export { trainBpe, type BpeTrainProgress, type BpeTrainStats, type TrainBpeOptions, type TrainedBpe } from "./bpe-trainer.js";
export { bpeModelOf, createBpeTokenizer, type BpeTokenizerOptions, type CreateBpeTokenizerOptions } from "./bpe-factory.js";
export { formatRankFile, parseRankFile } from "./rank-file.js";
export { fromHuggingFaceJson, toHuggingFaceJson } from "./hf-tokenizer-json.js";
export { SimpleTokenizerV2, SIMPLE_SPECIAL_TOKENS, type SimpleTokenizerOptions } from "./simple.js";
export { ByteTokenizer, BYTE_END_OF_TEXT } from "./byte.js";
