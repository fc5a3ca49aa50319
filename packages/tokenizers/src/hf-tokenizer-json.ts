/**
 * Hugging Face `tokenizer.json` (byte-level BPE) as a `BpeModel`, both ways, as strings
 * (browser-safe): `model.type` `"BPE"`, `vocab` keyed by GPT-2's bytes-to-unicode mapping,
 * `merges`, a `ByteLevel` pre-tokenizer (GPT-2's regex) or a `Split` regex followed by
 * `ByteLevel`, and the special tokens as `added_tokens`. A lossless round trip (same ranks,
 * pattern and special tokens, so same ids).
 */
import { z } from "zod";
import { specialTokensRecord, type BpeModel } from "./bpe-model.js";
import { TokenizerError } from "./errors.js";
import { describeValue, parseOptions } from "./options.js";
import { GPT2_PATTERN } from "./pretokenizer.js";

/**
 * GPT-2's bytes-to-unicode table: printable Latin-1 bytes map to themselves, the other 68 bytes
 * to U+0100 onwards, so that every byte is a visible character in `vocab` and `merges`.
 */
function byteToUnicodeTable(): string[] {
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

const BYTE_TO_UNICODE = byteToUnicodeTable();
const UNICODE_TO_BYTE = new Map(BYTE_TO_UNICODE.map((char, byte) => [char, byte]));

/** Token bytes ("binary string") -> its `tokenizer.json` spelling. */
function toByteLevel(bytes: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_UNICODE[bytes.charCodeAt(i)] as string;
  return out;
}

/** A `tokenizer.json` spelling -> token bytes, or `undefined` if a char is not a byte-level char. */
function fromByteLevel(token: string): string | undefined {
  let out = "";
  for (const char of token) {
    const byte = UNICODE_TO_BYTE.get(char);
    if (byte === undefined) return undefined;
    out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * Writes `model` as a Hugging Face `tokenizer.json` (byte-level BPE).
 *
 * The rank-based encoder merges any adjacent pair whose bytes form a token, at that token's rank,
 * and emits a piece that is a token whole. To make the `tokenizers` library do the same,
 * `merges` lists, for each token in rank order, every split of it into two tokens, and
 * `ignore_merges` is true. The pre-tokenizer is `ByteLevel` (whose built-in regex is GPT-2's)
 * when the pattern is GPT-2's, else `Sequence[Split(regex, "Isolated"), ByteLevel(use_regex: false)]`.
 *
 * @param model Ranks, pattern, special tokens (e.g. from `trainBpe` or `bpeModelOf`).
 * @returns The JSON text (2-space indentation).
 * @example
 * ```ts
 * const json = toHuggingFaceJson(trainBpe(text, { vocabSize: 1000 }));
 * fromHuggingFaceJson(json); // the same model
 * ```
 */
export function toHuggingFaceJson(model: BpeModel): string {
  const entries = [...model.ranks].sort((a, b) => a[1] - b[1]);
  const spelling = new Map<string, string>();
  for (const [bytes] of entries) spelling.set(bytes, toByteLevel(bytes));
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  for (const [bytes, rank] of entries) {
    vocab[spelling.get(bytes) as string] = rank;
    for (let cut = 1; cut < bytes.length; cut++) {
      const left = spelling.get(bytes.slice(0, cut));
      const right = left === undefined ? undefined : spelling.get(bytes.slice(cut));
      if (right !== undefined) merges.push(`${left} ${right}`);
    }
  }
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  const preTokenizer =
    model.pattern === GPT2_PATTERN
      ? byteLevel
      : {
          type: "Sequence",
          pretokenizers: [
            { type: "Split", pattern: { Regex: model.pattern }, behavior: "Isolated", invert: false },
            { ...byteLevel, use_regex: false },
          ],
        };
  const addedTokens = Object.entries(specialTokensRecord(model.specialTokens))
    .sort((a, b) => a[1] - b[1])
    .map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges,
    },
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** The parts of `tokenizer.json` this package reads (others are ignored). */
const HFTokenizerSchema = z.object({
  added_tokens: z
    .array(z.object({ id: z.number().int().nonnegative(), content: z.string().min(1) }), {
      error: "must be an array of {id, content}",
    })
    .default([]),
  normalizer: z.unknown().optional(),
  pre_tokenizer: z.unknown(),
  model: z.object({
    type: z.literal("BPE", { error: 'must be "BPE" (only byte-level BPE tokenizers are supported)' }),
    // Entries are checked while reading them: zod over 50,000+ entries would cost seconds.
    vocab: z.custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
      error: "must map tokens to non-negative integer ids",
    }),
    merges: z.custom<unknown[]>((v) => Array.isArray(v), { error: 'must be an array of "a b" strings or [a, b] pairs' }).default([]),
  }),
});

/**
 * Reads a Hugging Face `tokenizer.json` of a byte-level BPE tokenizer (GPT-2 style; also what
 * `toHuggingFaceJson` writes).
 *
 * Ids are taken from `vocab` as ranks, which is how the rank-based encoder reproduces the
 * library's merges; so the merges must follow the id order (the token each merge makes has an id
 * no smaller than the previous merge's), as in GPT-2's and in every vocabulary trained by
 * merging. Every `added_tokens` entry becomes a special token.
 *
 * @param json The file's text, or the parsed object.
 * @throws TokenizerError naming the field that is not supported (e.g. a normalizer, a
 *   pre-tokenizer other than ByteLevel / Split + ByteLevel, `add_prefix_space: true`, merges out
 *   of id order, a vocab entry that is not byte-level).
 */
export function fromHuggingFaceJson(json: string | object): BpeModel {
  let value: unknown = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new TokenizerError(`\`json\` is not valid JSON: ${(error as Error).message}`, "json");
    }
  }
  const hf = parseOptions(HFTokenizerSchema, value, "tokenizer.json");
  if (hf.normalizer !== undefined && hf.normalizer !== null) {
    throw new TokenizerError(`\`normalizer\` must be null (normalizers are not supported), received ${describeValue(hf.normalizer)}`, "normalizer");
  }
  const pattern = patternOf(hf.pre_tokenizer);
  const specialTokens: Record<string, number> = {};
  for (const token of hf.added_tokens) specialTokens[token.content] = token.id;
  const ranks = new Map<string, number>();
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(hf.model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TokenizerError(
        `\`model.vocab\` must map tokens to non-negative integer ids, received ${describeValue(token)}: ${describeValue(id)}`,
        "model.vocab",
      );
    }
    vocab.set(token, id as number);
    if (Object.hasOwn(specialTokens, token)) continue;
    const bytes = fromByteLevel(token);
    if (bytes === undefined || bytes === "") {
      throw new TokenizerError(
        `\`model.vocab\` must hold byte-level tokens (GPT-2's bytes-to-unicode spelling), received ${describeValue(token)}`,
        "model.vocab",
      );
    }
    ranks.set(bytes, id as number);
  }
  checkMergeOrder(hf.model.merges, vocab);
  return { ranks, pattern, specialTokens };
}

