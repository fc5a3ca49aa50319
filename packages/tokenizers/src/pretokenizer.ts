/**
 * Hand-written scanners equivalent to the pre-tokenizer patterns of GPT-2 (used by gpt2, r50k_base
 * and p50k_base, and by default by the BPE trainer), cl100k_base and o200k_base, with tiktoken's
 * semantics (Rust regex): code points are classified from the pinned Unicode table of `unicode.ts`
 * (Unicode 16.0.0, as tiktoken 0.14), `\s` is White_Space (U+0085 yes, U+FEFF no) and the
 * case-insensitive contractions of cl100k_base / o200k_base fold as Rust does (`'ſ` is `'s`).
 * V8 runs `\p{L}` / `\p{N}` regexes at a few MB/s and allocates a string per match; the scanners
 * classify UTF-16 units from a table and return piece boundaries without allocating. Their
 * equivalence with the patterns compiled by `tiktoken-regex.ts` is tested on random Unicode, and
 * their ids with OpenAI's tiktoken on a committed fuzz fixture.
 */
import { hashRange } from "./piece-cache.js";
import { CATEGORY_MASK, unicodeTable, WHITE_SPACE_BIT } from "./unicode.js";

/**
 * GPT-2's pre-tokenizer pattern as js-tiktoken and tiktoken before 0.8 wrote it (gpt2, r50k_base,
 * p50k_base; the BPE trainer's default). Same pieces as `R50K_PATTERN`.
 */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** The pre-tokenizer pattern of gpt2, r50k_base and p50k_base, exactly as in tiktoken 0.14 (possessive quantifiers). */
export const R50K_PATTERN = "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s";

/** cl100k_base's pre-tokenizer pattern, exactly as in tiktoken 0.14. */
export const CL100K_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";

/** o200k_base's pre-tokenizer pattern, exactly as in tiktoken 0.14. */
export const O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" +
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" +
  "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * js-tiktoken's spelling of cl100k_base's pattern: its contractions list the ASCII cases
 * (`'s|'S|...`), so unlike tiktoken's `(?i:..)` they do not match `'ſ` (U+017F).
 */
export const JS_TIKTOKEN_CL100K_PATTERN =
  "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** js-tiktoken's spelling of o200k_base's pattern (ASCII-only contraction cases, as `JS_TIKTOKEN_CL100K_PATTERN`). */
export const JS_TIKTOKEN_O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|" +
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|" +
  "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const OTHER = 0;
const LETTER = 1;
const NUMBER = 2;
const SPACE = 3;

let bmpClasses: Uint8Array | undefined;

/** Letter, number, space or other, from a table byte (letters first, as the patterns test them). */
function classOf(byte: number): number {
  const cat = byte & CATEGORY_MASK;
  if (cat <= 4) return LETTER; // Lu Ll Lt Lm Lo
  if (cat >= 8 && cat <= 10) return NUMBER; // Nd Nl No
  return (byte & WHITE_SPACE_BIT) !== 0 ? SPACE : OTHER;
}

/** Class of every BMP unit, from the pinned table (surrogates stay OTHER: a lone one is U+FFFD for tiktoken). */
function classTable(): Uint8Array {
  if (bmpClasses === undefined) {
    const bytes = unicodeTable();
    bmpClasses = new Uint8Array(0x10000);
    for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) bmpClasses[c] = classOf(bytes[c] as number);
  }
  return bmpClasses;
}

function astralClass(codePoint: number): number {
  return classOf(unicodeTable()[codePoint] as number);
}

/**
 * A hand-written pre-tokenizer: `pieceEnd(text, i, end)` is where the piece starting at `i` ends,
 * treating `end` as the end of the text (as the regex does on a substring). The FNV-1a hash of
 * that piece (`hashRange` of `piece-cache.ts`) is left in `hash` (the GPT-2 scanner computes it in
 * the same pass), so that the encoder's cache lookup does not read the piece again.
 */
export interface PieceScanner {
  pieceEnd(text: string, start: number, end: number): number;
  /** FNV-1a hash of the UTF-16 units of the piece last returned by `pieceEnd`. */
  readonly hash: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Builds the GPT-2 scanner (the class table, 64 KiB, is built on first use and shared). */
export function createGpt2Scanner(): PieceScanner {
  return new Gpt2Scanner(classTable());
}

/**
 * The hand-written scanner for `pattern`, or `undefined` when there is none (GPT-2's and
 * cl100k_base's patterns have one).
 */
export function scannerFor(pattern: string): PieceScanner | undefined {
  if (pattern === GPT2_PATTERN || pattern === R50K_PATTERN) return createGpt2Scanner();
  if (pattern === CL100K_PATTERN) return new Cl100kScanner(classTable(), true, true);
  if (pattern === JS_TIKTOKEN_CL100K_PATTERN) return new Cl100kScanner(classTable(), false, false);
  if (pattern === O200K_PATTERN) return new O200kScanner(true);
  if (pattern === JS_TIKTOKEN_O200K_PATTERN) return new O200kScanner(false);
  return undefined;
}

/**
 * Length of the case-insensitive contraction (`'s`, `'t`, `'m`, `'d`, `'re`, `'ve`, `'ll`) at `i`,
 * or 0. `| 0x20` lower-cases ASCII letters (and maps nothing else onto them); with `longS`, `ſ`
 * (U+017F) is an `s`, as in Rust's case folding (no other code point folds onto these letters).
 */
