/**
 * Batching by length: examples of similar length share a batch, so a collate that pads each
 * batch to its longest example (the book's `custom_collate_fn`, `collateInstructions`) pads
 * little. The epoch's (seeded) order is cut into pools of `poolBatches * batchSize` examples;
 * each pool is sorted by length (ties keep the epoch's order) and cut into batches; then the
 * batches of the whole epoch are put in a seeded order, so steps do not see lengths rising
 * within a pool. Every example is in exactly one batch of the epoch (the last, smaller one is
 * dropped with `dropLast`), as without bucketing.
 */
import { permutation } from "./sampler.js";

/** Options of {@link lengthBucketedBatches}. */
export interface LengthBucketOptions {
  readonly batchSize: number;
  /** Batches a pool holds (the sort's reach). */
  readonly poolBatches: number;
  readonly dropLast: boolean;
  /** Put the batches in a seeded order (`permutation(batches, seed + 1, epoch)`); else pool after pool. */
  readonly shuffle: boolean;
  readonly seed: number;
  readonly epoch: number;
}

/**
 * The batches of one epoch, bucketed by length (see the module comment).
 *
 * @param order the epoch's example order (e.g. a seeded permutation).
 * @param lengths every example's length (tokens), by example index.
 * @example
 * lengthBucketedBatches([3, 0, 2, 1], [5, 1, 4, 2], { batchSize: 2, poolBatches: 2, dropLast: false, shuffle: false, seed: 0, epoch: 0 });
 * // [[1, 3], [2, 0]]: lengths [1, 2] and [4, 5]
 */
export function lengthBucketedBatches(order: ArrayLike<number>, lengths: ArrayLike<number>, options: LengthBucketOptions): number[][] {
  const { batchSize, poolBatches, dropLast } = options;
  const pool = batchSize * poolBatches;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += pool) {
    const members = Array.from({ length: Math.min(pool, order.length - start) }, (_, i) => order[start + i] as number);
    // Stable sort: equal lengths keep the epoch's (random) order.
    const sorted = members.map((example, rank) => ({ example, rank })).sort((a, b) => (lengths[a.example] as number) - (lengths[b.example] as number) || a.rank - b.rank);
    for (let b = 0; b < sorted.length; b += batchSize) {
      const batch = sorted.slice(b, b + batchSize).map((m) => m.example);
      if (batch.length < batchSize && dropLast) continue;
      batches.push(batch);
    }
  }
  if (!options.shuffle) return batches;
  const shuffled = permutation(batches.length, options.seed + 1, options.epoch);
  return Array.from(shuffled, (i) => batches[i] as number[]);
}

/** Padding positions of `batches` when each is padded to its longest example: `sum(size * longest - sum(lengths))`. */
export function paddingOf(batches: readonly (readonly number[])[], lengths: ArrayLike<number>): number {
  let pad = 0;
  for (const batch of batches) {
    const ls = batch.map((i) => lengths[i] as number);
    pad += ls.length * Math.max(...ls) - ls.reduce((a, b) => a + b, 0);
  }
  return pad;
}
