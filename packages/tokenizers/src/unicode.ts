/**
 * tiktoken's Unicode character classes, pinned: every pre-tokenizer (the hand-written scanners and
 * the generic regex path) classifies code points from the table in `unicode-data.ts` (Unicode
 * 16.0.0, read from the Rust regex engine of OpenAI's tiktoken 0.14 by `scripts/unicode-table.py`),
 * never from the running engine's ICU, so the ids are the same on every Node version and browser.
 */
import { CASE_ORBITS, CATEGORIES, CLASS_RUNS, UNICODE_VERSION } from "./unicode-data.js";

export { CATEGORIES, UNICODE_VERSION };

/** A general category, e.g. `"Lu"`. */
export type Category = (typeof CATEGORIES)[number];

/** Bit of a table byte: the code point is Rust's `\s` (Unicode White_Space: U+0085 yes, U+FEFF no). */
export const WHITE_SPACE_BIT = 1 << 5;
/** Bit of a table byte: the code point is Rust's Unicode `\w`. */
export const WORD_BIT = 1 << 6;
/** Mask of a table byte's general-category index. */
export const CATEGORY_MASK = 31;

let table: Uint8Array | undefined;

/**
 * One byte per code point (0..0x10FFFF): general-category index (into `CATEGORIES`) |
 * `WHITE_SPACE_BIT` | `WORD_BIT`. Decoded on first use (1.1 MB) and shared.
 */
export function unicodeTable(): Uint8Array {
  if (table === undefined) {
    const out = new Uint8Array(0x110000);
    let at = 0;
    for (const run of CLASS_RUNS.split(",")) {
      const dot = run.indexOf(".");
      const length = Number.parseInt(run.slice(0, dot), 16);
      out.fill(Number.parseInt(run.slice(dot + 1), 16), at, at + length);
      at += length;
    }
    // tiktoken replaces a lone surrogate by U+FFFD before splitting: give surrogates its class.
    out.fill(out[0xfffd] as number, 0xd800, 0xe000);
    table = out;
  }
  return table;
}

/** Code point -> its case-folding orbit (all code points `(?i)` treats as equal to it), for cased ones. */
let orbits: Map<number, readonly number[]> | undefined;

/** The code points that match `codePoint` case-insensitively in Rust's `regex` (itself included). */
export function caseOrbit(codePoint: number): readonly number[] {
  if (orbits === undefined) {
    orbits = new Map();
    for (const group of CASE_ORBITS.split(",")) {
      const members = group.split(" ").map((hex) => Number.parseInt(hex, 16));
      for (const member of members) orbits.set(member, members);
    }
  }
  return orbits.get(codePoint) ?? [codePoint];
}

/** Long names of the general categories and their groups, as Rust's `\p{..}` accepts them. */
const LONG_NAMES: Record<string, string> = {
  letter: "L", casedletter: "LC", uppercaseletter: "Lu", lowercaseletter: "Ll", titlecaseletter: "Lt",
  modifierletter: "Lm", otherletter: "Lo", mark: "M", combiningmark: "M", nonspacingmark: "Mn",
  spacingmark: "Mc", enclosingmark: "Me", number: "N", decimalnumber: "Nd", digit: "Nd",
  letternumber: "Nl", othernumber: "No", punctuation: "P", punct: "P", connectorpunctuation: "Pc",
  dashpunctuation: "Pd", openpunctuation: "Ps", closepunctuation: "Pe", initialpunctuation: "Pi",
  finalpunctuation: "Pf", otherpunctuation: "Po", symbol: "S", mathsymbol: "Sm", currencysymbol: "Sc",
  modifiersymbol: "Sk", othersymbol: "So", separator: "Z", spaceseparator: "Zs", lineseparator: "Zl",
  paragraphseparator: "Zp", other: "C", control: "Cc", cntrl: "Cc", format: "Cf", surrogate: "Cs",
  privateuse: "Co", unassigned: "Cn",
};

/**
 * The predicate on table bytes of a `\p{name}` property, or `undefined` for properties the table
 * does not hold (scripts, binary properties other than White_Space): general categories and their
 * one-letter groups (`L`, `Lu`, `Letter`, `LC`, `L&`, `gc=Lu`, ...), `Any`, `White_Space`.
 */
export function propertyPredicate(name: string): ((byte: number) => boolean) | undefined {
  let key = name.replace(/^(?:gc|generalcategory|general_category)\s*[=:]\s*/i, "");
  const loose = key.toLowerCase().replace(/[\s_-]/g, "");
  if (loose === "any") return () => true;
  if (loose === "whitespace" || loose === "wspace" || loose === "space") return (b) => (b & WHITE_SPACE_BIT) !== 0;
  key = LONG_NAMES[loose] ?? key;
  if (key === "LC" || key === "L&") return (b) => (b & CATEGORY_MASK) <= 2;
  const exact = CATEGORIES.findIndex((cat) => cat.toLowerCase() === key.toLowerCase());
  if (exact !== -1) return (b) => (b & CATEGORY_MASK) === exact;
  if (key.length === 1) {
    const group = key.toUpperCase();
    const members = CATEGORIES.flatMap((cat, index) => (cat[0] === group ? [index] : []));
    if (members.length === 0) return undefined;
    const lo = members[0] as number;
    const hi = members[members.length - 1] as number;
    return (b) => (b & CATEGORY_MASK) >= lo && (b & CATEGORY_MASK) <= hi;
  }
  return undefined;
}

/** Sorted, disjoint inclusive ranges `[from, to]` of the code points whose table byte satisfies `test`. */
export function rangesOf(test: (byte: number) => boolean): [number, number][] {
  const bytes = unicodeTable();
  const ranges: [number, number][] = [];
  let from = -1;
  for (let c = 0; c <= 0x110000; c++) {
    const inside = c < 0x110000 && test(bytes[c] as number);
    if (inside && from === -1) from = c;
    else if (!inside && from !== -1) {
      ranges.push([from, c - 1]);
      from = -1;
    }
  }
  return ranges;
}
