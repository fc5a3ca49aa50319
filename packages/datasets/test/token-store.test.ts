import { describe, expect, it } from "vitest";
import { TokenStore } from "../src/token-store.js";

describe("TokenStore", () => {
  it("keeps accepted typed arrays without copying and copies other inputs once", () => {
    for (const ids of [new Int32Array([1, 2, 3]), new Uint16Array([1, 2, 3]), new Uint32Array([1, 2, 3])]) {
      expect(TokenStore.from(ids).ids).toBe(ids);
    }
    expect(TokenStore.from([1, 2, 70000]).ids).toBeInstanceOf(Int32Array);
    expect(TokenStore.from([1, 2, 65535]).ids).toBeInstanceOf(Uint16Array);
    expect(TokenStore.from([1, 2, 3], { vocabSize: 100_277 }).ids).toBeInstanceOf(Int32Array);
    const store = TokenStore.from(new Float64Array([4, 5, 6]));
    expect(Array.from(store.ids)).toEqual([4, 5, 6]);
    expect(store.length).toBe(3);
    expect(Array.from(store.slice(1, 3))).toEqual([5, 6]);
    expect(store.slice(1, 3).buffer).toBe(store.ids.buffer);
  });

  it.each([
    [[1, -1, 2], undefined, /`ids\[1\]` must be an integer in \[0, 2147483648\), received -1/],
    [[1, 2, 2.5], undefined, /`ids\[2\]` must be an integer in \[0, 2147483648\), received 2.5/],
    [[Number.NaN], undefined, /`ids\[0\]` must be an integer .* received NaN/],
    [[0, 1, 50257], 50257, /`ids\[2\]` must be an integer in \[0, 50257\), received 50257/],
    [new Int32Array([3, -7]), 10, /`ids\[1\]` must be an integer in \[0, 10\), received -7/],
    [new Uint32Array([2 ** 31]), undefined, /`ids\[0\]` must be an integer in \[0, 2147483648\), received 2147483648/],
  ])("rejects bad ids %j (vocabSize %s), naming the index and value", (ids, vocabSize, message) => {
    expect(() => TokenStore.from(ids, { vocabSize })).toThrow(message);
  });

  it("rejects a bad vocabSize", () => {
    expect(() => TokenStore.from([1], { vocabSize: 0 })).toThrow(/`vocabSize` must be a positive integer, received 0/);
  });
});
