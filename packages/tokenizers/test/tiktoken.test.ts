import { readFileSync } from "node:fs";
import { createRng } from "@tfgpt/common";
import { getEncoding } from "js-tiktoken";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import { describe, expect, it } from "vitest";
import { readTextSync } from "../src/read-text.js";
import { getTokenizer } from "../src/registry.js";
import { BpeCore } from "../src/bpe-core.js";
import { parseTiktokenRanks, TIKTOKEN_ENCODINGS } from "../src/tiktoken.js";
import { dataFile } from "./data.js";
import { CATEGORY_MASK, unicodeTable, WHITE_SPACE_BIT } from "../src/unicode.js";
import "../src/encodings/all.js"; // registers the five tiktoken encodings, as the main entry does

const verdict = readFileSync(dataFile("the-verdict.txt"), "utf8");
const frankenstein = readTextSync(dataFile("pg84.txt"));
const frankensteinRaw = readTextSync(dataFile("pg84.txt"), { newline: "keep" });
const frankensteinCp1252 = readTextSync(dataFile("pg84-cp1252.txt"), { onInvalidUtf8: ({ replaced }) => expect(replaced).toBe(1207) });

/** Random strings mixing the character kinds the pre-tokenizers treat differently. */
function randomUnicode(random: () => number, length: number): string {
  const pools: (() => string)[] = [
    () => " ",
    () => "  \t\n\r\n\u00a0\u3000\ufeff"[Math.floor(random() * 11)] as string,
    () => String.fromCharCode(97 + Math.floor(random() * 26)),
    () => String.fromCharCode(65 + Math.floor(random() * 26)),
    () => String.fromCharCode(48 + Math.floor(random() * 10)),
    () => "'s 't 're 've 'm 'll 'd 'S 'T 'RE".split(" ")[Math.floor(random() * 11)] as string,
    () => ".,;:!?\"'()[]{}-_/\\@#$%^&*+=<>|~`"[Math.floor(random() * 34)] as string,
    () => String.fromCodePoint(0x00c0 + Math.floor(random() * 0x250)), // Latin-1 and extended Latin
    () => String.fromCodePoint(0x0300 + Math.floor(random() * 0x70)), // combining marks
    () => String.fromCodePoint(0x4e00 + Math.floor(random() * 0x5000)), // CJK
    () => String.fromCodePoint(0x0660 + Math.floor(random() * 10)), // Arabic-Indic digits
    () => String.fromCodePoint(0x1f300 + Math.floor(random() * 0x300)), // emoji (astral)
    () => String.fromCodePoint(0x10000 + Math.floor(random() * 0x100)), // astral letters (Linear B)
    () => String.fromCharCode(0xd800 + Math.floor(random() * 0x800)), // lone surrogate
    () => String.fromCodePoint(Math.floor(random() * 0x3000)), // anything BMP-low
  ];
  let out = "";
  while (out.length < length) {
    const pick = pools[Math.floor(random() * pools.length)] as () => string;
    const runs = 1 + Math.floor(random() * 4);
    for (let i = 0; i < runs; i++) out += pick();
  }
  return out;
}

const PINNED = unicodeTable();
const ENGINE_CLASSES = [/\p{Lu}/u, /\p{Ll}/u, /\p{Lt}/u, /\p{Lm}/u, /\p{Lo}/u, /\p{M}/u, /\p{N}/u];
const PINNED_CLASSES = [[0], [1], [2], [3], [4], [5, 6, 7], [8, 9, 10]];

/**
 * `text` with the code points on which js-tiktoken (JavaScript regex semantics, the engine's ICU)
 * is known to differ from OpenAI's tiktoken (Rust regex, Unicode 16) replaced by "?": U+0085 and
 * U+FEFF (\s), `ſ` (case folding), letters and numbers of another Unicode version. Comparisons
 * with js-tiktoken are kept where the two agree; the fixture of `tiktoken-parity.test.ts` covers the rest.
 */
function whereJsTiktokenAgrees(text: string): string {
  let out = "";
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    const byte = PINNED[cp] as number;
    const differs =
      cp === 0x17f ||
      (cp < 0xd800 || cp > 0xdfff) &&
        (/\s/u.test(char) !== ((byte & WHITE_SPACE_BIT) !== 0) ||
          ENGINE_CLASSES.some((re, k) => re.test(char) !== (PINNED_CLASSES[k] as number[]).includes(byte & CATEGORY_MASK)));
    out += differs ? "?" : char;
  }
  return out;
}

/** Lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, not in our ES2022 lib). */
const wellFormed = (text: string): string => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");

