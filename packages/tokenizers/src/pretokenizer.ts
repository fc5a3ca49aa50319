/**
 * A hand-written scanner equivalent to GPT-2's pre-tokenizer regex (used by gpt2, r50k_base and
 * p50k_base, and by default by the BPE trainer). V8 runs the `\p{L}` / `\p{N}` regex at about
 * 10 MB/s and allocates a string per match; this scanner classifies UTF-16 units from a table and
 * returns piece boundaries without allocating. Its equivalence with the regex (as matched by
 * `String.prototype.matchAll` with flags `gu`) is tested on corpora and random Unicode.
 */

/** GPT-2's pre-tokenizer pattern, exactly as in tiktoken's `gpt2` / `r50k_base` / `p50k_base`. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const OTHER = 0;
const LETTER = 1;
const NUMBER = 2;
const SPACE = 3;

let bmpClasses: Uint8Array | undefined;
const astralClasses = new Map<number, number>();

function classify(char: string): number {
  if (/\p{L}/u.test(char)) return LETTER;
  if (/\p{N}/u.test(char)) return NUMBER;
  if (/\s/u.test(char)) return SPACE;
  return OTHER;
}

/** Class of every BPM unit, built once from the very regexes the pattern uses (exact by construction). */
function classTable(): Uint8Array {
  if (bmpClasses === undefined) {
    bmpClasses = new Uint8Array(0x10000);
    const letter = /\p{L}/u;
    const number = /\p{N}/u;
    const space = /\s/u;
    for (let c = 0; c < 0x10000; c++) {
      // Surrogates stay OTHER: a lone one is "other" for the regex; pairs are classified separately.
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const char = String.fromCharCode(c);
      bmpClasses[c] = letter.test(char) ? LETTER : number.test(char) ? NUMBER : space.test(char) ? SPACE : OTHER;
    }
  }
  return bmpClasses;
}

function astralClass(codePoint: number): number {
  let cls = astralClasses.get(codePoint);
  if (cls === undefined) {
    cls = classify(String.fromCodePoint(codePoint));
    astralClasses.set(codePoint, cls);
  }
  return cls;
}

/**
 * A pre-tokenizer for GPT-2's pattern: `pieceEnd(text, i, end)` is where the piece starting at `i`
 * ends, treating `end` as the end of the text (as the regex does on a substring). The FNV-1a hash
 * of that piece (`hashRange` of `piece-cache.ts`) is left in `hash`, computed in the same pass, so
 * that the encoder's cache lookup does not read the piece again.
 */
export interface Gpt2Scanner {
  pieceEnd(text: string, start: number, end: number): number;
  /** FNV-1a hash of the UTF-16 units of the piece last returned by `pieceEnd`. */
  readonly hash: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Builds the GPT-2 scanner (the class table, 64 KiB, is built on first use and shared). */
export function createGpt2Scanner(): Gpt2Scanner {
  return new Gpt2ScannerImpl(classTable());
}

class Gpt2ScannerImpl implements Gpt2Scanner {
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
