/**
 * The one seeded pseudo-random generator of tfgpt: mulberry32 (Tommy Ettinger's 32-bit
 * generator), small, fast and well mixed; for shuffling, initial weights, sampling and test
 * inputs, not for cryptography. The same seed gives the same stream on every JavaScript engine.
 */

/** A seeded mulberry32 stream. Its methods may be passed around unbound (`const next = rng.uint32`). */
export interface Rng {
  /** The next uniform integer in [0, 2^32). */
  uint32(): number;
  /** The next uniform float in [0, 1): `uint32() / 2^32` (one step of the stream, like `uint32`). */
  float(): number;
  /** The 32-bit state: `createRng(rng.state())` continues this stream exactly where it is. */
  state(): number;
}

/**
 * Creates a mulberry32 stream.
 *
 * @param seed Any number; its low 32 bits (`seed >>> 0`) are the initial state.
 *
 * @example
 * ```ts
 * const rng = createRng(42);
 * rng.uint32(); // 2581720956
 * rng.float();  // 0.44829055899754167 (the second value of the stream, over 2^32)
 * const copy = createRng(rng.state()); // continues from here
 * ```
 */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const uint32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { uint32, float: () => uint32() / 4294967296, state: () => a };
}