const EDGE_CASES = [
  "",
  " ",
  "   ",
  "\n",
  "\n\n\n",
  "a  b   c    d",
  "trailing spaces   ",
  "   leading spaces",
  "tabs\t\tand\r\nwindows\r\nlines\rmac",
  "1 12 123 1234 12345 123456 3.14159 -42 1e10 0x1F",
  "I'm you're we've they'll she'd it's can't DON'T I'M YOU'RE 'quoted' ''s",
  "Hello, world! How's it going? (fine) [ok] {yes} <no>",
  "emoji: 😀👍🏽👨‍👩‍👧‍👦🇫🇷 ❤️ ✨",
  "combining: e\u0301 a\u0300\u0301 n\u0303 Z\u0351\u0352\u0353",
  "CJK: 你好，世界。日本語のテキスト。한국어 텍스트",
  "mixed scripts: Привет мир Ελληνικά עברית العربية हिन्दी",
  "lone surrogates: \ud800 x \udfff y \ud83d",
  "\ud83d\ud83d\ude00 reversed \ude00\ud83d",
  "\ufeffBOM at start",
  "nbsp\u00a0and\u2003em-space\u3000ideographic",
  "code: for (let i = 0; i < n; i++) { x += i; } // done",
  "URL https://example.com/a/b?c=d&e=f#g and path C:\\\\Users\\\\me",
  "-----===== ***** ..... !!!!!",
  "a".repeat(300),
  " ".repeat(300) + "x",
  "\n".repeat(50) + "y",
  "<|endoftext|> is special but disallowed text here is fine",
];

