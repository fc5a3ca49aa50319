/**
 * Text generation from a trained model: greedy at temperature 0, otherwise temperature and
 * top-k sampling with a seeded generator (same seed, same text). Works on any model mapping
 * int32 ids `[1, T]` to logits `[1, T, V]`.
 *
 * TODO(layers): use `generate` from `@tfgpt/layers` once it lands; this is the examples' stand-in.
 */
import * as tf from "@tensorflow/tfjs";
import type { Tokenizer } from "@tfgpt/tokenizers";

/** Options of {@link generateIds} and {@link generateText}. */
export interface GenerateOptions {
  /** Tokens to append. */
  readonly maxNewTokens: number;
  /** 0 (default) picks the most likely token; higher values flatten the distribution. */
  readonly temperature?: number;
  /** Sample among the `topK` most likely tokens only. Default: all. */
  readonly topK?: number;
  /** Seed of the sampling. Default 0. */
  readonly seed?: number;
  /** Longest input the model takes; older tokens are cropped. Default: the whole sequence. */
  readonly contextLength?: number;
}

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

/** Picks the next id from one row of logits (CPU side: the vocabulary is one small array). */
function pick(logits: Float32Array, temperature: number, topK: number | undefined, random: () => number): number {
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
    return best;
  }
  let candidates = Array.from(logits.keys());
  if (topK !== undefined && topK < logits.length) {
    candidates.sort((a, b) => (logits[b] as number) - (logits[a] as number));
    candidates = candidates.slice(0, topK);
  }
  const max = Math.max(...candidates.map((i) => logits[i] as number));
  const weights = candidates.map((i) => Math.exp(((logits[i] as number) - max) / temperature));
  const total = weights.reduce((s, w) => s + w, 0);
  let r = random() * total;
  for (let k = 0; k < candidates.length; k++) {
    r -= weights[k] as number;
    if (r <= 0) return candidates[k] as number;
  }
  return candidates[candidates.length - 1] as number;
}

/**
 * Appends `maxNewTokens` ids to `prompt`.
 *
 * @returns the new ids only.
 * @example generateIds(model, [40, 367], { maxNewTokens: 5 }) // greedy
 */
export function generateIds(model: tf.LayersModel, prompt: readonly number[], options: GenerateOptions): number[] {
  const { maxNewTokens, temperature = 0, topK, seed = 0, contextLength } = options;
  const random = mulberry32(seed);
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < maxNewTokens; i++) {
    const window = contextLength !== undefined ? ids.slice(-contextLength) : ids;
    const last = tf.tidy(() => {
      const logits = model.predict(tf.tensor2d(window, [1, window.length], "int32")) as tf.Tensor3D; // [1, T, V]
      const v = logits.shape[2];
      return tf.slice(logits, [0, window.length - 1, 0], [1, 1, v]).reshape([v]); // [V]
    });
    const next = pick(last.dataSync() as Float32Array, temperature, topK, random);
    last.dispose();
    ids.push(next);
    out.push(next);
  }
  return out;
}

/**
 * Continues `prompt` and decodes the continuation with `tokenizer`.
 *
 * @returns the generated text (without the prompt).
 */
export function generateText(model: tf.LayersModel, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): string {
  const promptIds = tokenizer.encode(prompt);
  return tokenizer.decode(generateIds(model, promptIds, options));
}
