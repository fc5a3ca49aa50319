/**
 * Reproducible model initialisation. `createGPT` takes no seed, and tfjs's random initializers
 * seed themselves from `Math.random()` when given none; running `build` with `Math.random`
 * swapped for a seeded generator makes the initial weights a function of `seed`.
 *
 * TODO(layers): drop this stand-in once `createGPT` accepts a `seed`.
 */

/** mulberry32: a small, fast, well-mixed 32-bit PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Calls `build` with `Math.random` seeded by `seed`, restoring it afterwards.
 *
 * @example const model = withSeededRandom(0, () => createGPT(config));
 */
export function withSeededRandom<T>(seed: number, build: () => T): T {
  const original = Math.random;
  Math.random = mulberry32(seed ^ 0x9e3779b9);
  try {
    return build();
  } finally {
    Math.random = original;
  }
}
