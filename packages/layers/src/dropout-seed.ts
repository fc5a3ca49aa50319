/**
 * Seeded dropout: the masks drawn inside `withDropoutSeed(seed, model, fn)` are a function of
 * `seed`, so a training step can be replayed bit for bit (the `Trainer`'s `dropoutSeed` option
 * uses it for every micro-batch, so a resumed run equals an uninterrupted one with dropout on).
 *
 * How: a seeded stream of 32-bit seeds (mulberry32) is active while `fn` runs. tfgpt's own
 * dropout (`maybeDropout`: attention weights, residual branches, LoRA inputs) passes the next
 * seed of the stream to `tf.dropout` explicitly; tfjs's `Dropout` layers of `model` (the GPT's
 * embedding dropout `drop`) get a seed from the stream for the duration of the call and their
 * own (usually none) back afterwards, so a saved model never records it. Nothing global is
 * patched, and outside a scope dropout draws as tfjs does (unseeded). Synchronous `fn` only.
 */
import type * as tf from "@tensorflow/tfjs";
import { createRng } from "@tfgpt/common";

let stream: (() => number) | undefined;

/** The seed the next dropout mask uses: the active stream's next value, or `undefined` outside `withDropoutSeed` (tfjs draws its own). */
export function nextDropoutSeed(): number | undefined {
  return stream?.();
}

/** Mixes integers into one 32-bit seed (e.g. a run's seed, the step and the micro-batch). */
export function mixSeeds(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** tfjs `Dropout` layers of `model`, nested models included. */
function dropoutLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const found: tf.layers.Layer[] = [];
  const visit = (layers: readonly tf.layers.Layer[]): void => {
    for (const layer of layers) {
      if (layer.getClassName() === "Dropout") found.push(layer);
      const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
  return found;
}

/**
 * Runs `fn` with every dropout mask it draws seeded by `seed` (see the module comment).
 *
 * @param seed a 32-bit integer; the same seed gives the same masks.
 * @param model the model whose tfjs `Dropout` layers are seeded too (optional).
 * @example
 * const loss = withDropoutSeed(mixSeeds(runSeed, step), model, () => model.trainingLoss(ids, targets));
 */
export function withDropoutSeed<T>(seed: number, model: tf.LayersModel | undefined, fn: () => T): T {
  const previous = stream;
  stream = createRng(seed).uint32;
  // tfjs's Dropout reads `this.seed` at call time (tfjs-layers core.ts); set it for the call only.
  const layers = model ? dropoutLayers(model).map((layer) => ({ layer: layer as unknown as { seed?: number }, seed: (layer as unknown as { seed?: number }).seed })) : [];
  for (const l of layers) l.layer.seed = stream();
  try {
    return fn();
  } finally {
    for (const l of layers) l.layer.seed = l.seed;
    stream = previous;
  }
}
