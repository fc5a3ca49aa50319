// Seeded randomness for synthetic inputs, so every run measures the same bytes.
import { createRng } from "@tfgpt/common";

/** mulberry32 (`@tfgpt/common`'s `createRng`): floats in [0, 1), the same stream for the same seed. */
export function mulberry32(seed) {
  return createRng(seed).float;
}

/** Uniform integer in [lo, hi). */
export function randInt(rand, lo, hi) {
  return lo + Math.floor(rand() * (hi - lo));
}

/** A random element of `list`. */
export function pick(rand, list) {
  return list[Math.floor(rand() * list.length)];
}
