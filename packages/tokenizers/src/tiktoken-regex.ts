/**
 * Compiling a pre-tokenizer pattern written for tiktoken (Rust `fancy-regex` syntax) into a
 * JavaScript RegExp with tiktoken's semantics:
 * - `\p{..}` / `\P{..}` (general categories), `\s`, `\d`, `\w` and their negations become explicit
 *   code-point ranges from the pinned table of `unicode.ts` (not the engine's ICU): `\s` is
 *   Unicode White_Space (U+0085 yes, U+FEFF no), `\d` is `\p{Nd}`, `\w` is Unicode `\w`;
 * - `(?i:..)` and `(?i)` match case-insensitively with Rust's simple case folding (`s` matches
 *   `ſ` U+017F, `k` matches `K` U+212A): letters become classes of their folding orbit;
 * - possessive quantifiers (`x++`, `x*+`, `x?+`, `x{1,3}+`) become their atomic equivalent
 *   `(?=(x+))\k<n>`; capturing groups become non-capturing (only whole matches are used);
 * - `.` is anything but `\n`; `\A` / `\z` are `^` / `$` (no multi-line mode); `\x{..}` is `\u{..}`.
 * Script properties (`\p{Han}`) and other binary properties are left to the engine.
 */
import { TokenizerError } from "./errors.js";
import { caseOrbit, propertyPredicate, rangesOf, WHITE_SPACE_BIT, WORD_BIT, CATEGORY_MASK } from "./unicode.js";

type Ranges = [number, number][];

const compiled = new Map<string, string>();

/**
 * The JavaScript source (for flags `gu`) equivalent to the tiktoken pattern `pattern`. Throws a
 * `TokenizerError` naming the construct for syntax this translation does not support.
 */
export function tiktokenRegexSource(pattern: string): string {
  let source = compiled.get(pattern);
  if (source === undefined) {
    source = new Translator(pattern).translate();
    compiled.set(pattern, source);
  }
  return source;
}

/** A RegExp (flags `gu`) with tiktoken's semantics for `pattern` (see `tiktokenRegexSource`). */
export function compileTiktokenRegex(pattern: string): RegExp {
  let source: string;
  try {
    source = tiktokenRegexSource(pattern);
    return new RegExp(source, "gu");
  } catch (error) {
    if (error instanceof TokenizerError) throw error;
    throw new TokenizerError(`\`pattern\` is not a valid regular expression: ${(error as Error).message}`, "pattern");
  }
}

const rangeCache = new Map<string, Ranges>();

function cachedRanges(key: string, test: (byte: number) => boolean): Ranges {
  let ranges = rangeCache.get(key);
  if (ranges === undefined) {
    ranges = rangesOf(test);
    rangeCache.set(key, ranges);
  }
  return ranges;
}

