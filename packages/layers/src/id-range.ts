import * as tf from "@tensorflow/tfjs";

/**
 * The range of token ids an int32 tensor holds, measured on the host before upload, so that
 * `checkIds` can validate ids without reading the tensor back (on a GPU, every read is a stall).
 */
export interface IdRange {
  /** The smallest id, and its flat position. */
  readonly min: number;
  readonly minAt: number;
  /** The largest id, and its flat position. */
  readonly max: number;
  readonly maxAt: number;
  /** When set, values equal to it (a loss's ignore index) were left out of the range. */
  readonly ignoreIndex?: number;
}

/**
 * The registry is a `WeakMap` from a tensor's `dataId` (what reshapes share on the CPU backends)
 * to its range, kept on `globalThis` under a registered symbol: `@tfgpt/datasets` records the
 * batches it uploads there without depending on this package (see its `tf-dataset.ts`).
 */
const REGISTRY_KEY = Symbol.for("@tfgpt/id-ranges");

function registry(): WeakMap<object, IdRange> {
  const holder = globalThis as unknown as Record<symbol, WeakMap<object, IdRange> | undefined>;
  holder[REGISTRY_KEY] ??= new WeakMap<object, IdRange>();
  return holder[REGISTRY_KEY];
}

/**
 * The range of `values` (an empty array: min +Infinity, max -Infinity); with `ignoreIndex`, the
 * range of the values other than it (recorded as such).
 */
export function idRangeOf(values: ArrayLike<number>, ignoreIndex?: number): IdRange {
  let min = Infinity;
  let max = -Infinity;
  let minAt = -1;
  let maxAt = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === ignoreIndex) continue;
    if (v < min) [min, minAt] = [v, i];
    if (v > max) [max, maxAt] = [v, i];
  }
  return ignoreIndex === undefined ? { min, minAt, max, maxAt } : { min, minAt, max, maxAt, ignoreIndex };
}

/**
 * Records that `tensor` holds `values` (the host array it was made from): `checkIds` then checks
 * the range without reading the tensor. Returns `tensor`.
 */
export function recordIdRange<T extends tf.Tensor>(tensor: T, values: ArrayLike<number>): T {
  registry().set(tensor.dataId, idRangeOf(values));
  return tensor;
}

/** The range recorded for `tensor`'s data, if any. */
export function recordedIdRange(tensor: tf.Tensor): IdRange | undefined {
  return registry().get(tensor.dataId);
}

/**
 * An int32 tensor of token ids made from host memory, its range recorded (see `recordIdRange`):
 * training on it needs no read-back for the id checks.
 *
 * @example
 * const xs = idsTensor(Int32Array.from([1, 2, 3, 4]), [2, 2]);
 */
export function idsTensor(values: Int32Array, shape: number[]): tf.Tensor {
  return recordIdRange(tf.tensor(values, shape, "int32"), values);
}

/**
 * An int32 tensor of training targets that may hold `ignoreIndex` (masked positions), its range
 * over the other values recorded: losses given the same `ignoreIndex` check it without a read-back.
 *
 * @example
 * const ys = targetsTensor(Int32Array.from([5, 50256, -100, -100]), [1, 4]);
 */
export function targetsTensor(values: Int32Array, shape: number[], ignoreIndex = -100): tf.Tensor {
  const tensor = tf.tensor(values, shape, "int32");
  registry().set(tensor.dataId, idRangeOf(values, ignoreIndex));
  return tensor;
}
