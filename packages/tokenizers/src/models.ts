/**
 * Which tiktoken encoding an OpenAI model uses: tiktoken's `encoding_name_for_model` /
 * `encoding_for_model` (tables from tiktoken 0.14.0's `tiktoken/model.py`).
 */
import type { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import { getTiktoken, isTiktokenEncoding } from "./tiktoken.js";

/** Model-name prefixes -> encoding, tried in this order after the exact names (e.g. `gpt-4o-2024-05-13`). */
const MODEL_PREFIX_TO_ENCODING: readonly (readonly [string, string])[] = [
  ["o1-", "o200k_base"],
  ["o3-", "o200k_base"],
  ["o4-mini-", "o200k_base"],
  ["gpt-5", "o200k_base"],
  ["gpt-4.5-", "o200k_base"],
  ["gpt-4.1-", "o200k_base"],
  ["chatgpt-4o-", "o200k_base"],
  ["gpt-4o-", "o200k_base"],
  ["gpt-4-", "cl100k_base"],
  ["gpt-3.5-turbo-", "cl100k_base"],
  ["gpt-35-turbo-", "cl100k_base"],
  ["gpt-oss-", "o200k_harmony"],
  ["ft:gpt-4o", "o200k_base"],
  ["ft:gpt-4", "cl100k_base"],
  ["ft:gpt-3.5-turbo", "cl100k_base"],
  ["ft:davinci-002", "cl100k_base"],
  ["ft:babbage-002", "cl100k_base"],
];

/** Exact model names -> encoding. */
const MODEL_TO_ENCODING: Readonly<Record<string, string>> = {
  o1: "o200k_base",
  o3: "o200k_base",
  "o4-mini": "o200k_base",
  "gpt-5": "o200k_base",
  "gpt-4.1": "o200k_base",
  "gpt-4o": "o200k_base",
  "gpt-4": "cl100k_base",
  "gpt-3.5-turbo": "cl100k_base",
  "gpt-3.5": "cl100k_base",
  "gpt-35-turbo": "cl100k_base",
  "davinci-002": "cl100k_base",
  "babbage-002": "cl100k_base",
  "text-embedding-ada-002": "cl100k_base",
  "text-embedding-3-small": "cl100k_base",
  "text-embedding-3-large": "cl100k_base",
  "text-davinci-003": "p50k_base",
  "text-davinci-002": "p50k_base",
  "text-davinci-001": "r50k_base",
  "text-curie-001": "r50k_base",
  "text-babbage-001": "r50k_base",
  "text-ada-001": "r50k_base",
  davinci: "r50k_base",
  curie: "r50k_base",
  babbage: "r50k_base",
  ada: "r50k_base",
  "code-davinci-002": "p50k_base",
  "code-davinci-001": "p50k_base",
  "code-cushman-002": "p50k_base",
  "code-cushman-001": "p50k_base",
  "davinci-codex": "p50k_base",
  "cushman-codex": "p50k_base",
  "text-davinci-edit-001": "p50k_edit",
  "code-davinci-edit-001": "p50k_edit",
  "text-similarity-davinci-001": "r50k_base",
  "text-similarity-curie-001": "r50k_base",
  "text-similarity-babbage-001": "r50k_base",
  "text-similarity-ada-001": "r50k_base",
  "text-search-davinci-doc-001": "r50k_base",
  "text-search-curie-doc-001": "r50k_base",
  "text-search-babbage-doc-001": "r50k_base",
  "text-search-ada-doc-001": "r50k_base",
  "code-search-babbage-code-001": "r50k_base",
  "code-search-ada-code-001": "r50k_base",
  gpt2: "gpt2",
  "gpt-2": "gpt2",
};

/**
 * The name of the encoding an OpenAI model uses (tiktoken's `encoding_name_for_model`): an exact
 * model name, else the first matching prefix (so `gpt-4o-2024-05-13` is `o200k_base`).
 *
 * @throws TokenizerError for a model tiktoken does not know.
 * @example encodingNameForModel("gpt-4o") // "o200k_base"
 */
export function encodingNameForModel(model: string): string {
  if (typeof model === "string") {
    if (Object.hasOwn(MODEL_TO_ENCODING, model)) return MODEL_TO_ENCODING[model] as string;
    for (const [prefix, encoding] of MODEL_PREFIX_TO_ENCODING) if (model.startsWith(prefix)) return encoding;
  }
  throw new TokenizerError(
    `\`model\` ${JSON.stringify(model)} is not a model tiktoken maps to an encoding (e.g. "gpt-4o", "gpt-4", "gpt-3.5-turbo", "gpt2"); use getTokenizer(encoding) instead`,
    "model",
  );
}

/**
 * The tokenizer of the encoding an OpenAI model uses (tiktoken's `encoding_for_model`).
 *
 * @throws TokenizerError for an unknown model, or one whose encoding this package does not ship
 *   (`p50k_edit`, `o200k_harmony`).
 * @example
 * ```ts
 * encodingForModel("gpt-4o").encode("hello world"); // [24912, 2375]
 * ```
 */
export function encodingForModel(model: string): BpeTokenizer {
  const name = encodingNameForModel(model);
  if (!isTiktokenEncoding(name)) {
    throw new TokenizerError(`\`model\` ${JSON.stringify(model)} uses the encoding ${name}, which this package does not ship`, "model");
  }
  return getTiktoken(name);
}
