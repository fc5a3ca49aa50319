import { describe, expect, it } from "vitest";
import { BpeCore } from "../src/bpe-core.js";
import { BpeTokenizer } from "../src/bpe-tokenizer.js";
import { hashRange } from "../src/piece-cache.js";
import {
  CL100K_PATTERN,
  createGpt2Scanner,
  GPT2_PATTERN,
  JS_TIKTOKEN_CL100K_PATTERN,
  JS_TIKTOKEN_O200K_PATTERN,
  O200K_PATTERN,
  R50K_PATTERN,
  scannerFor,
} from "../src/pretokenizer.js";
import { compileTiktokenRegex } from "../src/tiktoken-regex.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("BpeCore", () => {
  // A toy vocabulary: all 256 bytes, then merges "ab" (256), "abc" (257), "cc" (258).
  const ranks = new Map<Uint8Array, number>(Array.from({ length: 256 }, (_, b) => [new Uint8Array([b]), b]));
  ranks.set(bytes("ab"), 256);
  ranks.set(bytes("abc"), 257);
  ranks.set(bytes("cc"), 258);
  const core = new BpeCore({ ranks, pattern: GPT2_PATTERN, specialTokens: { "<|end|>": 259 }, cacheSize: 4 });

  it("merges by rank with the learned (generic) ranks", () => {
    expect(core.encode("abc")).toEqual([257]);
    expect(core.encode("abcc")).toEqual([257, 99]); // "ab" (256) first, then "abc" (257) beats "cc" (258)
    expect(core.encode("ccc")).toEqual([258, 99]); // leftmost first on equal ranks
    expect(core.encode("x abc<|end|>", new Set(["<|end|>"]))).toEqual([120, 32, 257, 259]);
    expect(core.vocabSize).toBe(260);
    expect(core.decode(core.encode("abcc ccc"))).toBe("abcc ccc");
  });

  it("keeps its cache bounded and answers identically after eviction", () => {
    const text = "ab abc cc ccc abcc x y z w v u";
    const first = core.encode(text);
    for (let i = 0; i < 3; i++) expect(core.encode(text)).toEqual(first);
    core.clearCache();
    expect(core.encode(text)).toEqual(first);
    expect(Array.from(core.encodeToInt32(text))).toEqual(first);
  });

  it("gives a naive merge's ids through the heap merge (long pieces)", () => {
    /** tiktoken's reference loop: merge the lowest-ranked adjacent pair, leftmost first. */
    const naive = (piece: string): number[] => {
      const parts = [...piece];
      for (;;) {
        let best = Infinity;
        let at = -1;
        for (let i = 0; i + 1 < parts.length; i++) {
          const rank = { ab: 256, abc: 257, cc: 258 }[`${parts[i]}${parts[i + 1]}`] ?? Infinity;
          if (rank < best) [best, at] = [rank, i];
        }
        if (at === -1) break;
        parts.splice(at, 2, `${parts[at]}${parts[at + 1]}`);
      }
      return parts.map((part) => ({ ab: 256, abc: 257, cc: 258 })[part] ?? part.charCodeAt(0));
    };
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 20; round++) {
      // One piece of 50..1000 letters: pieces of 96+ bytes take the heap path.
      const piece = Array.from({ length: 50 + Math.floor(random() * 950) }, () => "abc"[Math.floor(random() * 3)]).join("");
      expect(core.encode(piece)).toEqual(naive(piece));
    }
  });

  it("validates its arguments", () => {
    expect(() => new BpeCore({ ranks, pattern: "(" })).toThrow(/`pattern` is not a valid regular expression/);
    expect(() => new BpeCore({ ranks, pattern: "a", cacheSize: 0 })).toThrow(/`cacheSize` must be a positive integer, received 0/);
    expect(() => new BpeCore({ ranks: [[bytes("a"), -1]], pattern: "a" })).toThrow(/`ranks` must map byte sequences to non-negative integers/);
    expect(() => core.decode([300])).toThrow(/`ids\[0\]` must be an integer in \[0, 260\)/);
  });

  it("drops bytes that are not tokens (a custom vocabulary without them), as js-tiktoken does", () => {
    const partial = new BpeCore({ ranks: new Map([["a", 0], ["b", 1], ["ab", 2], ["abab", 3]]), pattern: "\\S+| " });
    expect(partial.encode("abxab")).toEqual([2, 2]);
    expect(partial.encode("abab xb")).toEqual([3, 1]);
    expect(partial.encode("xabab")).toEqual([3]);
  });

  it("works with any pattern through the regex path and wraps into a Tokenizer", () => {
    const words = new BpeCore({ ranks, pattern: "\\p{L}+|\\s+|[^\\s\\p{L}]+" });
    const tokenizer = new BpeTokenizer({ name: "toy", core: words });
    expect(tokenizer.encode("abc ab")).toEqual([257, 32, 256]);
    expect(tokenizer.spec).toEqual({ name: "toy" });
    expect(tokenizer.decode([257, 32, 256])).toBe("abc ab");
  });
});

