import { z } from "zod";
import { compileTiktokenRegex } from "./tiktoken-regex.js";
import { TokenizerError } from "./errors.js";
import { parseOptions, positiveInt } from "./options.js";
import { GPT2_PATTERN, scannerFor } from "./pretokenizer.js";
import { specialTokenRegExp } from "./special-tokens.js";
import type { BpeModel } from "./bpe-model.js";


/** What `trainBpe` reports after each merge (e.g. to draw a progress bar). */
export interface BpeTrainProgress {
  /** Merges learned so far. */
  readonly merges: number;
  /** Merges wanted: `vocabSize - 256 - specialTokens.length` (training may stop earlier, see `minFrequency`). */
  readonly targetMerges: number;
}

/** Numbers about the training corpus, e.g. to report the compression reached. */
export interface BpeTrainStats {
  /** Pre-tokenized pieces in the corpus (special tokens excluded). */
  readonly pieces: number;
  /** Distinct pieces (what the merge loop works on). */
  readonly uniquePieces: number;
  /** UTF-8 bytes of the corpus pieces. */
  readonly bytes: number;
  /** Tokens the corpus pieces encode to with the learned vocabulary (what `encode` gives them). */
  readonly tokens: number;
  /** Merges learned (less than asked when no pair reached `minFrequency`). */
  readonly merges: number;
}

/** The result of `trainBpe`: the vocabulary plus statistics of the run. */
export interface TrainedBpe extends BpeModel {
  readonly stats: BpeTrainStats;
}

/** zod schema of `TrainBpeOptions`. */
export const TrainBpeOptionsSchema = z.strictObject({
  /**
   * Size of the vocabulary to learn, special tokens included: 256 byte tokens, then merges, then
   * the special tokens. At least `256 + specialTokens.length`.
   */
  vocabSize: positiveInt(),
  /** Special tokens, given the last ids in this order. Default `["<|endoftext|>"]`. */
  specialTokens: z
    .array(z.string({ error: "must be an array of non-empty strings" }).min(1, { error: "must be an array of non-empty strings" }), {
      error: "must be an array of non-empty strings",
    })
    .default(["<|endoftext|>"]),
  /** Pre-tokenizer regex source (flags `gu`). Default: GPT-2's (`GPT2_PATTERN`). */
  pattern: z.string({ error: "must be a regular-expression source string" }).default(GPT2_PATTERN),
  /** A pair seen fewer times than this is never merged; training then stops early. Default 2. */
  minFrequency: positiveInt().default(2),
  /** Called after every merge with the progress so far. Default: none. */
  onProgress: z
    .custom<(progress: BpeTrainProgress) => void>((value) => typeof value === "function", { error: "must be a function" })
    .optional(),
});

/** Options of `trainBpe` (see `TrainBpeOptionsSchema` for each field and its default). */
export type TrainBpeOptions = z.input<typeof TrainBpeOptionsSchema>;

/**
 * Learns a byte-level BPE vocabulary from a corpus, the way GPT-2's was made: the text is split
 * with the pre-tokenizer regex (special tokens are cut out first and never learned), the distinct
 * pieces are counted, and starting from the 256 byte tokens the most frequent adjacent pair is
 * merged into a new token until `vocabSize` is reached.
 *
 * The training is *rank-consistent*: a piece is always held exactly as the rank-based encoder
 * (`BpeCore`, tiktoken's algorithm) would encode it with the vocabulary learned so far, and the
 * count of a candidate token sums every adjacent pair whose bytes concatenate to it. So encoding
 * the training text with the learned ranks reproduces the training exactly (`stats.tokens`).
 * Pair counts are updated incrementally (candidate -> pieces index, lazy max-heap), so a
 * 4,096-token vocabulary on a 450 KB book takes a second or so.
 *
 * Ties between equally frequent candidates go to the smallest byte string, so the same input and
 * options always give identical ranks.
 *
 * @param input The corpus: one string, or an iterable of strings (documents, lines or chunks;
 *   each is pre-tokenized on its own, so split only where the regex would split anyway).
 * @param options `vocabSize` (required), `specialTokens` (default `["<|endoftext|>"]`), `pattern`
 *   (default `GPT2_PATTERN`), `minFrequency` (default 2), `onProgress`.
 * @returns The ranks (bytes 0..255 are ranks 0..255, then the merges in order), the pattern, the
 *   special tokens (ids after the ranks) and statistics.
 * @example
 * ```ts
 * const model = trainBpe(text, { vocabSize: 4096 });
 * const tok = createBpeTokenizer(model);
 * tok.decode(tok.encode(text)) === text; // true
 * ```
 */
