/** The exports shared by `@tfgpt/tokenizers` (which also registers all five encodings) and `@tfgpt/tokenizers/core`. */
export type { EncodeOptions, SpecialTokenSet, Tokenizer, TokenizerSpec } from "./tokenizer.js";
export { TokenizerError } from "./errors.js";
export { getTokenizer, listTokenizers, registerTokenizer, type TokenizerFactory } from "./registry.js";
export { BpeCore, bpeCoreOptionsSchema, type BpeCoreArgs } from "./bpe-core.js";
export { BpeTokenizer, type BpeTokenizerArgs } from "./bpe-tokenizer.js";
export {
  getTiktoken,
  isTiktokenEncoding,
  isTiktokenLoaded,
  parseTiktokenRanks,
  registerTiktokenRanks,
  TIKTOKEN_ENCODINGS,
  type TiktokenEncodingName,
} from "./tiktoken.js";
export type { TiktokenRankData } from "./tiktoken-encoding.js";
export { encodeOptionsSchema } from "./special-tokens.js";
export {
  CL100K_PATTERN,
  GPT2_PATTERN,
  JS_TIKTOKEN_CL100K_PATTERN,
  JS_TIKTOKEN_O200K_PATTERN,
  O200K_PATTERN,
  R50K_PATTERN,
} from "./pretokenizer.js";
export { TIKTOKEN_PATTERNS } from "./tiktoken-encoding.js";
export { encodingForModel, encodingNameForModel } from "./models.js";
export { compileTiktokenRegex, tiktokenRegexSource } from "./tiktoken-regex.js";
export { UNICODE_VERSION } from "./unicode.js";
export {
  trainBpe,
  trainBpeOptionsSchema,
  type BpeModel,
  type BpeTrainProgress,
  type BpeTrainStats,
  type TrainBpeOptions,
  type TrainedBpe,
} from "./bpe-trainer.js";
export {
  bpeModelOf,
  bpeTokenizerOptionsSchema,
  createBpeTokenizer,
  formatRankFile,
  formatRankFileMeta,
  fromHuggingFaceJson,
  parseRankFile,
  parseRankFileMeta,
  rankFileMetaSchema,
  setTokenizerFileReader,
  toHuggingFaceJson,
  type BpeTokenizerOptions,
  type CreateBpeTokenizerOptions,
  type RankFileMeta,
  type TokenizerFileReader,
} from "./tokenizer-files.js";
export { SimpleTokenizerV2, simpleSplit, simpleTokenizerOptionsSchema, SIMPLE_SPECIAL_TOKENS, type SimpleTokenizerOptions } from "./simple.js";
export { ByteTokenizer, BYTE_END_OF_TEXT } from "./byte.js";