describe("tiktoken encodings", () => {
  it("gpt2 gives the golden values of the-verdict.txt", () => {
    const ids = getTokenizer("gpt2").encode(verdict);
    expect(ids.length).toBe(5145);
    expect(ids.slice(0, 9)).toEqual([40, 367, 2885, 1464, 1807, 3619, 402, 271, 10899]);
  });

  it("gpt2 gives the golden values of pg84.txt read with newline lf and keep", () => {
    const gpt2 = getTokenizer("gpt2");
    const ids = gpt2.encode(frankenstein);
    expect(ids.length).toBe(106_390);
    expect(ids.slice(0, 4)).toEqual([171, 119, 123, 464]);
    expect(ids.slice(0, 32)).toEqual([
      171, 119, 123, 464, 4935, 20336, 46566, 286, 45738, 26, 1471, 11, 383, 12495, 42696, 198, 220, 220, 220, 220,
      198, 1212, 47179, 318, 329, 262, 779, 286, 2687, 6609, 287, 262,
    ]);
    expect(ids[32]).toBe(1578); // last target of the notebook's first 8 x 4 batch
    const raw = gpt2.encode(frankensteinRaw);
    expect(raw.length).toBe(114_255);
  });

  it("gpt2 gives the golden values of pg84-cp1252.txt (invalid UTF-8 read as U+FFFD, as Python's errors=\"replace\")", () => {
    const gpt2 = getTokenizer("gpt2");
    const ids = gpt2.encode(frankensteinCp1252);
    expect(ids.length).toBe(105_199);
    expect(ids.slice(0, 32)).toEqual(gpt2.encode(frankenstein).slice(0, 32)); // the header is ASCII: the same first batch
    expect(gpt2.encode(readTextSync(dataFile("pg84-cp1252.txt"), { newline: "keep", onInvalidUtf8: () => {} })).length).toBe(113_064);
  });

  it("gives the same ids with a tiny piece cache (constant eviction and promotion) and as an Int32Array", () => {
    const core = new BpeCore({ ranks: parseTiktokenRanks(gpt2Ranks.bpe_ranks), pattern: gpt2Ranks.pat_str, cacheSize: 64 });
    const expected = getEncoding("gpt2").encode(verdict);
    expect(core.encode(verdict)).toEqual(expected);
    expect(core.encode(verdict)).toEqual(expected);
    expect(Array.from(core.encodeToInt32(verdict))).toEqual(expected);
  });

  for (const name of TIKTOKEN_ENCODINGS) {
    describe(name, () => {
      const tokenizer = getTokenizer(name);
      const reference = getEncoding(name);
      // js-tiktoken is slow (and the large encodings slower still): compare on slices for those.
      const big = name === "cl100k_base" || name === "o200k_base";
      const corpus = big ? frankenstein.slice(0, 120_000) : frankenstein;

      it("gives js-tiktoken's ids on both corpora", () => {
        expect(tokenizer.encode(verdict)).toEqual(reference.encode(verdict));
        expect(tokenizer.encode(corpus)).toEqual(reference.encode(corpus));
        const raw = frankensteinRaw.slice(0, 60_000);
        expect(tokenizer.encode(raw)).toEqual(reference.encode(raw));
      });

      it("round-trips both corpora", () => {
        expect(tokenizer.decode(tokenizer.encode(verdict))).toBe(verdict);
        expect(tokenizer.decode(tokenizer.encode(frankenstein))).toBe(frankenstein);
        expect(tokenizer.decode(tokenizer.encode(frankensteinRaw))).toBe(frankensteinRaw);
      });

      it("gives js-tiktoken's ids on edge cases and round-trips them", () => {
        for (const text of EDGE_CASES) {
          const ids = tokenizer.encode(text, { disallowedSpecial: [] });
          expect(ids, JSON.stringify(text)).toEqual(reference.encode(text, [], []));
          // Lone surrogates cannot round-trip: both encode them as U+FFFD, as TextEncoder does.
          expect(tokenizer.decode(ids)).toBe(wellFormed(text));
        }
      });

      it("gives js-tiktoken's ids on seeded random unicode, where js-tiktoken agrees with OpenAI's tiktoken", () => {
        // Seeded (mulberry32) so that failures reproduce.
        const random = createRng(name.length * 7919).float;
        for (let round = 0; round < 60; round++) {
          const text = whereJsTiktokenAgrees(randomUnicode(random, 20 + Math.floor(random() * 400)));
          const ids = tokenizer.encode(text, { disallowedSpecial: [] });
          expect(ids, JSON.stringify(text)).toEqual(reference.encode(text, [], []));
          expect(tokenizer.decode(ids)).toBe(wellFormed(text));
        }
      });

      it("encodes lone surrogates as js-tiktoken does (as U+FFFD)", () => {
        for (const text of ["\ud800", "a\udc00b", "\ud83d!", "x \udbff\udbff y"]) {
          expect(tokenizer.encode(text)).toEqual(reference.encode(text));
          expect(tokenizer.encode(text)).toEqual(tokenizer.encode(wellFormed(text)));
        }
      });

      it("encodes a 100,000-letter run (linear merge) as a chunked js-tiktoken reference", () => {
        for (const letter of ["a", "x"]) {
          // Runs of one letter merge into a periodic sequence; 400 is a multiple of the period
          // for these encodings, so the reference is js-tiktoken on 400 letters, repeated.
          const chunk = reference.encode(letter.repeat(400));
          const expected = Array.from({ length: 250 }, () => chunk).flat();
          expect(tokenizer.encode(letter.repeat(100_000))).toEqual(expected);
        }
        const mid = "b".repeat(700);
        expect(tokenizer.encode(mid)).toEqual(reference.encode(mid));
      });

      it("applies tiktoken's special-token rule", () => {
        const [special, id] = [...tokenizer.specialTokens][0] as [string, number];
        const text = `hello ${special} world`;
        expect(() => tokenizer.encode(text)).toThrow(new RegExp(`special token "${special.replace(/\|/g, "\\|")}" at index 6, which is not allowed`));
        expect(tokenizer.encode(text, { allowedSpecial: "all" })).toEqual(reference.encode(text, "all"));
        expect(tokenizer.encode(text, { allowedSpecial: [special] })).toContain(id);
        expect(tokenizer.encode(text, { disallowedSpecial: [] })).toEqual(reference.encode(text, [], []));
        expect(tokenizer.encode(text, { disallowedSpecial: [] })).not.toContain(id);
        expect(tokenizer.decode(tokenizer.encode(text, { allowedSpecial: "all" }))).toBe(text);
        // As tiktoken: unknown names in allowedSpecial are ignored; disallowedSpecial strings are searched for as given.
        expect(tokenizer.encode("x<|nope|>", { allowedSpecial: ["<|nope|>"], disallowedSpecial: [] })).toEqual(tokenizer.encode("x<|nope|>", { disallowedSpecial: [] }));
        expect(tokenizer.encode(text, { allowedSpecial: ["<|nope|>", special] })).toContain(id);
        expect(tokenizer.encode("x", { disallowedSpecial: ["<|nope|>"] })).toEqual(tokenizer.encode("x"));
        expect(() => tokenizer.encode("x <|nope|>", { disallowedSpecial: ["<|nope|>"] })).toThrow(/<\|nope\|>/);
        expect(() => tokenizer.encode("x", { allowedSpecial: "some" as never })).toThrow(/`allowedSpecial` must be "all" or an array/);
      });

      it("rejects ids that are not tokens", () => {
        const size = tokenizer.vocabSize;
        expect(() => tokenizer.decode([1, size])).toThrow(new RegExp(`\`ids\\[1\\]\` must be an integer in \\[0, ${size}\\).*received ${size}`));
        expect(() => tokenizer.decode([-1])).toThrow(/received -1/);
        expect(() => tokenizer.decode([2.5])).toThrow(/received 2.5/);
        expect(() => tokenizer.decode([Number.NaN])).toThrow(/received NaN/);
      });
    });
  }

  it("has the expected vocabulary sizes and specials", () => {
    expect(getTokenizer("gpt2").vocabSize).toBe(50257);
    expect(getTokenizer("p50k_base").vocabSize).toBe(50281);
    expect(getTokenizer("cl100k_base").specialTokens.get("<|endoftext|>")).toBe(100257);
    expect(getTokenizer("o200k_base").vocabSize).toBe(200019);
    expect(getTokenizer("gpt2").spec).toEqual({ name: "gpt2" });
    expect(getTokenizer("gpt2")).toBe(getTokenizer("gpt2")); // decoded once, cached
  });

  it("rejects ids in gaps of the vocabulary", () => {
    // cl100k_base assigns no token to 100256 (its specials start at 100257).
    expect(() => getTokenizer("cl100k_base").decode([100256])).toThrow(/`ids\[0\]` is 100256, which is not assigned/);
  });
});