function contractionLength(text: string, i: number, end: number, longS: boolean): number {
  if (i + 1 >= end || text.charCodeAt(i) !== 39) return 0;
  const raw = text.charCodeAt(i + 1);
  const d = raw | 0x20;
  if (d === 115 || d === 116 || d === 109 || d === 100 || (longS && raw === 0x17f)) return 2;
  if (i + 2 < end) {
    const e = text.charCodeAt(i + 2) | 0x20;
    if (((d === 114 || d === 118) && e === 101) || (d === 108 && e === 108)) return 3;
  }
  return 0;
}

/** Class of the code point at i, and its width in units, packed as cls | width << 2. */
function classAt(table: Uint8Array, text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return (table[c] as number) | 4;
  if (c <= 0xdbff && i + 1 < end) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return astralClass(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)) | 8;
  }
  return OTHER | 4;
}

class Gpt2Scanner implements PieceScanner {
  hash = 0;
  constructor(private readonly table: Uint8Array) {}

  /** Class of the code point at i, and its width in units, packed as cls | width << 2. */
  private at(text: string, i: number, end: number): number {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) return (this.table[c] as number) | 4;
    if (c <= 0xdbff && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) return astralClass(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)) | 8;
    }
    return OTHER | 4;
  }

  pieceEnd(text: string, start: number, end: number): number {
    const table = this.table;
    const c = text.charCodeAt(start);
    let h = Math.imul(FNV_OFFSET ^ c, FNV_PRIME);
    if (c === 39 && start + 1 < end) {
      // 's 't 're 've 'm 'll 'd, in the pattern's order (none is a prefix of another).
      const d = text.charCodeAt(start + 1);
      if (d === 115 || d === 116 || d === 109 || d === 100) {
        this.hash = Math.imul(h ^ d, FNV_PRIME);
        return start + 2;
      }
      if (start + 2 < end) {
        const e = text.charCodeAt(start + 2);
        if (((d === 114 || d === 118) && e === 101) || (d === 108 && e === 108)) {
          this.hash = Math.imul(Math.imul(h ^ d, FNV_PRIME) ^ e, FNV_PRIME);
          return start + 3;
        }
      }
    }
    let i = start;
    let info = this.at(text, i, end);
    if (c === 32 && start + 1 < end) {
      const next = this.at(text, start + 1, end);
      if ((next & 3) !== SPACE) {
        i = start + 1;
        info = next;
      }
    }
    const cls = info & 3;
    if (cls !== SPACE) {
      // ` ?\p{L}+`, ` ?\p{N}+` or ` ?[^\s\p{L}\p{N}]+`: a greedy run of one class.
      if (i !== start) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
      if (info >> 2 === 2) h = Math.imul(h ^ text.charCodeAt(i + 1), FNV_PRIME);
      i += info >> 2;
      while (i < end) {
        const code = text.charCodeAt(i);
        if (code < 0xd800 || code > 0xdfff) {
          if (table[code] !== cls) break;
          h = Math.imul(h ^ code, FNV_PRIME);
          i++;
        } else {
          const next = this.at(text, i, end);
          if ((next & 3) !== cls) break;
          h = Math.imul(h ^ code, FNV_PRIME);
          if (next >> 2 === 2) h = Math.imul(h ^ text.charCodeAt(i + 1), FNV_PRIME);
          i += next >> 2;
        }
      }
      this.hash = h;
      return i;
    }
    // `\s+(?!\S)|\s+`: every \s is one BMP unit. Before a non-space, leave the last space to it.
    let before = h;
    i = start + 1;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdfff) break;
      if (table[code] !== SPACE) break;
      before = h;
      h = Math.imul(h ^ code, FNV_PRIME);
      i++;
    }
    if (i === end || i - start === 1) {
      this.hash = h;
      return i;
    }
    this.hash = before;
    return i - 1;
  }
}

