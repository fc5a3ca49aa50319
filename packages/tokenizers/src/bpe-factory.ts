/**
 * The `"bpe"` tokenizer: `createBpeTokenizer(model)`, `bpeModelOf(tokenizer)`, and the factory
 * behind `getTokenizer("bpe", options)` (from ranks in memory, a `tokenizer.json`, or, given a
 * reader, a file). No module state: the reader is an argument of `bpeTokenizerFactory`, and
 * `@tfgpt/tokenizers/node` registers the file-reading factory in the registry (see `registry.ts`).
 */
import { z } from "zod";
import { BpeCore } from "./bpe-core.js";
import { SpecialTokensSchema, type BpeModel } from "./bpe-model.js";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import { fromHuggingFaceJson } from "./hf-tokenizer-json.js";
import { describeValue, parseOptions } from "./options.js";
import { GPT2_PATTERN } from "./pretokenizer.js";
import { formatRankFile, parseRankFile } from "./rank-file.js";
import type { TokenizerFactory } from "./registry.js";
import type { TokenizerSpec } from "./tokenizer.js";

/**
 * Reads a tokenizer file for `getTokenizer("bpe", { path })` (synchronously: `getTokenizer` is).
 * `@tfgpt/tokenizers/node` passes `readBpeModel`; in a browser there is none and the `path` form
 * throws.
 */
export type TokenizerFileReader = (path: string) => BpeModel;

/** zod schema of the options of `getTokenizer("bpe", options)`: exactly one of three forms. */
export const BpeTokenizerOptionsSchema = z.union(
  [
    z.strictObject({
      /** A rank file (`.tiktoken` + `.meta.json` sidecar) or a `tokenizer.json`. Node only. */
      path: z.string().min(1),
    }),
    z.strictObject({
      /** Ranks: rank-file text (`formatRankFile`), or a Map of token bytes ("binary strings") -> rank. */
      ranks: z.union([z.string(), z.instanceof(Map)]),
      /** Pre-tokenizer regex source. Default `GPT2_PATTERN`. */
      pattern: z.string().default(GPT2_PATTERN),
      /** Special token -> id (a record or a `Map`). Default none. */
      specialTokens: z
        .union([SpecialTokensSchema, z.instanceof(Map).transform((map, ctx) => {
          const record = SpecialTokensSchema.safeParse(Object.fromEntries(map));
          if (!record.success) {
            ctx.addIssue({ code: "custom", message: "must map special tokens to non-negative integer ids" });
            return z.NEVER;
          }
          return record.data;
        })])
        .default({}),
    }),
    z.strictObject({
      /** A Hugging Face `tokenizer.json`: text or parsed object. */
      json: z.union([z.string(), z.looseObject({})]),
    }),
  ],
  { error: "must be {path}, {ranks, pattern?, specialTokens?} or {json}" },
);

/** Options of `getTokenizer("bpe", options)`. */
export type BpeTokenizerOptions = z.input<typeof BpeTokenizerOptionsSchema>;

/**
 * The factory of `getTokenizer("bpe", options)`: a byte-level BPE tokenizer from a file (with a
 * `readFile`), from ranks in memory or from a `tokenizer.json`. Its `spec` rebuilds it: the same
 * `path` or `json`, or the ranks as rank-file text.
 *
 * @param readFile Reads `{path}`; without one the `path` form throws (the browser registry's
 *   factory has none, `@tfgpt/tokenizers/node` registers one with `readBpeModel`).
 * @example
 * ```ts
 * getTokenizer("bpe", { path: "runs/tok/tokens.tiktoken" }); // Node
 * getTokenizer("bpe", { ranks: formatRankFile(model.ranks), pattern: model.pattern, specialTokens: model.specialTokens });
 * ```
 */
export function bpeTokenizerFactory(readFile?: TokenizerFileReader): TokenizerFactory {
  return (options) => createBpeTokenizerFromOptions(options, readFile);
}

