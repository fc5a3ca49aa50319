import { describe, expect, it } from "vitest";
import { Sampler, epochSeed, mulberry32, permutation } from "../src/sampler.js";

describe("permutation", () => {
  it("is a complete permutation, reproducible, different per epoch and seed", () => {
    for (const n of [0, 1, 2, 17, 1000]) {
      const p = permutation(n, 42, 3);
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(permutation(n, 42, 3)).toEqual(p);
    }
    expect(permutation(1000, 42, 0)).not.toEqual(permutation(1000, 42, 1));
    expect(permutation(1000, 42, 0)).not.toEqual(permutation(1000, 43, 0));
  });

  it("is close to uniform: each of 3! orders about 1/6 of the time", () => {
    const counts = new Map<string, number>();
    for (let epoch = 0; epoch < 6000; epoch++) {
      const key = permutation(3, 1, epoch).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it("mulberry32 gives 32-bit unsigned integers and spreads nearby seeds", () => {
    const next = mulberry32(1);
    const values = Array.from({ length: 100 }, next);
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
    expect(new Set(values).size).toBe(100);
    expect(epochSeed(0, 0)).not.toBe(epochSeed(0, 1));
    expect(epochSeed(0, 0)).not.toBe(epochSeed(2 ** 32, 0));
  });
});

describe("Sampler", () => {
  it("gives rank shares that are disjoint and complete, in the same global order", () => {
    const n = 23;
    const global = new Sampler(n, { shuffle: true, seed: 8, rank: 0, worldSize: 1 }).indices(4);
    const shares = [0, 1, 2, 3].map((rank) => new Sampler(n, { shuffle: true, seed: 8, rank, worldSize: 4 }));
    expect(shares.map((s) => s.length)).toEqual([6, 6, 6, 5]);
    const union = shares.flatMap((s) => Array.from(s.indices(4)));
    expect(new Set(union).size).toBe(n);
    expect(Array.from(shares[1]!.indices(4))).toEqual(Array.from(global).filter((_, k) => k % 4 === 1));
  });

  it("is in order without shuffle and gives ranks nothing when there are fewer items than ranks", () => {
    expect(Array.from(new Sampler(5, { shuffle: false, seed: 0, rank: 0, worldSize: 1 }).indices(9))).toEqual([0, 1, 2, 3, 4]);
    expect(new Sampler(2, { shuffle: false, seed: 0, rank: 3, worldSize: 4 }).length).toBe(0);
  });
});
