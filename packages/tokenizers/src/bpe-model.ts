/**
 * The byte-level BPE model (ranks, pre-tokenizer pattern, special tokens) shared by the trainer,
 * the file formats and the `"bpe"` tokenizer factory.
 */
import { z } from "zod";

/**
 * A byte-level BPE vocabulary as the rank-based encoder (`BpeCore`) uses it. This is what
 * `trainBpe` returns and what the tokenizer files store.
 */
export interface BpeModel {
  /**
   * Token bytes -> rank, which is also the token id. Keys are "binary strings" (one char per
   * byte, codes 0..255), the key type of `BpeCore`. `trainBpe` gives dense ranks (0 .. size - 1);
   * a loaded file may leave gaps (those ids decode to an error).
   */
  readonly ranks: ReadonlyMap<string, number>;
  /** Pre-tokenizer pattern, in tiktoken's syntax and semantics (see `compileTiktokenRegex`). */
  readonly pattern: string;
  /** Special token -> id (a record, or a `Map`); the ids follow the ranks. */
  readonly specialTokens: Readonly<Record<string, number>> | ReadonlyMap<string, number>;
}

/** zod schema of a model's special tokens: token -> non-negative integer id. */
export const SpecialTokensSchema = z.record(
  z.string().min(1),
  z.number({ error: "must map special tokens to non-negative integer ids" }).int().nonnegative(),
  { error: "must map special tokens to non-negative integer ids" },
);

/** Special tokens as a plain record (JSON-serialisable), from a record or a `Map`. */
export function specialTokensRecord(tokens: Readonly<Record<string, number>> | ReadonlyMap<string, number>): Record<string, number> {
  return tokens instanceof Map ? Object.fromEntries(tokens) : { ...(tokens as Readonly<Record<string, number>>) };
}
