import { z } from "zod";
import { TokenizerError } from "./errors.js";
import { parseOptions } from "./options.js";
import { assertNoDisallowedSpecial, resolveSpecialTokens, specialTokenRegExp, splitOnSpecialTokens } from "./special-tokens.js";
import type { EncodeOptions, Tokenizer, TokenizerSpec } from "./tokenizer.js";

/** The special tokens of `SimpleTokenizerV2`, appended after the sorted words (the book's order). */
export const SIMPLE_SPECIAL_TOKENS = ["<|endoftext|>", "<|unk|>"] as const;

// Python's `\s` / `str.strip()` whitespace (str.isspace). Unlike JavaScript's `\s` it excludes
// U+FEFF, so a BOM stays part of the first word, as in the book's notebook.
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const SPLIT = new RegExp(`([,.:;?_!"()']|--|[${PY_SPACE}])`, "u");
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const SPACE_BEFORE_PUNCTUATION = new RegExp(`[${PY_SPACE}]+([,.:;?!"()'])`, "gu");

/** zod schema of the options of `getTokenizer("simple", options)`: exactly one of `text` or `vocab`. */
export const SimpleTokenizerOptionsSchema = z.union(
  [
    z.strictObject({ text: z.string({ error: "must be a string" }) }),
    z.strictObject({
      vocab: z.union([z.array(z.string()), z.record(z.string(), z.number().int().nonnegative())], {
        error: "must be an array of tokens (index = id) or an object token -> id",
      }),
    }),
  ],
  { error: "must be { text } or { vocab }" },
);

/** Options of the simple tokenizer: `{ text }` builds the vocabulary, `{ vocab }` reuses one. */
export type SimpleTokenizerOptions = z.input<typeof SimpleTokenizerOptionsSchema>;

/**
 * The book's word tokenizer: `re.split(r'([,.:;?_!"()\']|--|\s)', text)`, stripped, empty items
 * dropped. Exported for building vocabularies.
 */
export function simpleSplit(text: string): string[] {
  const words: string[] = [];
  for (const item of text.split(SPLIT)) {
    const word = item.replace(STRIP, "");
    if (word !== "") words.push(word);
  }
  return words;
}

/** Compares by code point, as Python's `sorted` does (JavaScript's default compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * The book's `SimpleTokenizerV2` (chapter 2): a vocabulary of the sorted unique words of a text
 * plus `<|endoftext|>` and `<|unk|>`; unknown words encode as `<|unk|>`; decode joins with spaces
 * and removes the space before punctuation. Special tokens follow the `Tokenizer` rule (pass
 * `allowedSpecial` to encode `<|endoftext|>` as its id).
 *
 * @example
 * ```ts
 * const tok = SimpleTokenizerV2.fromText("Hello, world. Is this-- a test?");
 * tok.decode(tok.encode("Hello, do you like tea?")); // "Hello, <|unk|> <|unk|> <|unk|> <|unk|>?"
 * ```
 */
export class SimpleTokenizerV2 implements Tokenizer {
  readonly name = "simple";
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly spec: TokenizerSpec;
  /** Tokens by id. */
  readonly vocab: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;
  private readonly unk: number;
  private readonly specialRegExp: RegExp | undefined;

  /** @param vocab Tokens by id; must contain `<|endoftext|>` and `<|unk|>`, no duplicates. */
  constructor(vocab: readonly string[]) {
    const ids = new Map<string, number>();
    vocab.forEach((token, id) => {
      if (ids.has(token)) throw new TokenizerError(`\`vocab\` contains ${JSON.stringify(token)} twice`, "vocab");
      ids.set(token, id);
    });
    for (const special of SIMPLE_SPECIAL_TOKENS) {
      if (!ids.has(special)) throw new TokenizerError(`\`vocab\` must contain ${JSON.stringify(special)}`, "vocab");
    }
    this.vocab = [...vocab];
    this.ids = ids;
    this.vocabSize = vocab.length;
    this.unk = ids.get("<|unk|>") as number;
    this.specialTokens = new Map(SIMPLE_SPECIAL_TOKENS.map((token) => [token, ids.get(token) as number]));
    this.specialRegExp = specialTokenRegExp(SIMPLE_SPECIAL_TOKENS);
    this.spec = { name: "simple", options: { vocab: this.vocab } };
  }

  /** Builds the vocabulary from `text` as the book does: sorted unique words, then the specials. */
  static fromText(text: string): SimpleTokenizerV2 {
    const words = [...new Set(simpleSplit(text))].sort(compareCodePoints);
    return new SimpleTokenizerV2([...words.filter((w) => !(SIMPLE_SPECIAL_TOKENS as readonly string[]).includes(w)), ...SIMPLE_SPECIAL_TOKENS]);
  }

  /** Builds from `{ text }` or `{ vocab }` (validated; what `getTokenizer("simple", options)` calls). */
  static fromOptions(options: unknown): SimpleTokenizerV2 {
    const parsed = parseOptions(SimpleTokenizerOptionsSchema, options, 'getTokenizer("simple")');
    if ("text" in parsed) return SimpleTokenizerV2.fromText(parsed.text);
    if (Array.isArray(parsed.vocab)) return new SimpleTokenizerV2(parsed.vocab);
    const entries = Object.entries(parsed.vocab);
    const tokens = new Array<string>(entries.length);
    for (const [token, id] of entries) {
      if (id >= entries.length || tokens[id] !== undefined) {
        throw new TokenizerError(`\`vocab\` ids must be 0..${entries.length - 1}, each once; received ${id} for ${JSON.stringify(token)}`, "vocab");
      }
      tokens[id] = token;
    }
    return new SimpleTokenizerV2(tokens);
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const policy = resolveSpecialTokens(options, this.specialTokens, this.name);
    assertNoDisallowedSpecial(text, policy.disallowed, this.name);
    const out: number[] = [];
    splitOnSpecialTokens(
      text,
      this.specialRegExp,
      policy.allowed,
      (start, end) => {
        for (const word of simpleSplit(text.substring(start, end))) out.push(this.ids.get(word) ?? this.unk);
      },
      (token) => out.push(this.specialTokens.get(token) as number),
    );
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    const words = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const word = Number.isInteger(id) ? this.vocab[id] : undefined;
      if (word === undefined) {
        throw new TokenizerError(`\`ids[${i}]\` must be an integer in [0, ${this.vocabSize}) (vocabSize ${this.vocabSize}), received ${id}`, "ids");
      }
      words[i] = word;
    }
    return words.join(" ").replace(SPACE_BEFORE_PUNCTUATION, "$1");
  }
}