function complement(ranges: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) out.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function union(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

function codePointSource(c: number): string {
  if (c >= 0x30 && c <= 0x39) return String.fromCharCode(c);
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return String.fromCharCode(c);
  return `\\u{${c.toString(16)}}`;
}

/** Class body (without brackets) for sorted ranges. */
function classBody(ranges: Ranges): string {
  let out = "";
  for (const [from, to] of ranges) {
    out += codePointSource(from);
    if (to > from) out += (to > from + 1 ? "-" : "") + codePointSource(to);
  }
  return out;
}

function classSource(ranges: Ranges): string {
  if (ranges.length === 0) return "[]";
  const negated = complement(ranges);
  // `[^...]` with fewer ranges is shorter and compiles the same.
  return negated.length < ranges.length ? `[^${classBody(negated)}]` : `[${classBody(ranges)}]`;
}

/** Ranges of a backslash class escape (`s`, `S`, `d`, `D`, `w`, `W`), or undefined. */
function escapeClassRanges(letter: string): Ranges | undefined {
  switch (letter) {
    case "s":
      return cachedRanges("\\s", (b) => (b & WHITE_SPACE_BIT) !== 0);
    case "d":
      return cachedRanges("\\d", (b) => (b & CATEGORY_MASK) === 8);
    case "w":
      return cachedRanges("\\w", (b) => (b & WORD_BIT) !== 0);
    case "S":
    case "D":
    case "W":
      return complement(escapeClassRanges(letter.toLowerCase()) as Ranges);
    default:
      return undefined;
  }
}

function withCase(ranges: Ranges, caseless: boolean): Ranges {
  if (!caseless) return ranges;
  const extra: Ranges = [];
  for (const [from, to] of ranges) {
    if (to - from > 0x3000) continue; // large ranges (whole categories) are closed under folding in practice
    for (let c = from; c <= to; c++) for (const o of caseOrbit(c)) if (o !== c) extra.push([o, o]);
  }
  return extra.length === 0 ? ranges : union([...ranges, ...extra]);
}

class Translator {
  private i = 0;
  private groups = 0;

  constructor(private readonly pattern: string) {}

  translate(): string {
    const out = this.alternation(false);
    if (this.i < this.pattern.length) this.fail(`unbalanced ")" at index ${this.i}`);
    return out;
  }

  private fail(what: string): never {
    const shown = JSON.stringify(this.pattern.length > 80 ? this.pattern.slice(0, 80) + "..." : this.pattern);
    throw new TokenizerError(`\`pattern\` is not a valid regular expression in tiktoken's syntax (as this package supports it): ${what}, received ${shown}`, "pattern");
  }

  /** alternatives separated by `|`, up to an unmatched `)` or the end. */
  private alternation(caseless: boolean): string {
    const parts: string[] = [];
    let flags = caseless;
    for (;;) {
      const [seq, after] = this.sequence(flags);
      parts.push(seq);
      flags = after;
      if (this.pattern[this.i] !== "|") break;
      this.i++;
    }
    return parts.join("|");
  }

  /** A sequence of quantified atoms; returns it and the case flag in force at its end (`(?i)` sets it). */
  private sequence(caseless: boolean): [string, boolean] {
    let out = "";
    const p = this.pattern;
    while (this.i < p.length && p[this.i] !== "|" && p[this.i] !== ")") {
      if (p.startsWith("(?i)", this.i)) {
        caseless = true;
        this.i += 4;
        continue;
      }
      if (p.startsWith("(?-i)", this.i)) {
        caseless = false;
        this.i += 5;
        continue;
      }
      const atom = this.atom(caseless);
      out += this.quantified(atom);
    }
    return [out, caseless];
  }

  private quantified(atom: string): string {
    const p = this.pattern;
    const c = p[this.i];
    let quantifier = "";
    if (c === "*" || c === "+" || c === "?") {
      quantifier = c;
      this.i++;
    } else if (c === "{") {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(this.i));
      if (match === null) return atom + this.literal("{".codePointAt(0) as number, false, true);
      quantifier = match[0];
      this.i += match[0].length;
    } else {
      return atom;
    }
    if (p[this.i] === "?") {
      this.i++;
      return atom + quantifier + "?";
    }
    if (p[this.i] === "+") {
      // Possessive: match greedily once, never give back (an atomic group, emulated by a lookahead).
      this.i++;
      const name = `p${this.groups++}`;
      return `(?=(?<${name}>${atom}${quantifier}))\\k<${name}>`;
    }
    return atom + quantifier;
  }

  private atom(caseless: boolean): string {
    const p = this.pattern;
    const c = p[this.i] as string;
    if (c === "(") return this.group(caseless);
    if (c === "[") return classSource(this.charClass(caseless));
    if (c === "\\") return this.escape(caseless);
    this.i++;
    if (c === ".") return "[^\\n]";
    if (c === "^" || c === "$") return c;
    if (c === "*" || c === "+" || c === "?") this.fail(`nothing to repeat at index ${this.i - 1}`);
    const code = p.codePointAt(this.i - 1) as number;
    if (code > 0xffff) this.i++;
    return this.literal(code, caseless, false);
  }

  private literal(code: number, caseless: boolean, _quoted: boolean): string {
    if (caseless) {
      const orbit = caseOrbit(code);
      if (orbit.length > 1) return `[${classBody(union(orbit.map((o) => [o, o])))}]`;
    }
    const char = String.fromCodePoint(code);
    if (/[\\^$.*+?()[\]{}|/]/.test(char)) return "\\" + char;
    if (code < 0x20 || code > 0x7e) return `\\u{${code.toString(16)}}`;
    return char;
  }

  private group(caseless: boolean): string {
    const p = this.pattern;
    this.i++; // (
    let open = "(?:";
    let inner = caseless;
    if (p[this.i] === "?") {
      const rest = p.slice(this.i);
      const flagGroup = /^\?([a-zA-Z]*)(?:-([a-zA-Z]*))?:/.exec(rest);
      if (rest.startsWith("?:")) {
        this.i += 2;
      } else if (rest.startsWith("?=") || rest.startsWith("?!")) {
        open = "(" + rest.slice(0, 2);
        this.i += 2;
      } else if (rest.startsWith("?<=") || rest.startsWith("?<!")) {
        open = "(" + rest.slice(0, 3);
        this.i += 3;
      } else if (rest.startsWith("?P<") || rest.startsWith("?<")) {
        this.i = p.indexOf(">", this.i) + 1;
        if (this.i === 0) this.fail("unterminated group name");
      } else if (rest.startsWith("?>")) {
        // Atomic group: the same lookahead emulation as a possessive quantifier.
        this.i += 2;
        const body = this.alternation(caseless);
        this.expect(")");
        const name = `p${this.groups++}`;
        return `(?=(?<${name}>${body}))\\k<${name}>`;
      } else if (flagGroup !== null && flagGroup[0] !== "?:") {
        const on = flagGroup[1] ?? "";
        const off = flagGroup[2] ?? "";
        if (/[^i]/.test(on + off)) this.fail(`flag group "(${flagGroup[0]}" (only the i flag is supported)`);
        if (on.includes("i")) inner = true;
        if (off.includes("i")) inner = false;
        this.i += flagGroup[0].length;
      } else {
        this.fail(`group "(${rest.slice(0, 4)}" at index ${this.i - 1}`);
      }
    }
    const body = this.alternation(inner);
    this.expect(")");
    return open + body + ")";
  }

  private expect(char: string): void {
    if (this.pattern[this.i] !== char) this.fail(`expected "${char}" at index ${this.i}`);
    this.i++;
  }

  /** `\p{..}`, `\pL`, `\P..`: ranges of the property, or undefined when the table lacks it (then `source` is the escape as written). */
  private property(): { ranges?: Ranges; source: string } {
    const p = this.pattern;
    const negated = p[this.i + 1] === "P";
    let name: string;
    let end: number;
    if (p[this.i + 2] === "{") {
      end = p.indexOf("}", this.i + 3);
      if (end === -1) this.fail(`unterminated \\p{ at index ${this.i}`);
      name = p.slice(this.i + 3, end);
      end++;
    } else {
      name = p[this.i + 2] ?? "";
      end = this.i + 3;
    }
    const source = p.slice(this.i, end);
    this.i = end;
    let flip = negated;
    if (name.startsWith("^")) {
      flip = !flip;
      name = name.slice(1);
    }
    const test = propertyPredicate(name);
    if (test === undefined) return { source };
    const ranges = cachedRanges(`p:${name}`, test);
    return { ranges: flip ? complement(ranges) : ranges, source };
  }

  private escape(caseless: boolean): string {
    const p = this.pattern;
    const next = p[this.i + 1];
    if (next === undefined) this.fail("trailing backslash");
    if (next === "p" || next === "P") {
      const { ranges, source } = this.property();
      return ranges === undefined ? source : classSource(ranges);
    }
    const classRanges = escapeClassRanges(next);
    if (classRanges !== undefined) {
      this.i += 2;
      return classSource(classRanges);
    }
    const code = this.escapedCodePoint();
    if (code !== undefined) return this.literal(code, caseless, true);
    this.i += 2;
    if (next === "A") return "^";
    if (next === "z") return "$";
    if (next === "b" || next === "B") return "\\" + next;
    if (/[0-9]/.test(next) || next === "k") this.fail(`back-reference "\\${next}"`);
    this.fail(`escape "\\${next}"`);
  }

  /** The code point of a literal escape at `i` (`\n`, `\x41`, `\x{1F600}`, `\u0041`, `\.`), advancing past it; else undefined. */
  private escapedCodePoint(): number | undefined {
    const p = this.pattern;
    const next = p[this.i + 1] as string;
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, a: 7, e: 27, "0": 0 };
    if (next in simple && !(next === "0" && /[0-9]/.test(p[this.i + 2] ?? ""))) {
      this.i += 2;
      return simple[next];
    }
    let match: RegExpExecArray | null;
    if ((match = /^\\(?:x\{([0-9a-fA-F]+)\}|x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(p.slice(this.i))) !== null) {
      this.i += match[0].length;
      return Number.parseInt(match.slice(1).find((g) => g !== undefined) as string, 16);
    }
    if (!/[0-9A-Za-z]/.test(next)) {
      const code = p.codePointAt(this.i + 1) as number;
      this.i += code > 0xffff ? 3 : 2;
      return code;
    }
    return undefined;
  }

  /** A bracketed class `[...]` at `i`, as the ranges it matches (negation applied). */
  private charClass(caseless: boolean): Ranges {
    const p = this.pattern;
    this.i++; // [
    let negated = false;
    if (p[this.i] === "^") {
      negated = true;
      this.i++;
    }
    const ranges: Ranges = [];
    let first = true;
    while (this.i < p.length && (p[this.i] !== "]" || first)) {
      first = false;
      if (p[this.i] === "[") this.fail(`nested class at index ${this.i}`);
      if (p.startsWith("&&", this.i) || p.startsWith("--", this.i) || p.startsWith("~~", this.i)) this.fail(`class operator "${p.slice(this.i, this.i + 2)}" at index ${this.i}`);
      let from: number;
      if (p[this.i] === "\\") {
        const next = p[this.i + 1] as string;
        if (next === "p" || next === "P") {
          const { ranges: property, source } = this.property();
          if (property === undefined) this.fail(`property ${source} inside a class (the pinned table holds general categories only)`);
          ranges.push(...property);
          continue;
        }
        const escaped = escapeClassRanges(next);
        if (escaped !== undefined) {
          this.i += 2;
          ranges.push(...escaped);
          continue;
        }
        const code = this.escapedCodePoint();
        if (code === undefined) this.fail(`escape "\\${next}" inside a class`);
        from = code;
      } else {
        from = p.codePointAt(this.i) as number;
        this.i += from > 0xffff ? 2 : 1;
      }
      let to = from;
      if (p[this.i] === "-" && p[this.i + 1] !== "]" && this.i + 1 < p.length) {
        this.i++;
        if (p[this.i] === "\\") {
          const code = this.escapedCodePoint();
          if (code === undefined) this.fail(`range end at index ${this.i}`);
          to = code;
        } else {
          to = p.codePointAt(this.i) as number;
          this.i += to > 0xffff ? 2 : 1;
        }
        if (to < from) this.fail(`range out of order at index ${this.i}`);
      }
      ranges.push([from, to]);
    }
    this.expect("]");
    const set = withCase(union(ranges), caseless);
    return negated ? complement(set) : set;
  }
}
