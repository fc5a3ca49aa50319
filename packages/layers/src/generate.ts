import * as tf from "@tensorflow/tfjs";
import { createRng } from "@tfgpt/common";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { idsTensor } from "./id-range.js";
import { contextLengthOf } from "./gpt.js";
import { KVCacheDecoder, supportsKVCache } from "./kv-cache.js";

/** zod schema of `GenerateOptions`. */
export const GenerateOptionsSchema = z.object({
  maxNewTokens: z.number().int().nonnegative().describe("a non-negative integer"),
  temperature: z.number().min(0).default(1).describe("a number >= 0"),
  topK: z.number().int().positive().optional().describe("a positive integer"),
  topP: z.number().gt(0).max(1).optional().describe("a number in (0, 1]"),
  seed: z.number().int().optional().describe("an integer"),
  contextLength: z.number().int().positive().optional().describe("a positive integer"),
  stop: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()), z.null()]).optional().describe("an id, a list of ids or null"),
  cache: z.boolean().default(true).describe("a boolean"),
  onToken: z.custom<(id: number, index: number) => void>((v) => typeof v === "function").optional().describe("a function (id, index) => void"),
});

/**
 * Options of `generate`:
 * - `maxNewTokens`: how many ids to append at most. Required.
 * - `temperature`: logits are divided by it before sampling; 0 picks the most likely id (greedy). Default 1.
 * - `topK`: sample among the k most likely ids only. Default: all.
 * - `topP`: nucleus sampling: among the fewest most likely ids whose probabilities (after
 *   `temperature` and `topK`) add up to at least p. Default: all (1).
 * - `seed`: seeds the sampler, so the same seed gives the same ids. Default: a random seed.
 * - `contextLength`: the model's window; longer inputs keep their last `contextLength` ids.
 *   Default: read from the model's position table.
 * - `stop`: id(s) that end generation once produced (kept in the output, as transformers does);
 *   null: none. Default: 50,256 (`<|endoftext|>`) when the model's vocabulary is GPT-2's
 *   50,257, else none.
 * - `cache`: decode with a per-layer key/value cache (`KVCacheDecoder`: each new token runs at
 *   one position) on models built by `createGPT`; false re-runs the whole window for every token
 *   (the book's `generate_text_simple`, kept for comparison). Both give the same ids. Default true.
 * - `onToken`: called with each new id (and its index among the new ids) as soon as it is
 *   picked: the CLI streams text with it.
 */
export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;

/**
 * Picks the next id from one row of logits: greedy at temperature 0; else softmax(logits / T)
 * restricted to the `topK` largest logits, then to the nucleus of mass `topP`, sampled with `random`.
 */
