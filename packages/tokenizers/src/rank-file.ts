/**
 * The tiktoken rank file and its JSON sidecar, as strings (browser-safe; `saveTokenizer` and
 * `loadTokenizer` in `@tfgpt/tokenizers/node` write and read the files). A lossless round trip
 * (same ranks, pattern and special tokens, so same ids):
 *
 * `tokens.tiktoken` holds one line per token, `<base64 of the token bytes> <rank>`, in rank order:
 * exactly what tiktoken's `load_tiktoken_bpe` reads. The pattern and special tokens, which that
 * format lacks, are in a JSON sidecar next to it, `tokens.tiktoken.meta.json`:
 * `{"format": "tfgpt-bpe", "version": 1, "pattern": "...", "specialTokens": {"<|endoftext|>": 4095}}`.
 */
import { z } from "zod";
import { specialTokensRecord, SpecialTokensSchema, type BpeModel } from "./bpe-model.js";
import { TokenizerError } from "./errors.js";
import { describeValue, parseOptions } from "./options.js";

/** The `format` field of the rank-file sidecar. */
export const RANK_FILE_META_FORMAT = "tfgpt-bpe";
/** The `version` of the rank-file sidecar written by this package. */
export const RANK_FILE_META_VERSION = 1;

/**
 * Writes ranks as a tiktoken rank file: lines `<base64 bytes> <rank>`, rank order, `\n` endings.
 *
 * @param ranks Token bytes ("binary strings", one char per byte) -> rank.
 * @example
 * ```ts
 * formatRankFile(new Map([["a", 0], ["ab", 1]])); // "YQ== 0\nYWI= 1\n"
 * ```
 */
export function formatRankFile(ranks: ReadonlyMap<string, number>): string {
  const entries = [...ranks].sort((a, b) => a[1] - b[1]);
  let out = "";
  for (const [bytes, rank] of entries) out += `${btoa(bytes)} ${rank}\n`;
  return out;
}

/**
 * Reads a tiktoken rank file (lines `<base64 bytes> <rank>`; blank lines ignored).
 *
 * @returns Token bytes ("binary strings") -> rank.
 * @throws TokenizerError naming the line that is malformed or repeats a token or a rank.
 */
export function parseRankFile(text: string): Map<string, number> {
  const ranks = new Map<string, number>();
  const seenRanks = new Set<number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    const [token, rankText, extra] = line.split(/\s+/);
    const rank = Number(rankText);
    let bytes: string | undefined;
    try {
      bytes = token === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(token) ? undefined : atob(token);
    } catch {
      bytes = undefined;
    }
    if (bytes === undefined || bytes === "" || extra !== undefined || !Number.isInteger(rank) || rank < 0) {
      throw new TokenizerError(
        `rank file line ${i + 1} must be "<base64 token> <rank>", received ${describeValue(line)}`,
        "ranks",
      );
    }
    if (ranks.has(bytes) || seenRanks.has(rank)) {
      throw new TokenizerError(`rank file line ${i + 1} repeats ${ranks.has(bytes) ? "a token" : `rank ${rank}`}: ${describeValue(line)}`, "ranks");
    }
    ranks.set(bytes, rank);
    seenRanks.add(rank);
  }
  return ranks;
}

/** zod schema of the rank-file sidecar (`<rank file>.meta.json`). */
export const RankFileMetaSchema = z.object({
  format: z.literal(RANK_FILE_META_FORMAT, { error: `must be ${JSON.stringify(RANK_FILE_META_FORMAT)}` }),
  version: z.literal(RANK_FILE_META_VERSION, { error: `must be ${RANK_FILE_META_VERSION}` }),
  pattern: z.string({ error: "must be a regular-expression source string" }),
  specialTokens: SpecialTokensSchema,
  /** How many ranks the rank file has (written since; checked when present): a cut file is refused. */
  numRanks: z.number({ error: "must be the rank file's number of ranks" }).int().nonnegative().optional(),
});

/** The sidecar of a rank file: what the tiktoken format does not store. */
export type RankFileMeta = z.output<typeof RankFileMetaSchema>;

/** The sidecar JSON of `model` (pattern and special tokens). */
export function formatRankFileMeta(model: Pick<BpeModel, "pattern" | "specialTokens"> & { readonly ranks?: ReadonlyMap<string, number> }): string {
  const meta: RankFileMeta = {
    format: RANK_FILE_META_FORMAT,
    version: RANK_FILE_META_VERSION,
    pattern: model.pattern,
    specialTokens: specialTokensRecord(model.specialTokens),
    ...(model.ranks ? { numRanks: model.ranks.size } : {}),
  };
  return `${JSON.stringify(meta, null, 2)}\n`;
}

/** Parses and validates a rank-file sidecar. */
export function parseRankFileMeta(json: string): RankFileMeta {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new TokenizerError(`the rank-file sidecar is not JSON: ${(error as Error).message}`, "meta");
  }
  return parseOptions(RankFileMetaSchema, value, "the rank-file sidecar");
}
