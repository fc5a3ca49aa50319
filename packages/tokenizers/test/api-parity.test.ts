/** tiktoken's API where a JS user would look for it: encodeOrdinary, decodeBytes, decodeWithOffsets, encodingForModel. */
import { describe, expect, it } from "vitest";
import type { BpeTokenizer } from "../src/bpe-tokenizer.js";
import { encodingForModel, encodingNameForModel } from "../src/models.js";
import { getTokenizer } from "../src/registry.js";
import "../src/encodings/all.js"; // registers the five tiktoken encodings, as the main entry does

const tok = (name: string): BpeTokenizer => getTokenizer(name) as BpeTokenizer;

describe("tiktoken API parity", () => {
  it("encodingForModel / encodingNameForModel follow tiktoken's model table and prefixes", () => {
    expect(encodingForModel("gpt-4o")).toBe(tok("o200k_base"));
    expect(encodingForModel("gpt-4o").encode("hello world")).toEqual([24912, 2375]);
    expect(encodingNameForModel("gpt-4o-2024-05-13")).toBe("o200k_base");
    expect(encodingNameForModel("gpt-4-0314")).toBe("cl100k_base");
    expect(encodingNameForModel("gpt-3.5-turbo")).toBe("cl100k_base");
    expect(encodingNameForModel("text-davinci-003")).toBe("p50k_base");
    expect(encodingNameForModel("davinci")).toBe("r50k_base");
    expect(encodingNameForModel("gpt2")).toBe("gpt2");
    expect(encodingNameForModel("ft:gpt-4o:org:custom:id")).toBe("o200k_base");
    expect(() => encodingForModel("llama-3")).toThrow(/`model` "llama-3" is not a model tiktoken maps to an encoding/);
    expect(() => encodingForModel("text-davinci-edit-001")).toThrow(/uses the encoding p50k_edit, which this package does not ship/);
  });

  it("encodeOrdinary treats special-token text as text; encodeSingleToken finds one token", () => {
    const gpt2 = tok("gpt2");
    expect(gpt2.encodeOrdinary("hello <|endoftext|>")).toEqual(gpt2.encode("hello <|endoftext|>", { disallowedSpecial: [] }));
    expect(gpt2.encodeSingleToken("<|endoftext|>")).toBe(50256);
    expect(gpt2.encodeSingleToken(" world")).toBe(995);
    expect(() => gpt2.encodeSingleToken("hello world")).toThrow(/are not one token/);
    expect(gpt2.encodeBatch(["hello world", "a"])).toEqual([[31373, 995], [64]]);
  });

  it("decodeBytes is exact where decode would replace a split character", () => {
    const cl100k = tok("cl100k_base");
    const ids = cl100k.encode("👍");
    expect(ids).toEqual([9468, 239, 235]);
    expect(Array.from(cl100k.decodeBytes(ids.slice(0, 2)))).toEqual([0xf0, 0x9f, 0x91]);
    expect(cl100k.decode(ids.slice(0, 2))).toBe("\ufffd");
    expect(new TextDecoder().decode(cl100k.decodeBytes(ids))).toBe("👍");
  });

  it("decodeWithOffsets gives tiktoken's offsets, in UTF-16 units", () => {
    // tiktoken tests/test_offsets.py: test_basic_offsets and its multi-byte cases.
    const enc = tok("cl100k_base");
    const prompt = "hello world";
    const { text, offsets } = enc.decodeWithOffsets(enc.encode(prompt));
    expect(text).toBe(prompt);
    expect(offsets).toEqual([0, 5]);
    // tiktoken's _token_offsets_reference: the common prefix of the text and decode(tokens[:i], errors="ignore").
    const check = (s: string): void => {
      const ids = enc.encode(s, { allowedSpecial: "all" });
      const decoded = enc.decodeWithOffsets(ids);
      expect(decoded.text).toBe(s);
      const reference = ids.map((_, i) => {
        const prefix = new TextDecoder().decode(enc.decodeBytes(ids.slice(0, i))).replace(/\ufffd/g, "");
        let n = 0;
        while (n < prefix.length && n < s.length && prefix[n] === s[n]) n++;
        return n;
      });
      expect(decoded.offsets, s).toEqual(reference);
    };
    for (const s of ["hello world", "我非常渴望与人工智能一起工作", "நடிகர் சூர்யா", "ied 4 ½ months", "👍 emoji 😀 end", "a\u{1F468}\u200D\u{1F469}b", "hello world<|endoftext|> green cow"]) check(s);
    expect(enc.decodeWithOffsets(enc.encode("hello world<|endoftext|> green cow", { allowedSpecial: "all" })).offsets).toEqual([0, 5, 11, 24, 30]);
    // tiktoken 0.14's decode_with_offsets (code points = UTF-16 units for these BMP characters):
    expect(enc.decodeWithOffsets(enc.encode("我非常渴望与人工智能一起工作")).offsets).toEqual([0, 1, 2, 3, 3, 4, 4, 5, 6, 7, 8, 8, 9, 10, 11, 12, 13]);
    expect(() => enc.decodeWithOffsets([9468])).toThrow(/do not decode to valid UTF-8/);
  });
});