export function trainBpe(input: string | Iterable<string>, options: TrainBpeOptions): TrainedBpe {
  const opts = parseOptions(TrainBpeOptionsSchema, options, "trainBpe");
  const specials = opts.specialTokens;
  const duplicate = specials.find((token, i) => specials.indexOf(token) !== i);
  if (duplicate !== undefined) {
    throw new TokenizerError(`\`specialTokens\` must not repeat a token, received ${JSON.stringify(duplicate)} twice`, "specialTokens");
  }
  const minVocab = 256 + specials.length;
  if (opts.vocabSize < minVocab) {
    throw new TokenizerError(
      `\`vocabSize\` must be at least ${minVocab} (256 byte tokens + ${specials.length} special tokens), received ${opts.vocabSize}`,
      "vocabSize",
    );
  }
  const split = pieceSplitter(opts.pattern);
  const counts = countPieces(typeof input === "string" ? [input] : input, split, specialTokenRegExp(specials));
  const trainer = new MergeTrainer(counts);
  const targetMerges = opts.vocabSize - minVocab;
  const onProgress = opts.onProgress;
  while (trainer.merges < targetMerges && trainer.mergeBest(opts.minFrequency)) {
    onProgress?.({ merges: trainer.merges, targetMerges });
  }
  const ranks = trainer.ranks();
  const specialTokens: Record<string, number> = {};
  specials.forEach((token, i) => {
    specialTokens[token] = ranks.size + i;
  });
  return { ranks, pattern: opts.pattern, specialTokens, stats: trainer.stats() };
}

/** Calls `onPiece` with each pre-tokenized piece of a text. */
type PieceSplitter = (text: string, onPiece: (piece: string) => void) => void;

/**
 * The pre-tokenizer of `pattern`, split as `BpeCore` splits: GPT-2's and cl100k's patterns with
 * the same hand-written scanners (faster than the regex, tested equal), any other with the regex.
 */
function pieceSplitter(pattern: string): PieceSplitter {
  const scanner = scannerFor(pattern);
  if (scanner !== undefined) {
    return (text, onPiece) => {
      for (let i = 0; i < text.length; ) {
        const end = scanner.pieceEnd(text, i, text.length);
        onPiece(text.substring(i, end));
        i = end;
      }
    };
  }
  const regex = compileTiktokenRegex(pattern);
  return (text, onPiece) => {
    regex.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(text)) !== null) {
      const piece = match[0];
      if (piece.length === 0) {
        // Skip one code point on an empty match, as the encoder does.
        const code = text.charCodeAt(regex.lastIndex);
        regex.lastIndex += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
        continue;
      }
      onPiece(piece);
    }
  };
}

/** Pre-tokenizes every chunk (special tokens cut out) and counts each distinct piece. */
function countPieces(chunks: Iterable<string>, split: PieceSplitter, specialRegex: RegExp | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (piece: string): void => {
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
  };
  const countSegment = (segment: string): void => split(segment, count);
  for (const chunk of chunks) {
    if (typeof chunk !== "string") {
      throw new TokenizerError(`the training input must be a string or an iterable of strings, received an item of type ${typeof chunk}`, "input");
    }
    if (specialRegex === undefined) {
      countSegment(chunk);
      continue;
    }
    let start = 0;
    for (const match of chunk.matchAll(specialRegex)) {
      countSegment(chunk.substring(start, match.index));
      start = match.index + match[0].length;
    }
    countSegment(start === 0 ? chunk : chunk.substring(start));
  }
  return counts;
}

/**
 * The merge loop. Words are the distinct pieces as token-id arrays, each kept equal to its
 * rank-based encoding under the current vocabulary; candidates are the byte strings of adjacent
 * pairs (never an existing token, by that invariant), counted with the piece frequencies.
 */
class MergeTrainer {
  merges = 0;
  /** Token id -> its bytes as a binary string. */
  private readonly tokenKey: string[] = [];
  /** Binary string -> token id (the ranks). */
  private readonly ids = new Map<string, number>();
  private readonly words: number[][] = [];
  private readonly freqs: number[] = [];
  /** Candidate -> total occurrences over all words (frequency-weighted). */
  private readonly candCount = new Map<string, number>();
  /** Candidate -> words that contained it when it appeared (may hold stale entries and repeats). */
  private readonly candWords = new Map<string, number[]>();
  /** Last merge that visited each word, to visit a word once per merge. */
  private readonly visited: Int32Array;
  /** Lazy max-heap of (count, candidate); an entry is live while it matches `candCount`. */
  private readonly heapCount: number[] = [];
  private readonly heapKey: string[] = [];
  private readonly pieceCount: number;
  private readonly byteCount: number;

  constructor(counts: ReadonlyMap<string, number>) {
    for (let b = 0; b < 256; b++) {
      const key = String.fromCharCode(b);
      this.tokenKey.push(key);
      this.ids.set(key, b);
    }
    const encoder = new TextEncoder();
    let pieces = 0;
    let bytes = 0;
    for (const [piece, freq] of counts) {
      const utf8 = encoder.encode(piece);
      pieces += freq;
      bytes += utf8.length * freq;
      const w = this.words.length;
      this.words.push(Array.from(utf8));
      this.freqs.push(freq);
      for (let i = 0; i + 1 < utf8.length; i++) {
        const key = String.fromCharCode(utf8[i] as number, utf8[i + 1] as number);
        const count = this.candCount.get(key);
        this.candCount.set(key, (count ?? 0) + freq);
        const list = this.candWords.get(key);
        if (list === undefined) this.candWords.set(key, [w]);
        else if (list[list.length - 1] !== w) list.push(w);
      }
    }
    this.pieceCount = pieces;
    this.byteCount = bytes;
    this.visited = new Int32Array(this.words.length).fill(-1);
    for (const [key, count] of this.candCount) this.push(count, key);
  }