/** The pre-tokenizer regex of a byte-level `pre_tokenizer` entry. */
function patternOf(preTokenizer: unknown): string {
  const unsupported = (detail: string): TokenizerError =>
    new TokenizerError(
      `\`pre_tokenizer\` must be ByteLevel or Sequence[Split(regex), ByteLevel(use_regex: false)] without a prefix space; ${detail}`,
      "pre_tokenizer",
    );
  const node = preTokenizer as { type?: unknown; pretokenizers?: unknown } | null;
  const steps: unknown[] = node?.type === "Sequence" && Array.isArray(node.pretokenizers) ? node.pretokenizers : [preTokenizer];
  let pattern: string | undefined;
  let byteLevel = false;
  for (const step of steps) {
    const s = step as Record<string, unknown> | null;
    if (s?.type === "ByteLevel") {
      if (s.add_prefix_space === true) throw unsupported("received add_prefix_space: true");
      if (s.use_regex !== false) {
        if (pattern !== undefined) throw unsupported("received a Split and a ByteLevel that both split");
        pattern = GPT2_PATTERN;
      }
      byteLevel = true;
    } else if (s?.type === "Split" && !byteLevel && pattern === undefined) {
      const p = s.pattern as { Regex?: unknown; String?: unknown } | undefined;
      if (s.behavior !== "Isolated" || s.invert === true) throw unsupported(`received Split with behavior ${describeValue(s.behavior)}`);
      if (typeof p?.Regex === "string") pattern = p.Regex;
      else if (typeof p?.String === "string") pattern = p.String.replace(/[\\^$*+?.()|[\]{}]/g, "\\$&");
      else throw unsupported("received a Split without a pattern");
    } else {
      throw unsupported(`received ${describeValue(s?.type ?? s)}`);
    }
  }
  if (!byteLevel || pattern === undefined) throw unsupported("no ByteLevel step or no regex");
  return pattern;
}

/** Throws unless every merge's parts and result are in `vocab` and the results' ids never decrease. */
function checkMergeOrder(merges: readonly unknown[], vocab: ReadonlyMap<string, number>): void {
  let previous = -1;
  for (let i = 0; i < merges.length; i++) {
    const merge = merges[i];
    const parts = typeof merge === "string" ? merge.split(" ") : Array.isArray(merge) ? merge : [];
    const [left, right] = parts as unknown[];
    const ok = parts.length === 2 && typeof left === "string" && typeof right === "string";
    const id = ok ? vocab.get(left + right) : undefined;
    if (id === undefined || !vocab.has(left as string) || !vocab.has(right as string)) {
      throw new TokenizerError(`\`model.merges[${i}]\` must join two vocab tokens into a vocab token, received ${describeValue(merge)}`, "model.merges");
    }
    if (id < previous) {
      throw new TokenizerError(
        `\`model.merges[${i}]\` makes id ${id} after a merge made id ${previous}; the ids must follow the merge order to be used as ranks`,
        "model.merges",
      );
    }
    previous = id;
  }
}
