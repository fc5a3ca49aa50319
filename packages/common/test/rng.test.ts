import { describe, expect, it } from "vitest";
import { createRng } from "../src/index.js";

/**
 * The first values of the mulberry32 copies this generator replaced (datasets' sampler, layers'
 * initializers and generate, the tokenizers test), printed by `mulberry32(seed)` of
 * @tfgpt/datasets 0.1.0 (dist/sampler.js) before the move: equal here means permutations,
 * initial weights and sampled tokens stay bit-identical.
 */
const GOLDEN: [number, number[]][] = [
  [0, [1144304738, 1416247, 958946056, 627933444, 2007157716]],
  [1, [2693262067, 11749833, 2265367787, 4213581821, 4159151403]],
  [42, [2581720956, 1925393290, 3661312704, 2876485805, 750819978]],
  // layers' seededNormals(7) seeds with 7 ^ 0x9e3779b9, a negative int32.
  [0x9e3779b9 ^ 7, [4219351720, 1435059229, 2960320187, 543362399, 1107746102]],
  [-1, [3850105811, 813802916, 3073704848, 4054706436, 3630262831]],
];

describe("createRng (mulberry32)", () => {
  it("gives the old implementation's first values for every seed", () => {
    for (const [seed, values] of GOLDEN) {
      const rng = createRng(seed);
      expect(Array.from({ length: values.length }, rng.uint32), `seed ${seed}`).toEqual(values);
    }
  });

  it("float() is uint32() / 2^32, in [0, 1), one step of the same stream", () => {
    const a = createRng(42);
    const b = createRng(42);
    for (let i = 0; i < 1000; i++) {
      const f = a.float();
      expect(f).toBe(b.uint32() / 4294967296);
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(createRng(42).float()).toBe(2581720956 / 4294967296);
  });

  it("state() resumes the stream exactly; only the low 32 bits of the seed count", () => {
    const rng = createRng(9);
    for (let i = 0; i < 17; i++) rng.uint32();
    const copy = createRng(rng.state());
    expect(Array.from({ length: 10 }, copy.uint32)).toEqual(Array.from({ length: 10 }, rng.uint32));
    expect(createRng(2 ** 32 + 5).uint32()).toBe(createRng(5).uint32());
  });

  it("is close to uniform", () => {
    const rng = createRng(3);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng.float() * 10)]! += 1;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});