/**
 * cl100k_base's pattern, alternative by alternative:
 * 1. `'s|'t|'re|'ve|'m|'ll|'d` in any case;
 * 2. `[^\r\n\p{L}\p{N}]?\p{L}+`: letters, with one preceding non-letter, non-digit, non-newline;
 * 3. `\p{N}{1,3}`: one to three digits;
 * 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`: punctuation and symbols, then any newlines;
 * 5. `\s*[\r\n]+`: whitespace up to and including its last newline;
 * 6. `\s+(?!\S)|\s+`: other whitespace, leaving the last unit to a following non-space.
 */
class Cl100kScanner implements PieceScanner {
  hash = 0;
  /**
   * @param longS Whether `'ſ` is a contraction (tiktoken's `(?i:..)`; not js-tiktoken's ASCII list).
   * @param wholeTrailingRun Whether whitespace that runs to the end is one piece (tiktoken 0.14's
   *   `\s++$`, tried before `\s*[\r\n]`; the older spelling splits it after its last newline).
   */
  constructor(
    private readonly table: Uint8Array,
    private readonly longS: boolean,
    private readonly wholeTrailingRun: boolean,
  ) {}

  pieceEnd(text: string, start: number, end: number): number {
    const pieceEnd = this.scan(text, start, end);
    this.hash = hashRange(text, start, pieceEnd);
    return pieceEnd;
  }

