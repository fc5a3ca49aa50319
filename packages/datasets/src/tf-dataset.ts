/**
 * The TensorFlow.js side: a `DataLoader` as a `tf.data.Dataset` for `model.fitDataset`, and a
 * whole `GPTDataset` as two tensors for `model.fit`. The only module of this package that imports
 * tfjs (a peer dependency), reached through `@tfgpt/datasets/tf`.
 */
import * as tf from "@tensorflow/tfjs";
import { oneOf } from "@tfgpt/common";
import { z } from "zod";
import { parseOptions } from "./options.js";
import type { Batch, DataLoader } from "./data-loader.js";
import type { GPTDataset } from "./gpt-dataset.js";
import type { TokenSource } from "./token-store.js";

/** One element of the `tf.data.Dataset`: int32 `[batch, maxLength]` inputs and targets. */
export interface TensorBatch extends tf.TensorContainerObject {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
}

/**
 * Options of `toTfDataset`.
 *
 * - `epochs`: loader epochs per pass over the `tf.data.Dataset`. Default 1, so `fitDataset`'s
 *   own `epochs` map one to one onto loader epochs. `Infinity` gives an endless stream that
 *   crosses loader epochs, for step-based training with `fitDataset(ds, {batchesPerEpoch})`.
 */
export const ToTfDatasetOptionsSchema = z.strictObject({
  epochs: z
    .custom<number>((v) => typeof v === "number" && ((Number.isSafeInteger(v) && v >= 1) || v === Infinity), {
      error: "must be a positive integer or Infinity",
    })
    .default(1),
});
/** `toTfDataset` options as given. */
export type ToTfDatasetOptions = z.input<typeof ToTfDatasetOptionsSchema>;

function toTensorBatch(batch: Batch): TensorBatch {
  const shape: [number, number] = [batch.batchSize, batch.maxLength];
  return { xs: idsTensor2d(batch.inputs, shape), ys: idsTensor2d(batch.targets, shape) };
}

/**
 * Where `@tfgpt/layers` looks up the id range of a tensor made from host memory (a `WeakMap` from
 * `dataId` to `{min, minAt, max, maxAt}` under this registered symbol; see its `id-range.ts`): its
 * `checkIds` then validates a batch without reading it back from the device, so a training step
 * needs no host synchronisation. Shared through `globalThis` so this package needs no dependency
 * on `@tfgpt/layers`.
 */
const ID_RANGES = Symbol.for("@tfgpt/id-ranges");

interface IdRange {
  min: number;
  minAt: number;
  max: number;
  maxAt: number;
}

/** An int32 `[rows, cols]` tensor of `ids`, its range recorded for `checkIds` (one pass over the host array). */
function idsTensor2d(ids: Int32Array, shape: [number, number]): tf.Tensor2D {
  const tensor = tf.tensor2d(ids, shape, "int32");
  const range: IdRange = { min: Infinity, minAt: -1, max: -Infinity, maxAt: -1 };
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i] as number;
    if (v < range.min) [range.min, range.minAt] = [v, i];
    if (v > range.max) [range.max, range.maxAt] = [v, i];
  }
  const holder = globalThis as unknown as Record<symbol, WeakMap<object, IdRange> | undefined>;
  holder[ID_RANGES] ??= new WeakMap<object, IdRange>();
  holder[ID_RANGES].set(tensor.dataId, range);
  return tensor;
}

/**
 * A `tf.data.Dataset` of `{xs, ys}` int32 `[batch, maxLength]` over `loader`, for
 * `model.fitDataset`. Built on a generator factory: each pass (each `fitDataset` epoch) calls
 * `loader`'s iterator afresh, so it continues from the loader's position and starts the next
 * loader epoch (a new permutation when shuffling). Every batch is a fresh pair of tensors, owned
 * by the consumer (`fitDataset` disposes them). Do not add `prefetch` if you save
 * `loader.state()` in checkpoints: read-ahead moves the loader past the batches trained on.
 *
 * @param loader The batches.
 * @param options `epochs` (default 1): loader epochs per pass.
 *
 * @example
 * ```ts
 * const ds = toTfDataset(loader);
 * await model.fitDataset(ds, { epochs: 3 });
 * ```
 */
export function toTfDataset(loader: DataLoader<TokenSource>, options: ToTfDatasetOptions = {}): tf.data.Dataset<TensorBatch> {
  const { epochs } = parseOptions(ToTfDatasetOptionsSchema, options, "toTfDataset");
  // A factory, not an iterator: tf.data calls it for every pass, so each pass restarts cleanly.
  function* passes(): Generator<TensorBatch> {
    for (let e = 0; e < epochs; e++) {
      for (const batch of loader) yield toTensorBatch(batch);
    }
  }
  return tf.data.generator(passes);
}

/**
 * Options of `toTensors`.
 *
 * - `targets`: `"ids"` (default): int32 `[N, maxLength]`, the same layout as `toTfDataset`'s `ys`,
 *   for custom training loops and losses. `"keras"`: float32 `[N, maxLength, 1]`, the only integer
 *   label layout `LayersModel.fit` accepts for a `[N, maxLength, V]` output (its target check wants
 *   a trailing 1, and its "sparseCategoricalCrossentropy" floors the labels, which int32 refuses).
 */
export const ToTensorsOptionsSchema = z.strictObject({ targets: oneOf(["ids", "keras"]).default("ids") });
/** `toTensors` options as given. */
export type ToTensorsOptions = z.input<typeof ToTensorsOptionsSchema>;

/** What `toTensors` returns: `ys` is `Tensor2D` for `targets: "ids"`, `Tensor3D` for `"keras"`. */
export interface WindowTensors {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D | tf.Tensor3D;
}

/**
 * Every window of `dataset` as tensors, in order, when the windows fit in memory
 * (N * maxLength * 8 bytes, N = `dataset.length`): `xs` int32 `[N, maxLength]` and `ys` as
 * `options.targets` says. The caller disposes them.
 *
 * @param dataset The windows.
 * @param options `targets` (default `"ids"`); see `ToTensorsOptions`.
 *
 * @example
 * ```ts
 * const { xs, ys } = toTensors(dataset, { targets: "keras" });
 * model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" }); // softmax output
 * await model.fit(xs, ys, { batchSize: 8, epochs: 1, shuffle: true });
 * tf.dispose([xs, ys]);
 * ```
 */
export function toTensors(dataset: GPTDataset, options: ToTensorsOptions = {}): WindowTensors {
  const { targets: layout } = parseOptions(ToTensorsOptionsSchema, options, "toTensors");
  const { length: n, maxLength, stride } = dataset;
  const ids = dataset.tokens.ids;
  const inputs = new Int32Array(n * maxLength);
  const targets = new Int32Array(n * maxLength);
  for (let i = 0; i < n; i++) {
    const start = i * stride;
    inputs.set(ids.subarray(start, start + maxLength), i * maxLength);
    targets.set(ids.subarray(start + 1, start + maxLength + 1), i * maxLength);
  }
  const xs = tf.tensor2d(inputs, [n, maxLength], "int32");
  if (layout === "keras") return { xs, ys: tf.tensor3d(Float32Array.from(targets), [n, maxLength, 1], "float32") };
  return { xs, ys: tf.tensor2d(targets, [n, maxLength], "int32") };
}
