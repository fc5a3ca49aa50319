import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { contextLengthOf } from "./gpt.js";

/** zod schema of `GenerateOptions`. */
export const GenerateOptionsSchema = z.object({
  maxNewTokens: z.number().int().nonnegative().describe("a non-negative integer"),
  temperature: z.number().min(0).default(1).describe("a number >= 0"),
  topK: z.number().int().positive().optional().describe("a positive integer"),
  seed: z.number().int().optional().describe("an integer"),
  contextLength: z.number().int().positive().optional().describe("a positive integer"),
});

/**
 * Options of `generate`:
 * - `maxNewTokens`: how many ids to append. Required.
 * - `temperature`: logits are divided by it before sampling; 0 picks the most likely id (greedy). Default 1.
 * - `topK`: sample among the k most likely ids only. Default: all.
 * - `seed`: seeds the sampler, so the same seed gives the same ids. Default: a random seed.
 * - `contextLength`: the model's window; longer inputs keep their last `contextLength` ids.
 *   Default: read from the model's position table.
 */
export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;

/** mulberry32: a small seeded PRNG with uniform floats in [0, 1) (sampling only, not cryptographic). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks the next id from one row of logits (greedy, or temperature/top-k sampling). */
function pickNext(logits: Float32Array, temperature: number, topK: number | undefined, random: () => number): number {
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
    return best;
  }
  let threshold = -Infinity;
  if (topK !== undefined && topK < logits.length) {
    const sorted = Float32Array.from(logits).sort();
    threshold = sorted[logits.length - topK] as number;
  }
  let max = -Infinity;
  for (const v of logits) if (v >= threshold && v > max) max = v;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v >= threshold) {
      const w = Math.exp((v - max) / temperature);
      weights[i] = w;
      total += w;
    }
  }
  let r = random() * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (w === 0) continue;
    last = i;
    r -= w;
    if (r < 0) return i;
  }
  return last; // rounding left a sliver of r: the last candidate
}

/**
 * Extends `ids` by `maxNewTokens` ids from a GPT built by `createGPT` (the book's
 * `generate_text_simple` plus temperature and top-k): at each step the last `contextLength`
 * ids go through the model and the next id is picked from the last position's logits.
 * Returns the prompt followed by the new ids.
 *
 * @example
 * const out = generate(model, [40, 367], { maxNewTokens: 10, temperature: 0.8, topK: 40, seed: 1 });
 */
export function generate(model: tf.LayersModel, ids: ArrayLike<number>, options: GenerateOptions): number[] {
  const o = parseOptions(GenerateOptionsSchema, options, "generate");
  const window = o.contextLength ?? contextLengthOf(model);
  if (window === undefined) {
    throw new LayerConfigError("generate: the model has no PositionalEmbedding layer; pass `contextLength`", "contextLength");
  }
  const out = Array.from(ids);
  if (out.length === 0) throw new LayerConfigError("generate: `ids` must hold at least one id, received []", "ids");
  const random = seededRandom(o.seed ?? Math.floor(Math.random() * 2 ** 32));
  for (let step = 0; step < o.maxNewTokens; step++) {
    const context = out.slice(-window);
    const last = tf.tidy(() => {
      const logits = model.predict(tf.tensor2d(context, [1, context.length], "int32")) as tf.Tensor; // [1, T, V]
      const vocab = logits.shape[2] as number;
      return tf.slice(logits, [0, context.length - 1, 0], [1, 1, vocab]).dataSync() as Float32Array;
    });
    out.push(pickNext(last, o.temperature, o.topK, random));
  }
  return out;
}
