import { describe, expect, it } from "vitest";
import { GPTDataset } from "../src/gpt-dataset.js";
import { TokenStore } from "../src/token-store.js";
import { DatasetError } from "../src/errors.js";
import { iota, referenceWindows, testRandom } from "./python-reference.js";

describe("GPTDataset", () => {
  it("cuts GPTDatasetV1's windows: token i == i turns windows into ranges", () => {
    const ds = new GPTDataset(iota(10), { maxLength: 4, stride: 2 });
    expect(ds.length).toBe(3); // range(0, 6, 2) = 0, 2, 4
    expect(Array.from(ds.get(1).input)).toEqual([2, 3, 4, 5]);
    expect(Array.from(ds.get(1).target)).toEqual([3, 4, 5, 6]);
    expect(ds.start(2)).toBe(4);
    expect([...ds].map((w) => w.input[0])).toEqual([0, 2, 4]);
  });

  it("has exactly one window for maxLength + 1 tokens", () => {
    const ds = new GPTDataset(iota(5), { maxLength: 4, stride: 7 });
    expect(ds.length).toBe(1);
    expect(Array.from(ds.get(0).target)).toEqual([1, 2, 3, 4]);
  });

  it("matches the Python loop's windows and count for many settings", () => {
    const rand = testRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const maxLength = 1 + rand(12);
      const stride = 1 + rand(15);
      const n = maxLength + 1 + rand(60);
      const ids = Array.from({ length: n }, () => rand(1000));
      const ds = new GPTDataset(ids, { maxLength, stride });
      const ref = referenceWindows(ids, maxLength, stride);
      expect(ds.length).toBe(ref.length);
      ref.forEach((w, i) => {
        const got = ds.get(i);
        expect(Array.from(got.input)).toEqual(w.input);
        expect(Array.from(got.target)).toEqual(w.target);
      });
    }
  });

  it("hands out views of one typed array, never a copy per window", () => {
    const ids = new Int32Array(iota(100));
    const ds = new GPTDataset(ids, { maxLength: 8, stride: 1 });
    expect(ds.tokens.ids).toBe(ids); // an accepted typed array is kept, not copied
    const w = ds.get(3);
    expect(w.input.buffer).toBe(ids.buffer);
    expect(w.target.buffer).toBe(ids.buffer);
    expect(w.input.byteOffset).toBe(3 * 4);
    expect(w.target.byteOffset).toBe(4 * 4);
  });

  it("accepts a TokenStore and keeps gpt2-sized ids in a Uint16Array", () => {
    const store = TokenStore.from([50256, 1, 2, 3], { vocabSize: 50257 });
    expect(store.ids).toBeInstanceOf(Uint16Array);
    const ds = new GPTDataset(store, { maxLength: 2, stride: 1 });
    expect(ds.tokens).toBe(store);
    expect(Array.from(ds.get(0).input)).toEqual([50256, 1]);
  });

  it("builds from text with a tokenizer, allowing <|endoftext|> as the book does", () => {
    const seen: unknown[] = [];
    const tokenizer = {
      vocabSize: 300,
      specialTokens: new Map([["<|endoftext|>", 256]]),
      encode(text: string, options?: { allowedSpecial?: unknown }) {
        seen.push(options?.allowedSpecial);
        return Array.from(new TextEncoder().encode(text));
      },
    };
    const ds = GPTDataset.fromText("hello world", tokenizer, { maxLength: 4, stride: 4 });
    expect(seen).toEqual([["<|endoftext|>"]]);
    expect(ds.length).toBe(2); // 11 bytes: range(0, 7, 4)
    expect(String.fromCharCode(...ds.get(1).input)).toBe("o wo");
    GPTDataset.fromText("hello world", { ...tokenizer, specialTokens: new Map() }, { maxLength: 4, stride: 4 });
    GPTDataset.fromText("hello world", tokenizer, { maxLength: 4, stride: 4, allowedSpecial: "all" });
    expect(seen.slice(1)).toEqual([[], "all"]);
  });

  describe("errors", () => {
    const tokenizer = {
      vocabSize: 256,
      specialTokens: new Map<string, number>(),
      encode: (text: string) => Array.from(new TextEncoder().encode(text)),
    };

    it("rejects empty text", () => {
      expect(() => GPTDataset.fromText("", tokenizer, { maxLength: 4, stride: 1 })).toThrow(
        /`text` is empty; a GPT dataset needs at least maxLength \+ 1 = 5 tokens/,
      );
    });

    it("rejects too few tokens, saying how many there are and how many are needed", () => {
      expect(() => GPTDataset.fromText("abc", tokenizer, { maxLength: 4, stride: 1 })).toThrow(
        /the text has 3 tokens, but `maxLength` 4 needs at least 5/,
      );
      expect(() => new GPTDataset(iota(4), { maxLength: 4, stride: 1 })).toThrow(DatasetError);
      expect(() => new GPTDataset([7], { maxLength: 1, stride: 1 })).toThrow(/has 1 token, but `maxLength` 1 needs at least 2/);
    });

    it.each([
      [{ maxLength: 4, stride: 0 }, /`stride` must be a positive integer, received 0/],
      [{ maxLength: 4, stride: 1.5 }, /`stride` must be a positive integer, received 1.5/],
      [{ maxLength: 4, stride: -2 }, /`stride` must be a positive integer, received -2/],
      [{ maxLength: 0, stride: 1 }, /`maxLength` must be a positive integer, received 0/],
      [{ maxLength: 2.5, stride: 1 }, /`maxLength` must be a positive integer, received 2.5/],
      [{ maxLength: "4", stride: 1 }, /`maxLength` must be a positive integer, received "4"/],
      [{ maxLength: Number.NaN, stride: 1 }, /`maxLength` must be a positive integer, received NaN/],
      [{ stride: 1 }, /`maxLength` must be a positive integer, received undefined/],
      [{ maxLength: 4, stride: 1, strides: 2 }, /GPTDataset has no option `strides` \(known: maxLength, stride\)/],
    ])("rejects options %j", (options, message) => {
      expect(() => new GPTDataset(iota(20), options as never)).toThrow(message);
    });

    it("names the bad option on the error", () => {
      try {
        new GPTDataset(iota(20), { maxLength: 4, stride: 0 });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DatasetError);
        expect((e as DatasetError).option).toBe("stride");
      }
    });

    it("rejects a window index out of range", () => {
      const ds = new GPTDataset(iota(10), { maxLength: 4, stride: 2 });
      expect(() => ds.get(3)).toThrow(/window `index` must be an integer in \[0, 3\), received 3/);
      expect(() => ds.get(-1)).toThrow(/received -1/);
    });
  });
});
