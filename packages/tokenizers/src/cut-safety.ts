/**
 * Where a text can be cut without changing its ids: the pre-tokenizer regex must start a piece at
 * the cut whether or not the text goes on after it. Used by `ParallelEncoder` (`worker-pool.ts`)
 * to hand out chunks; pure string work (browser-safe).
 */
import { compileTiktokenRegex } from "./tiktoken-regex.js";
import { unicodeTable, WHITE_SPACE_BIT } from "./unicode.js";

/** How far (in UTF-16 units) before a candidate cut the regex is re-run to verify it. */
const VERIFY_LOOKBACK = 256;

/**
 * Positions where `text` can be cut without changing the ids, about `chunkSize` apart.
 *
 * A candidate is the start of a line break (`"\n"` or `"\r\n"`) right after a non-whitespace
 * char: in GPT-2's, cl100k's and o200k's regex such a line break starts a new piece. Each
 * candidate is then checked with the regex itself, so that other patterns (and the exceptions,
 * e.g. cl100k's `".\n"` piece) are handled: run from two points before the candidate, the regex
 * must start a match exactly there both times, and the pieces just before it must be the same
 * whether or not the text goes on after it (lookaheads such as `\s+(?!\S)` see past a cut).
 * A cut is never inside a special token. Patterns that look behind or at the text's start
 * (`(?<=`, `(?<!`, `\b`, `\B`, `^`) are never cut; `$` (tiktoken 0.14's `\s++$`) is verified as a lookahead is.
 *
 * @param text The text.
 * @param pattern The pre-tokenizer regex source.
 * @param specialTokens The tokenizer's special tokens.
 * @param chunkSize The wanted distance between cuts; a cut moves forward to the next safe position.
 * @returns Increasing positions in `(0, text.length)`.
 */
export function findSafeCuts(text: string, pattern: string, specialTokens: readonly string[], chunkSize: number): number[] {
  return [...safeCuts(text, pattern, specialTokens, chunkSize)];
}

/** `findSafeCuts`, one cut at a time (so that a caller can start work before all cuts are known). */
export function* safeCuts(text: string, pattern: string, specialTokens: readonly string[], chunkSize: number): Generator<number> {
  if (!isCuttable(pattern)) return;
  const regex = compileTiktokenRegex(pattern);
  let from = chunkSize;
  while (from < text.length) {
    let p = nextCandidate(text, from);
    while (p !== -1 && !isSafeCut(text, p, regex, specialTokens)) p = nextCandidate(text, p + 1);
    if (p === -1) return;
    yield p;
    from = p + chunkSize;
  }
}

/** The first line-break start at or after `from` that follows a non-whitespace char, or -1. */
function nextCandidate(text: string, from: number): number {
  for (let p = text.indexOf("\n", from); p !== -1; p = text.indexOf("\n", p + 1)) {
    const start = p > 0 && text.charCodeAt(p - 1) === 13 ? p - 1 : p;
    // tiktoken's \s (pinned White_Space); a surrogate unit is never whitespace.
    if (start > 0 && start >= from && ((unicodeTable()[text.charCodeAt(start - 1)] as number) & WHITE_SPACE_BIT) === 0) return start;
  }
  return -1;
}

function isSafeCut(text: string, p: number, regex: RegExp, specialTokens: readonly string[]): boolean {
  for (const token of specialTokens) {
    // Only the chars around p can hold an occurrence spanning it (searching the whole text would be O(n) a cut).
    const around = text.slice(Math.max(0, p - token.length + 1), p + token.length - 1);
    if (token.length > 1 && around.includes(token)) return false;
  }
  const near = Math.max(0, p - VERIFY_LOOKBACK);
  const far = Math.max(0, p - 4 * VERIFY_LOOKBACK);
  const tail = piecesUpTo(text, near, p, regex);
  if (tail === undefined || piecesUpTo(text, far, p, regex) === undefined) return false;
  // The left chunk ends at p: its last pieces must not change when the text stops there.
  const cutTail = piecesUpTo(text.slice(near, p), 0, p - near, regex);
  return cutTail !== undefined && cutTail.join("\u0000") === tail.join("\u0000");
}

/** The pieces the regex finds from `from` up to `p`, or `undefined` if no piece ends exactly at `p`. */
function piecesUpTo(text: string, from: number, p: number, regex: RegExp): string[] | undefined {
  const pieces: string[] = [];
  regex.lastIndex = from;
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) {
    if (match.index >= p) return match.index === p ? pieces : undefined; // p is inside a gap
    const end = match.index + match[0].length;
    if (end > p) return undefined;
    pieces.push(match[0]);
    if (end === p) return pieces;
    if (match[0].length === 0) regex.lastIndex++;
  }
  return p === text.length ? pieces : undefined;
}

/** False for patterns whose matches depend on what is before them or on where the text starts. */
function isCuttable(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (!inClass && (next === "b" || next === "B")) return false;
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
      if (pattern[i + 1] === "^") i++;
    } else if (c === "^" || pattern.startsWith("(?<=", i) || pattern.startsWith("(?<!", i)) {
      // `$` (the text's end, e.g. tiktoken 0.14's `\s++$`) is fine: like a lookahead, its effect
      // on the pieces before a cut is what isSafeCut verifies.
      return false;
    }
  }
  return true;
}