  /** End of the run of code points of class `cls` from `i`. */
  private run(text: string, i: number, end: number, cls: number): number {
    const table = this.table;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code < 0xd800 || code > 0xdfff) {
        if (table[code] !== cls) break;
        i++;
      } else {
        const next = classAt(table, text, i, end);
        if ((next & 3) !== cls) break;
        i += next >> 2;
      }
    }
    return i;
  }

  private scan(text: string, start: number, end: number): number {
    const table = this.table;
    const c = text.charCodeAt(start);
    if (c === 39) {
      const contraction = contractionLength(text, start, end, this.longS);
      if (contraction !== 0) return start + contraction;
    }
    const first = classAt(table, text, start, end);
    const cls = first & 3;
    const width = first >> 2;
    if (cls === LETTER) return this.run(text, start + width, end, LETTER);
    if (cls !== NUMBER && c !== 13 && c !== 10 && start + width < end) {
      const next = classAt(table, text, start + width, end);
      if ((next & 3) === LETTER) return this.run(text, start + width + (next >> 2), end, LETTER);
    }
    if (cls === NUMBER) {
      let i = start + width;
      for (let count = 1; count < 3 && i < end; count++) {
        const next = classAt(table, text, i, end);
        if ((next & 3) !== NUMBER) break;
        i += next >> 2;
      }
      return i;
    }
    let i = start;
    if (c === 32 && start + 1 < end && (classAt(table, text, start + 1, end) & 3) === OTHER) i = start + 1;
    if (i !== start || cls === OTHER) {
      i = this.run(text, i, end, OTHER);
      while (i < end) {
        const code = text.charCodeAt(i);
        if (code !== 13 && code !== 10) break;
        i++;
      }
      return i;
    }
    // Whitespace (every \s is one BMP unit).
    let lastNewline = -1;
    i = start;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdfff) break;
      if (table[code] !== SPACE) break;
      if (code === 13 || code === 10) lastNewline = i;
      i++;
    }
    if (i === end && this.wholeTrailingRun) return i;
    if (lastNewline >= 0) return lastNewline + 1;
    if (i === end || i - start === 1) return i;
    return i - 1;
  }
}

/** Classes of o200k_base's pattern: its letter classes tell upper (Lu, Lt), lower (Ll) and both (Lm, Lo, M). */
const O_OTHER = 0;
const O_UPPER = 1;
const O_LOWER = 2;
const O_BOTH = 3;
const O_MARK = 4;
const O_NUMBER = 5;
const O_SPACE = 6;

let o200kClasses: Uint8Array | undefined;

/** o200k class of a table byte. */
function o200kClassOf(byte: number): number {
  const cat = byte & CATEGORY_MASK;
  if (cat === 0 || cat === 2) return O_UPPER; // Lu Lt
  if (cat === 1) return O_LOWER; // Ll
  if (cat === 3 || cat === 4) return O_BOTH; // Lm Lo
  if (cat >= 5 && cat <= 7) return O_MARK; // Mn Mc Me
  if (cat >= 8 && cat <= 10) return O_NUMBER;
  return (byte & WHITE_SPACE_BIT) !== 0 ? O_SPACE : O_OTHER;
}

/** o200k class of every BMP unit (surrogates stay OTHER), from the pinned table. */
function o200kTable(): Uint8Array {
  if (o200kClasses === undefined) {
    const bytes = unicodeTable();
    o200kClasses = new Uint8Array(0x10000);
    for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) o200kClasses[c] = o200kClassOf(bytes[c] as number);
  }
  return o200kClasses;
}

/** In `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` ("U"). */
const isUpperish = (cls: number): boolean => cls === O_UPPER || cls === O_BOTH || cls === O_MARK;
/** In `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` ("W"). */
const isLowerish = (cls: number): boolean => cls === O_LOWER || cls === O_BOTH || cls === O_MARK;

/**
 * o200k_base's pattern, alternative by alternative (P = `[^\r\n\p{L}\p{N}]`, U and W the two
 * letter-or-mark classes above, C an optional contraction in any case):
 * 1. `P?U*W+C?`; 2. `P?U+W*C?` (each tried with P first, as the regex backtracks);
 * 3. `\p{N}{1,3}`; 4. ` ?[^\s\p{L}\p{N}]+[\r\n/]*`; 5.-7. whitespace as in cl100k_base.
 */
class O200kScanner implements PieceScanner {
  hash = 0;
  private readonly table = o200kTable();
  private readonly astral = unicodeTable();

  /** @param longS Whether `'ſ` is a contraction (tiktoken's `(?i:..)`; not js-tiktoken's ASCII list). */
  constructor(private readonly longS: boolean) {}

  pieceEnd(text: string, start: number, end: number): number {
    const pieceEnd = this.scan(text, start, end);
    this.hash = hashRange(text, start, pieceEnd);
    return pieceEnd;
  }

