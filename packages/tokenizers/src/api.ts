/** The exports shared by `@tfgpt/tokenizers` (which also registers all five encodings) and `@tfgpt/tokenizers/core`. */
export type { EncodeOptions, SpecialTokenSet, Tokenizer, TokenizerSpec } from "./tokenizer.js";
export { TokenizerError } from "./errors.js";
export { getTokenizer, listTokenizers, registerTokenizer, type TokenizerFactory } from "./registry.js";
export { BpeCore, BpeCoreOptionsSchema, type BpeCoreArgs } from "./bpe-core.js";
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
export { EncodeOptionsSchema } from "./special-tokens.js";
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
  TrainBpeOptionsSchema,
  type BpeModel,
  type BpeTrainProgress,
  type BpeTrainStats,
  type TrainBpeOptions,
  type TrainedBpe,
} from "./bpe-trainer.js";
export {
  bpeModelOf,
  BpeTokenizerOptionsSchema,
  createBpeTokenizer,
  formatRankFile,
  formatRankFileMeta,
  fromHuggingFaceJson,
  parseRankFile,
  parseRankFileMeta,
  RankFileMetaSchema,
  setTokenizerFileReader,
  toHuggingFaceJson,
  type BpeTokenizerOptions,
  type CreateBpeTokenizerOptions,
  type RankFileMeta,
  type TokenizerFileReader,
} from "./tokenizer-files.js";
export { SimpleTokenizerV2, simpleSplit, SimpleTokenizerOptionsSchema, SIMPLE_SPECIAL_TOKENS, type SimpleTokenizerOptions } from "./simple.js";
export { ByteTokenizer, BYTE_END_OF_TEXT } from "./byte.js";