  /** Learns one merge: false when no candidate occurs at least `minFrequency` times. */
  mergeBest(minFrequency: number): boolean {
    const key = this.popBest();
    if (key === undefined || (this.candCount.get(key) as number) < minFrequency) return false;
    const id = this.tokenKey.length;
    this.tokenKey.push(key);
    this.ids.set(key, id);
    const step = this.merges++;
    const delta = new Map<string, number>();
    const list = this.candWords.get(key) ?? [];
    this.candWords.delete(key);
    this.candCount.delete(key);
    for (const w of list) {
      if (this.visited[w] === step) continue;
      this.visited[w] = step;
      const old = this.words[w] as number[];
      const settled = this.settle(old);
      if (settled === undefined) continue;
      const freq = this.freqs[w] as number;
      const oldKeys = this.pairKeys(old);
      for (const k of oldKeys) delta.set(k, (delta.get(k) ?? 0) - freq);
      for (const k of this.pairKeys(settled)) {
        delta.set(k, (delta.get(k) ?? 0) + freq);
        if (!oldKeys.includes(k)) {
          const words = this.candWords.get(k);
          if (words === undefined) this.candWords.set(k, [w]);
          else if (words[words.length - 1] !== w) words.push(w);
        }
      }
      this.words[w] = settled;
    }
    for (const [k, d] of delta) {
      if (d === 0 || k === key) continue;
      const count = (this.candCount.get(k) ?? 0) + d;
      if (count > 0) {
        this.candCount.set(k, count);
        this.push(count, k);
      } else {
        this.candCount.delete(k);
        this.candWords.delete(k);
      }
    }
    return true;
  }

  ranks(): Map<string, number> {
    return new Map(this.ids);
  }

  stats(): BpeTrainStats {
    let tokens = 0;
    for (let w = 0; w < this.words.length; w++) tokens += (this.words[w] as number[]).length * (this.freqs[w] as number);
    return {
      pieces: this.pieceCount,
      uniquePieces: this.words.length,
      bytes: this.byteCount,
      tokens,
      merges: this.merges,
    };
  }

  /**
   * Continues tiktoken's merge loop on a word (lowest rank first, leftmost on ties) now that the
   * newest token exists. Returns the new word, or `undefined` when nothing merged. Words are
   * pre-tokenized pieces, short enough for the quadratic scan.
   */
  private settle(word: readonly number[]): number[] | undefined {
    let current: number[] | undefined;
    let parts: readonly number[] = word;
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const id = this.ids.get((this.tokenKey[parts[i] as number] as string) + (this.tokenKey[parts[i + 1] as number] as string));
        if (id !== undefined && id < best) {
          best = id;
          at = i;
        }
      }
      if (at === -1) return current;
      current ??= parts.slice();
      current.splice(at, 2, best);
      parts = current;
    }
  }

  private pairKeys(word: readonly number[]): string[] {
    const keys: string[] = [];
    for (let i = 0; i + 1 < word.length; i++) {
      keys.push((this.tokenKey[word[i] as number] as string) + (this.tokenKey[word[i + 1] as number] as string));
    }
    return keys;
  }

  /** True when heap entry `a` goes before `b`: higher count, then the smaller byte string. */
  private before(a: number, b: number): boolean {
    const ca = this.heapCount[a] as number;
    const cb = this.heapCount[b] as number;
    return ca > cb || (ca === cb && (this.heapKey[a] as string) < (this.heapKey[b] as string));
  }

  private push(count: number, key: string): void {
    const counts = this.heapCount;
    const keys = this.heapKey;
    counts.push(count);
    keys.push(key);
    let i = counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Pops entries until a live one: the most frequent candidate, or `undefined` when none is left. */
  private popBest(): string | undefined {
    const counts = this.heapCount;
    const keys = this.heapKey;
    while (counts.length > 0) {
      const count = counts[0] as number;
      const key = keys[0] as string;
      const lastCount = counts.pop() as number;
      const lastKey = keys.pop() as string;
      if (counts.length > 0) {
        counts[0] = lastCount;
        keys[0] = lastKey;
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          if (left >= counts.length) break;
          const right = left + 1;
          const child = right < counts.length && this.before(right, left) ? right : left;
          if (!this.before(child, i)) break;
          this.swap(i, child);
          i = child;
        }
      }
      if (this.candCount.get(key) === count) return key;
    }
    return undefined;
  }

  private swap(a: number, b: number): void {
    const counts = this.heapCount;
    const keys = this.heapKey;
    const c = counts[a] as number;
    counts[a] = counts[b] as number;
    counts[b] = c;
    const k = keys[a] as string;
    keys[a] = keys[b] as string;
    keys[b] = k;
  }
}