  /** Class of the code point at i, and its width in units, packed as cls | width << 3. */
  private at(text: string, i: number, end: number): number {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) return (this.table[c] as number) | 8;
    if (c <= 0xdbff && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        return o200kClassOf(this.astral[0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)] as number) | 16;
      }
    }
    return O_OTHER | 8;
  }

  /** Past an optional contraction at i (`'s`, `'T`, `'rE`, ... in any case). */
  private contraction(text: string, i: number, end: number): number {
    return i + contractionLength(text, i, end, this.longS);
  }

  /** End of `U*W+C?` from p, or -1. */
  private upperThenLower(text: string, p: number, end: number): number {
    let i = p;
    let lastLowerish = -1; // end of the last W code point inside the U run
    while (i < end) {
      const info = this.at(text, i, end);
      const cls = info & 7;
      if (!isUpperish(cls)) break;
      i += info >> 3;
      if (isLowerish(cls)) lastLowerish = i;
    }
    if (i < end && (this.at(text, i, end) & 7) === O_LOWER) return this.contraction(text, this.lowerRun(text, i, end), end);
    // W+ must give back into the U run: it ends right after the run's last W code point.
    return lastLowerish === -1 ? -1 : this.contraction(text, lastLowerish, end);
  }

  /** End of `U+W*C?` from p, or -1. */
  private upperRunThenLower(text: string, p: number, end: number): number {
    let i = p;
    while (i < end) {
      const info = this.at(text, i, end);
      if (!isUpperish(info & 7)) break;
      i += info >> 3;
    }
    return i === p ? -1 : this.contraction(text, this.lowerRun(text, i, end), end);
  }

  private lowerRun(text: string, i: number, end: number): number {
    while (i < end) {
      const info = this.at(text, i, end);
      if (!isLowerish(info & 7)) break;
      i += info >> 3;
    }
    return i;
  }

  private scan(text: string, start: number, end: number): number {
    const c = text.charCodeAt(start);
    const first = this.at(text, start, end);
    const cls = first & 7;
    const width = first >> 3;
    const prefixable = c !== 13 && c !== 10 && (cls === O_OTHER || cls === O_MARK || cls === O_SPACE);
    const afterPrefix = start + width;
    let e: number;
    if (prefixable && afterPrefix < end && (e = this.upperThenLower(text, afterPrefix, end)) !== -1) return e;
    if ((e = this.upperThenLower(text, start, end)) !== -1) return e;
    if (prefixable && afterPrefix < end && (e = this.upperRunThenLower(text, afterPrefix, end)) !== -1) return e;
    if ((e = this.upperRunThenLower(text, start, end)) !== -1) return e;
    if (cls === O_NUMBER) {
      let i = afterPrefix;
      for (let count = 1; count < 3 && i < end; count++) {
        const next = this.at(text, i, end);
        if ((next & 7) !== O_NUMBER) break;
        i += next >> 3;
      }
      return i;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`: the run may hold marks (M is not L).
    let i = start;
    if (c === 32 && afterPrefix < end) {
      const next = this.at(text, afterPrefix, end) & 7;
      if (next === O_OTHER || next === O_MARK) i = afterPrefix;
    }
    if (i !== start || cls === O_OTHER || cls === O_MARK) {
      while (i < end) {
        const info = this.at(text, i, end);
        const k = info & 7;
        if (k !== O_OTHER && k !== O_MARK) break;
        i += info >> 3;
      }
      while (i < end) {
        const code = text.charCodeAt(i);
        if (code !== 13 && code !== 10 && code !== 47) break;
        i++;
      }
      return i;
    }
    // Whitespace (every \s is one BMP unit), as in cl100k_base.
    const table = this.table;
    let lastNewline = -1;
    i = start;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdfff) break;
      if (table[code] !== O_SPACE) break;
      if (code === 13 || code === 10) lastNewline = i;
      i++;
    }
    if (lastNewline >= 0) return lastNewline + 1;
    if (i === end || i - start === 1) return i;
    return i - 1;
  }
}