function createBpeTokenizerFromOptions(options: unknown, readFile: TokenizerFileReader | undefined): BpeTokenizer {
  const parsed = parseOptions(BpeTokenizerOptionsSchema, options, 'getTokenizer("bpe")');
  if ("path" in parsed) {
    if (readFile === undefined) {
      throw new TokenizerError(
        `\`path\` needs file access: import "@tfgpt/tokenizers/node" (in a browser pass {ranks} or {json}), received ${describeValue(parsed.path)}`,
        "path",
      );
    }
    return createBpeTokenizer(readFile(parsed.path), { spec: { name: "bpe", options: { path: parsed.path } } });
  }
  if ("json" in parsed) {
    return createBpeTokenizer(fromHuggingFaceJson(parsed.json), { spec: { name: "bpe", options: { json: parsed.json } } });
  }
  const model = {
    ranks: typeof parsed.ranks === "string" ? parseRankFile(parsed.ranks) : checkRankMap(parsed.ranks),
    pattern: parsed.pattern,
    specialTokens: parsed.specialTokens,
  };
  // Rank-file text is kept as given in the spec (no re-encoding); a Map is written out as text.
  const spec = typeof parsed.ranks === "string" ? { name: "bpe", options: { ...parsed } } : undefined;
  return createBpeTokenizer(model, spec === undefined ? {} : { spec });
}

function checkRankMap(map: Map<unknown, unknown>): Map<string, number> {
  for (const [key, rank] of map) {
    if (typeof key !== "string" || typeof rank !== "number") {
      throw new TokenizerError(`\`ranks\` must map binary strings to ranks, received an entry ${describeValue(key)} -> ${describeValue(rank)}`, "ranks");
    }
  }
  return map as Map<string, number>;
}

/** Options of `createBpeTokenizer`. */
export interface CreateBpeTokenizerOptions {
  /** What rebuilds the tokenizer. Default: `{ name: "bpe", options: { ranks: <rank-file text>, pattern, specialTokens } }`. */
  readonly spec?: TokenizerSpec;
  /** Most pre-split pieces in the encoder's cache. Default: `BpeCore`'s (65,536). */
  readonly cacheSize?: number;
}

/**
 * A `Tokenizer` (named `"bpe"`) over a BPE model, e.g. the result of `trainBpe`.
 *
 * @param model Ranks, pattern and special tokens.
 * @param options `spec` (default: the model inline, JSON-serialisable), `cacheSize`.
 * @example
 * ```ts
 * const tok = createBpeTokenizer(trainBpe(text, { vocabSize: 1024 }));
 * getTokenizer(tok.spec.name, tok.spec.options).encode("hi") // same ids as tok.encode("hi")
 * ```
 */
export function createBpeTokenizer(model: BpeModel, options: CreateBpeTokenizerOptions = {}): BpeTokenizer {
  const core = new BpeCore({
    ranks: model.ranks,
    pattern: model.pattern,
    specialTokens: model.specialTokens,
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
  });
  const spec = options.spec ?? {
    name: "bpe",
    // From the core's Map: a `Map` given as `specialTokens` must not be saved as `{}`.
    options: { ranks: formatRankFile(model.ranks), pattern: model.pattern, specialTokens: Object.fromEntries(core.specialTokens) },
  };
  return new BpeTokenizer({ name: "bpe", core, spec });
}

/**
 * The model (ranks, pattern, special tokens) of a BPE tokenizer, e.g. to save `getTokenizer("gpt2")`
 * or a trained tokenizer as a file.
 */
export function bpeModelOf(tokenizer: BpeTokenizer): BpeModel {
  const core = tokenizer.core;
  const specialIds = new Set(core.specialTokens.values());
  const ranks = new Map<string, number>();
  for (let id = 0; id < core.vocabSize; id++) {
    if (specialIds.has(id)) continue;
    const bytes = core.bytesOf(id);
    if (bytes !== undefined) ranks.set(String.fromCharCode(...bytes), id);
  }
  return { ranks, pattern: core.pattern, specialTokens: Object.fromEntries(core.specialTokens) };
}
