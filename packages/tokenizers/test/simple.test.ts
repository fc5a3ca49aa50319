import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { getTokenizer } from "../src/registry.js";
import { simpleSplit, SimpleTokenizerV2 } from "../src/simple.js";
import { dataFile } from "./data.js";
import "../src/encodings/all.js"; // registers the five tiktoken encodings, as the main entry does

const verdict = readFileSync(dataFile("the-verdict.txt"), "utf8");

describe("SimpleTokenizerV2", () => {
  const tokenizer = getTokenizer("simple", { text: verdict }) as SimpleTokenizerV2;

  it("builds the book's vocabulary from the-verdict.txt (1,130 words + 2 specials)", () => {
    expect(tokenizer.vocabSize).toBe(1132);
    expect(tokenizer.vocab.slice(0, 3)).toEqual(["!", '"', "'"]);
    expect(tokenizer.vocab.slice(-2)).toEqual(["<|endoftext|>", "<|unk|>"]);
    expect(tokenizer.specialTokens.get("<|unk|>")).toBe(1131);
  });

  it("encodes and decodes as the book does", () => {
    const text = '"It\'s the last he painted, you know," Mrs. Gisburn said with pardonable pride.';
    const ids = tokenizer.encode(text);
    expect(ids).toEqual([1, 56, 2, 850, 988, 602, 533, 746, 5, 1126, 596, 5, 1, 67, 7, 38, 851, 1108, 754, 793, 7]);
    expect(tokenizer.decode(ids)).toBe('" It\' s the last he painted, you know," Mrs. Gisburn said with pardonable pride.');
  });

  it("maps unknown words to <|unk|> and encodes allowed specials", () => {
    const text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of the palace.";
    const ids = tokenizer.encode(text, { allowedSpecial: "all" });
    expect(tokenizer.decode(ids)).toBe("<|unk|>, do you like tea? <|endoftext|> In the sunlit terraces of the <|unk|>.");
    expect(() => tokenizer.encode(text)).toThrow(/special token "<\|endoftext\|>" at index 24, which is not allowed/);
  });

  it("splits with the book's regex and Python's whitespace", () => {
    expect(simpleSplit("Hello, world. Is this-- a test?")).toEqual(["Hello", ",", "world", ".", "Is", "this", "--", "a", "test", "?"]);
    expect(simpleSplit("\ufeffThe end")).toEqual(["\ufeffThe", "end"]);
  });

  it("rebuilds the same tokenizer from its JSON spec", () => {
    const spec = JSON.parse(JSON.stringify(tokenizer.spec)) as { name: string; options: unknown };
    const rebuilt = getTokenizer(spec.name, spec.options);
    expect(rebuilt.encode(verdict)).toEqual(tokenizer.encode(verdict));
    const dict = Object.fromEntries(tokenizer.vocab.map((token, id) => [token, id]));
    expect(getTokenizer("simple", { vocab: dict }).encode(verdict)).toEqual(tokenizer.encode(verdict));
  });

  it("validates options and ids", () => {
    expect(() => getTokenizer("simple")).toThrow(/must be \{ text \} or \{ vocab \}/);
    expect(() => getTokenizer("simple", { text: 5 })).toThrow(/received/);
    expect(() => getTokenizer("simple", { vocab: ["a", "a"] })).toThrow(/`vocab` contains "a" twice/);
    expect(() => getTokenizer("simple", { vocab: ["a"] })).toThrow(/`vocab` must contain "<\|endoftext\|>"/);
    expect(() => getTokenizer("simple", { vocab: { a: 5, "<|endoftext|>": 0, "<|unk|>": 1 } })).toThrow(/`vocab` ids must be 0..2/);
    expect(() => tokenizer.decode([1132])).toThrow(/`ids\[0\]` must be an integer in \[0, 1132\).*received 1132/);
  });
});
