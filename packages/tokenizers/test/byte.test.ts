import { describe, expect, it } from "vitest";
import { getTokenizer } from "../src/registry.js";
import "../src/encodings/all.js"; // registers the five tiktoken encodings, as the main entry does

describe("byte tokenizer", () => {
  const tokenizer = getTokenizer("byte");

  it("encodes UTF-8 bytes and <|endoftext|> as 256", () => {
    expect(tokenizer.vocabSize).toBe(257);
    expect(tokenizer.encode("hé")).toEqual([104, 195, 169]);
    expect(tokenizer.encode("a<|endoftext|>b", { allowedSpecial: "all" })).toEqual([97, 256, 98]);
    expect(tokenizer.encode("\ud800")).toEqual([0xef, 0xbf, 0xbd]);
  });

  it("round-trips unicode, a BOM and specials", () => {
    for (const text of ["", "\ufeffBOM", "emoji 😀👨‍👩‍👧 CJK 你好 e\u0301", "x<|endoftext|>y"]) {
      expect(tokenizer.decode(tokenizer.encode(text, { allowedSpecial: "all" }))).toBe(text);
    }
  });

  it("applies the special-token rule and validates ids", () => {
    expect(() => tokenizer.encode("<|endoftext|>")).toThrow(/special token "<\|endoftext\|>" at index 0, which is not allowed by byte.encode/);
    expect(tokenizer.encode("<|endoftext|>", { disallowedSpecial: [] })).toHaveLength(13);
    expect(() => tokenizer.decode([257])).toThrow(/`ids\[0\]` must be an integer in \[0, 257\).*received 257/);
    expect(() => getTokenizer("byte", { x: 1 })).toThrow(/getTokenizer\("byte"\) has no option `x` \(it takes none\)/);
  });
});