function pickNext(logits: Float32Array, temperature: number, topK: number | undefined, topP: number | undefined, random: () => number): number {
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
  if (topP !== undefined && topP < 1) {
    // Keep the most likely ids until their share reaches topP (at least one), zero the rest.
    const order = Array.from(weights.keys()).filter((i) => (weights[i] as number) > 0);
    order.sort((a, b) => (weights[b] as number) - (weights[a] as number) || a - b);
    let kept = 0;
    let k = 0;
    while (k < order.length && (k === 0 || kept < topP * total)) kept += weights[order[k++] as number] as number;
    for (let j = k; j < order.length; j++) weights[order[j] as number] = 0;
    total = kept;
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

/** The vocabulary size of a model's output, when its last axis is known or it is a createGPT GPT. */
function vocabSizeOf(model: tf.LayersModel): number | undefined {
  const wte = model.layers.find((l) => l.name === "wte") as { vocabSize?: unknown } | undefined;
  return typeof wte?.vocabSize === "number" ? wte.vocabSize : undefined;
}

/** One generation run: the ids so far and the source of next-token logits (cached or whole-window). */
class Generation {
  readonly out: number[];
  readonly options: z.output<typeof GenerateOptionsSchema>;
  private readonly window: number;
  private readonly decoder: KVCacheDecoder | null;
  private readonly stops: Set<number>;
  private readonly random: () => number;
  private produced = 0;

  constructor(
    private readonly model: tf.LayersModel,
    ids: ArrayLike<number>,
    options: GenerateOptions,
  ) {
    const o = parseOptions(GenerateOptionsSchema, options, "generate");
    this.options = o;
    const window = o.contextLength ?? contextLengthOf(model);
    if (window === undefined) {
      throw new LayerConfigError("generate: the model has no PositionalEmbedding layer; pass `contextLength`", "contextLength");
    }
    this.window = window;
    this.out = Array.from(ids);
    if (this.out.length === 0) throw new LayerConfigError("generate: `ids` must hold at least one id, received []", "ids");
    const stop = o.stop === undefined ? (vocabSizeOf(model) === 50257 ? [50256] : []) : o.stop === null ? [] : typeof o.stop === "number" ? [o.stop] : o.stop;
    this.stops = new Set(stop);
    this.random = createRng(o.seed ?? Math.floor(Math.random() * 2 ** 32)).float;
    this.decoder = o.cache && supportsKVCache(model) ? new KVCacheDecoder(model) : null;
    if (this.decoder !== null) this.window = Math.min(this.window, this.decoder.config.contextLength);
  }

  get done(): boolean {
    const last = this.out[this.out.length - 1] as number;
    return this.produced >= this.options.maxNewTokens || (this.produced > 0 && this.stops.has(last));
  }

  /** The logits `[V]` of the next position (a tensor the caller disposes). */
  nextLogits(): tf.Tensor1D {
    const decoder = this.decoder;
    if (decoder === null) {
      const context = this.out.slice(-this.window);
      return tf.tidy(() => {
        // idsTensor records the ids' range (TokenEmbedding then checks it without reading the ids
        // back: a GPU stall, and on webgpu a dataSync that fails); apply, not predict, which
        // slices the batch into a new tensor that has no recorded range.
        const input = idsTensor(Int32Array.from(context), [1, context.length]);
        const logits = this.model.apply(input, { training: false }) as tf.Tensor; // [1, T, V]
        const vocab = logits.shape[2] as number;
        return tf.reshape(tf.slice(logits, [0, context.length - 1, 0], [1, 1, vocab]), [vocab]) as tf.Tensor1D;
      });
    }
    // The cache holds out[0 .. length-1] of the current window, except at the start (the prompt)
    // and when the window slides (positions shift: the last `window` ids run afresh).
    const pending = this.out.length - decoder.length;
    if (decoder.length === 0 || pending !== 1 || this.out.length > this.window) {
      decoder.reset();
      return decoder.step(this.out.slice(-this.window));
    }
    return decoder.step(this.out.slice(-1));
  }

  /** Appends the id picked from `logits`. */
  push(logits: Float32Array): void {
    const o = this.options;
    const id = pickNext(logits, o.temperature, o.topK, o.topP, this.random);
    this.out.push(id);
    o.onToken?.(id, this.produced);
    this.produced++;
  }

  dispose(): void {
    this.decoder?.dispose();
  }
}

/**
 * Extends `ids` by up to `maxNewTokens` ids from a GPT built by `createGPT` (the book's
 * `generate_text_simple` plus temperature, top-k, top-p, a stop id and a KV cache): the prompt
 * runs once, then each new id runs at one position against the cached keys and values, and only
 * the last position's logits are computed. Returns the prompt followed by the new ids (ending
 * with the stop id when one was produced). Synchronous; `generateAsync` yields between tokens.
 *
 * @example
 * const out = generate(model, [40, 367], { maxNewTokens: 10, temperature: 0.8, topK: 40, topP: 0.95, seed: 1 });
 */
export function generate(model: tf.LayersModel, ids: ArrayLike<number>, options: GenerateOptions): number[] {
  const run = new Generation(model, ids, options);
  try {
    while (!run.done) {
      const logits = run.nextLogits();
      const data = logits.dataSync() as Float32Array;
      logits.dispose();
      run.push(data);
    }
    return run.out;
  } finally {
    run.dispose();
  }
}

/**
 * `generate`, reading each step's logits with `await data()`: the event loop runs between tokens,
 * so `onToken` output (a page, a piped stdout) shows up as it comes. Same ids as `generate`.
 */
export async function generateAsync(model: tf.LayersModel, ids: ArrayLike<number>, options: GenerateOptions): Promise<number[]> {
  const run = new Generation(model, ids, options);
  try {
    while (!run.done) {
      const logits = run.nextLogits();
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      run.push(data);
    }
    return run.out;
  } finally {
    run.dispose();
  }
}
