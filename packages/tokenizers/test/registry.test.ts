import { describe, expect, it } from "vitest";
import { TokenizerError } from "../src/errors.js";
import { getTokenizer, listTokenizers, registerTokenizer } from "../src/registry.js";
import type { Tokenizer } from "../src/tokenizer.js";
import "../src/encodings/all.js"; // registers the five tiktoken encodings, as the main entry does

describe("registry", () => {
  it("lists the built-in tokenizers", () => {
    expect(listTokenizers()).toEqual(expect.arrayContaining(["byte", "cl100k_base", "gpt2", "o200k_base", "p50k_base", "r50k_base", "simple"]));
  });

  it("rejects an unknown name, listing the known ones", () => {
    expect(() => getTokenizer("gpt3")).toThrow(TokenizerError);
    expect(() => getTokenizer("gpt3")).toThrow(/unknown tokenizer "gpt3" \(known: .*gpt2.*simple/);
  });

  it("rejects options the tokenizer does not take", () => {
    expect(() => getTokenizer("gpt2", { cache: 1 })).toThrow(/getTokenizer\("gpt2"\) has no option `cache`/);
    expect(() => getTokenizer("byte", 5)).toThrow(/getTokenizer\("byte"\) options must be an object, received 5/);
  });

  it("registers a new tokenizer and rebuilds tokenizers from their spec", () => {
    const chars: Tokenizer = {
      name: "test-chars",
      vocabSize: 128,
      specialTokens: new Map(),
      spec: { name: "test-chars" },
      encode: (text) => [...text].map((c) => c.charCodeAt(0)),
      decode: (ids) => String.fromCharCode(...Array.from(ids)),
    };
    registerTokenizer("test-chars", () => chars);
    expect(getTokenizer("test-chars").encode("hi")).toEqual([104, 105]);
    expect(listTokenizers()).toContain("test-chars");
    expect(() => registerTokenizer("test-chars", () => chars)).toThrow(/already registered/);
    expect(() => registerTokenizer("", () => chars)).toThrow(/`name` must be a non-empty string/);
    const simple = getTokenizer("simple", { text: "a b, c." });
    const rebuilt = getTokenizer(simple.spec.name, JSON.parse(JSON.stringify(simple.spec.options)));
    expect(rebuilt.encode("c, b a.")).toEqual(simple.encode("c, b a."));
  });
});
