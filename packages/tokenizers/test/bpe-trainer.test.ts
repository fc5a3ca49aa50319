import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { trainBpe } from "../src/bpe-trainer.js";
import { GPT2_PATTERN } from "../src/pretokenizer.js";
import { readTextSync } from "../src/read-text.js";
import { createBpeTokenizer } from "../src/bpe-factory.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(repoRoot, "../shared/data");
// A slice keeps the suite fast; the full book with 4,096 tokens is measured by scripts/train-bpe.mjs.
const frankenstein = readTextSync(path.join(dataDir, "pg84.txt")).slice(0, 120_000);

/** Token bytes in rank order, as readable strings (Latin-1 view of the bytes). */
function tokensByRank(ranks: ReadonlyMap<string, number>): string[] {
  return [...ranks].sort((a, b) => a[1] - b[1]).map(([bytes]) => bytes);
}

describe("trainBpe", () => {
  it("learns the most frequent pairs, ties to the smallest bytes, rank-consistently", () => {
    // aa (4) first; then "aaa" and "ab" both occur twice and "aaa" < "ab"; then "aaab".
    const model = trainBpe("aaabdaaabac", { vocabSize: 260, minFrequency: 1 });
    expect(tokensByRank(model.ranks).slice(256)).toEqual(["aa", "aaa", "aaab"]);
    expect(tokensByRank(model.ranks).slice(0, 256)).toEqual(Array.from({ length: 256 }, (_, b) => String.fromCharCode(b)));
    expect(model.specialTokens).toEqual({ "<|endoftext|>": 259 });
    expect(model.stats).toMatchObject({ pieces: 1, uniquePieces: 1, bytes: 11, tokens: 5, merges: 3 });
    expect(createBpeTokenizer(model).encode("aaabdaaabac")).toEqual([258, 100, 258, 97, 99]);
  });

  it("trains 512 tokens on Frankenstein whose encoding reproduces the training and round-trips", () => {
    const progress: number[] = [];
    const model = trainBpe(frankenstein, { vocabSize: 512, onProgress: (p) => progress.push(p.merges) });
    expect(model.ranks.size).toBe(511);
    expect(model.specialTokens).toEqual({ "<|endoftext|>": 511 });
    expect(model.pattern).toBe(GPT2_PATTERN);
    expect(progress).toEqual(Array.from({ length: 255 }, (_, i) => i + 1));
    // GPT-2-like first merges on English text.
    expect(tokensByRank(model.ranks).slice(256, 260)).toContain(" t");
    const tok = createBpeTokenizer(model);
    const ids = tok.encode(frankenstein);
    expect(ids.length).toBe(model.stats.tokens);
    expect(ids.length).toBeLessThan(model.stats.bytes / 2);
    expect(tok.decode(ids)).toBe(frankenstein);
    expect(tok.decode(tok.encode("Dr. Frankenstein's monster, 1818 \u{1F600}"))).toBe("Dr. Frankenstein's monster, 1818 \u{1F600}");
  });

  it("is deterministic, and cuts special tokens out of the corpus like separate documents", () => {
    const parts = frankenstein.split("\n\n").slice(0, 200);
    const a = trainBpe(parts.join("<|endoftext|>"), { vocabSize: 400 });
    const b = trainBpe(parts.join("<|endoftext|>"), { vocabSize: 400 });
    const c = trainBpe(parts, { vocabSize: 400 });
    expect([...a.ranks]).toEqual([...b.ranks]);
    expect([...c.ranks]).toEqual([...a.ranks]);
    expect(c.stats).toEqual(a.stats);
    const tok = createBpeTokenizer(a);
    expect(tok.encode("end<|endoftext|>start", { allowedSpecial: "all" })).toContain(399);
  });

  it("stops early when no pair reaches minFrequency, and honours a custom pattern and specials", () => {
    const model = trainBpe("ab ab cd", { vocabSize: 1000, minFrequency: 2, specialTokens: ["<s>", "</s>"], pattern: "\\S+|\\s+" });
    expect(model.stats.merges).toBe(1);
    expect(tokensByRank(model.ranks)[256]).toBe("ab");
    expect(model.specialTokens).toEqual({ "<s>": 257, "</s>": 258 });
    expect(model.pattern).toBe("\\S+|\\s+");
  });

  it("rejects bad options with the option, the value and what is allowed", () => {
    expect(() => trainBpe("x", { vocabSize: 0 })).toThrow(/`vocabSize` must be a positive integer, received 0/);
    expect(() => trainBpe("x", { vocabSize: 100 })).toThrow(/`vocabSize` must be at least 257 \(256 byte tokens \+ 1 special tokens\), received 100/);
    expect(() => trainBpe("x", { vocabSize: 300, pattern: "(" })).toThrow(/`pattern` is not a valid regular expression/);
    expect(() => trainBpe("x", { vocabSize: 300, minFrequency: 1.5 })).toThrow(/`minFrequency` must be a positive integer, received 1.5/);
    expect(() => trainBpe("x", { vocabSize: 300, specialTokens: ["<a>", "<a>"] })).toThrow(/`specialTokens` must not repeat a token, received "<a>"/);
    expect(() => trainBpe("x", { vocabSize: 300, specialTokens: [""] })).toThrow(/`specialTokens.0` must be an array of non-empty strings/);
    expect(() => trainBpe("x", { vocabSize: 300, onProgress: 3 as never })).toThrow(/`onProgress` must be a function, received 3/);
    expect(() => trainBpe("x", { vocabSize: 300, vocab: 3 } as never)).toThrow(/trainBpe has no option `vocab` \(known: vocabSize, specialTokens, pattern, minFrequency, onProgress\)/);
    expect(() => trainBpe([1] as never, { vocabSize: 300 })).toThrow(/iterable of strings, received an item of type number/);
  });
});