describe.each([
  ["cl100k_base", CL100K_PATTERN],
  ["o200k_base", O200K_PATTERN],
  ["js-tiktoken's cl100k_base", JS_TIKTOKEN_CL100K_PATTERN],
  ["js-tiktoken's o200k_base", JS_TIKTOKEN_O200K_PATTERN],
  ["r50k_base (tiktoken 0.14's possessive spelling)", R50K_PATTERN],
])("%s pre-tokenizer scanner", (_name, pattern) => {
  it("splits exactly as the pattern compiled with tiktoken's semantics, on random strings", () => {
    const regex = compileTiktokenRegex(pattern);
    const scanner = scannerFor(pattern);
    if (scanner === undefined) throw new Error("no scanner");
    // Upper, title, modifier and other letters, marks and astral letters exercise o200k's case classes.
    const alphabet = ["a", "Z", "é", "É", "ǅ", "ʰ", "ー", "7", "123", "٣", " ", "  ", "\n", "\r\n", "\r", "\t", "\u00a0", "\ufeff", "'", "'S", "'lL", "'Re", "'vE", "'x", "s", ".", "!", "/", "😀", "𐀀", "𝐀", "𝐚", "𝟘", "\ud800", "\udc00", "e\u0301", "\u0903", "你",
      // tiktoken's semantics: NEL is \s, BOM is not; 'ſ and 'K fold; Unicode 16 letters are letters, 17's are not.
      "\x85", "\u2028", "'ſ", "ſ", "'\u212a", "\u1c89", "\u088f", "\u{16ea0}", "\u{10d4a}", "'s"];
    let seed = 4242;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 1000; round++) {
      let text = "";
      const length = 1 + Math.floor(random() * 30);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const expected = [...text.matchAll(regex)].map((m) => m[0]);
      const pieces: string[] = [];
      for (let i = 0; i < text.length; ) {
        const end = scanner.pieceEnd(text, i, text.length);
        pieces.push(text.slice(i, end));
        expect(scanner.hash).toBe(hashRange(text, i, end));
        i = end;
      }
      expect(pieces, JSON.stringify(text)).toEqual(expected);
    }
  });
});

describe("GPT-2 pre-tokenizer scanner", () => {
  it("splits exactly as the pattern compiled with tiktoken's semantics, on random strings", () => {
    const regex = compileTiktokenRegex(GPT2_PATTERN);
    const scanner = createGpt2Scanner();
    const alphabet = ["a", "Z", "é", "7", "٣", " ", "  ", "\n", "\r\n", "\t", "\u00a0", "\ufeff", "'", "'s", "'ll", "'re", ".", "!", "😀", "𐀀", "\ud800", "\udc00", "e\u0301", "你", "\x85", "'ſ", "\u1c89", "\u088f", "\u{16ea0}"];
    let seed = 12345;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 500; round++) {
      let text = "";
      const length = 1 + Math.floor(random() * 30);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const expected = [...text.matchAll(regex)].map((m) => m[0]);
      const pieces: string[] = [];
      for (let i = 0; i < text.length; ) {
        const end = scanner.pieceEnd(text, i, text.length);
        pieces.push(text.slice(i, end));
        // The hash computed while scanning is the cache's hash of the piece.
        expect(scanner.hash, JSON.stringify(text.slice(i, end))).toBe(hashRange(text, i, end));
        i = end;
      }
      expect(pieces, JSON.stringify(text)).toEqual(expected);
    }
  });
});
