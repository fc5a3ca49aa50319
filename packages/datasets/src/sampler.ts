/**
 * Which windows an epoch visits and in what order: in order, or a seeded Fisher-Yates
 * permutation that is different every epoch and the same for the same (seed, epoch); then this
 * rank's share of it for data-parallel training. Pure functions of (seed, epoch): the data
 * loader's resumable position is just `{epoch, batchIndex}` on top of this.
 *
 * Items in groups (the windows of each shard) are shuffled two-level, as llm.c does: a permutation
 * of the groups, then a permutation within each group, so an epoch reads one shard after another.
 * That order is computed lazily (`at`), holding one group's permutation at a time.
 */
import { createRng } from "@tfgpt/common";
import { DatasetError } from "./errors.js";

/**
 * A mulberry32 stream of uniform 32-bit unsigned integers.
 *
 * @deprecated Use `createRng(seed).uint32` from `@tfgpt/common` (the same stream).
 */
export function mulberry32(seed: number): () => number {
  return createRng(seed).uint32;
}

/** murmur3's 32-bit finaliser: spreads every input bit over the output so nearby seeds differ. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The 32-bit PRNG state for one epoch, from a seed (any non-negative safe integer: both 32-bit
 * halves count) and the epoch number.
 */
export function epochSeed(seed: number, epoch: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return mix32(lo ^ mix32(hi ^ mix32((epoch >>> 0) + 0x9e3779b9)));
}

/** A uniform integer in `[0, n)` for `1 <= n <= 2^32`, without modulo bias (rejection). */
function below(next: () => number, n: number): number {
  const threshold = (2 ** 32 - n) % n; // 2^32 mod n: the biased low values to reject
  for (;;) {
    const r = next();
    if (r >= threshold) return r % n;
  }
}

/**
 * A permutation of `0 .. n-1` (Fisher-Yates), reproducible for the same `(seed, epoch)`.
 *
 * @example
 * ```ts
 * permutation(5, 42, 0); // e.g. Uint32Array [3, 0, 4, 1, 2]; the same on every call
 * ```
 */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  return shuffled(n, epochSeed(seed, epoch));
}

/** Fisher-Yates over `0 .. n-1` from a 32-bit PRNG state. */
function shuffled(n: number, state: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const next = createRng(state).uint32;
  for (let i = n - 1; i > 0; i--) {
    const j = below(next, i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/**
 * Options of `Sampler` (already validated by the data loader's schema).
 *
 * - `shuffle`: permute every epoch. `seed`: the permutation seed.
 * - `rank`, `worldSize`: this worker's share: positions `rank, rank + worldSize, ...` of the
 *   epoch's order, so shares are disjoint and together complete.
 */
export interface SamplerOptions {
  readonly shuffle: boolean;
  readonly seed: number;
  readonly rank: number;
  readonly worldSize: number;
  /**
   * Item offsets of contiguous groups, `[0, ..., numItems]` (group `g` is
   * `[groups[g], groups[g + 1])`): shuffling permutes the groups, then the items within each.
   * Default: none (one permutation of all items).
   */
  readonly groups?: Float64Array | undefined;
}

/**
 * The item indices one rank visits in each epoch.
 *
 * @example
 * ```ts
 * const s = new Sampler(10, { shuffle: true, seed: 1, rank: 0, worldSize: 2 });
 * s.length;    // 5
 * s.indices(0); // this rank's 5 of the 10 items for epoch 0; epoch 1 gives another order
 * ```
 */
export class Sampler {
  /** Items in the whole dataset. */
  readonly numItems: number;
  /** Items this rank visits per epoch: `ceil((numItems - rank) / worldSize)`. */
  readonly length: number;
  /** Shuffle, seed and rank sharding, as given. */
  readonly options: SamplerOptions;
  private cachedEpoch = -1;
  private cached: Uint32Array | undefined;
  private groupEpoch = -1;
  private groupOrder: Uint32Array | undefined;
  private groupEnds: Float64Array | undefined;
  private localKey = "";
  private local: Uint32Array | undefined;

  /**
   * @param numItems Items to sample from (dataset windows).
   * @param options Shuffle, seed and rank sharding; see `SamplerOptions`.
   */
  constructor(numItems: number, options: SamplerOptions) {
    if (!(Number.isSafeInteger(numItems) && numItems >= 0 && numItems <= 2 ** 32)) {
      throw new DatasetError(`\`numItems\` must be an integer in [0, 2^32], received ${String(numItems)}`, "numItems");
    }
    this.numItems = numItems;
    this.options = { ...options };
    this.length = Math.max(0, Math.ceil((numItems - options.rank) / options.worldSize));
  }

  /**
   * This rank's item indices for `epoch`, in visiting order. The last epoch asked for is cached,
   * so asking batch by batch costs one permutation per epoch. Do not write into the result.
   */
  indices(epoch: number): Uint32Array {
    checkEpoch(epoch);
    if (this.options.groups !== undefined && this.options.shuffle) {
      const out = new Uint32Array(this.length);
      for (let p = 0; p < this.length; p++) out[p] = this.at(epoch, p);
      return out;
    }
    const key = this.options.shuffle ? epoch : 0; // unshuffled: the same order every epoch
    if (this.cached === undefined || this.cachedEpoch !== key) {
      this.cached = this.compute(key);
      this.cachedEpoch = key;
    }
    return this.cached;
  }

  /**
   * The item at `position` of this rank's order for `epoch` (`indices(epoch)[position]`). With
   * groups it is computed lazily from the group order and one group's permutation (memory
   * O(groups + largest group), not O(items)).
   */
  at(epoch: number, position: number): number {
    const { shuffle, groups, rank, worldSize } = this.options;
    if (groups === undefined || !shuffle) return (this.indices(epoch)[position] as number);
    checkEpoch(epoch);
    const q = rank + position * worldSize; // position in the whole epoch's order
    if (this.groupEpoch !== epoch || this.groupOrder === undefined || this.groupEnds === undefined) {
      const numGroups = groups.length - 1;
      this.groupOrder = shuffled(numGroups, epochSeed(this.options.seed, epoch));
      this.groupEnds = new Float64Array(numGroups);
      let end = 0;
      for (let k = 0; k < numGroups; k++) {
        const g = this.groupOrder[k] as number;
        end += (groups[g + 1] as number) - (groups[g] as number);
        this.groupEnds[k] = end;
      }
      this.groupEpoch = epoch;
    }
    const ends = this.groupEnds;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ends[mid] as number) > q) hi = mid;
      else lo = mid + 1;
    }
    const g = this.groupOrder[lo] as number;
    const first = groups[g] as number;
    const size = (groups[g + 1] as number) - first;
    const key = `${epoch}:${g}`;
    if (this.localKey !== key || this.local === undefined) {
      // Each (epoch, group) has its own stream, derived from the epoch's state and the group.
      this.local = shuffled(size, mix32(epochSeed(this.options.seed, epoch) ^ mix32(g + 0x85ebca6b)));
      this.localKey = key;
    }
    const inGroup = q - ((ends[lo] as number) - size);
    return first + (this.local[inGroup] as number);
  }

  private compute(epoch: number): Uint32Array {
    const { shuffle, seed, rank, worldSize } = this.options;
    let order: Uint32Array;
    if (shuffle) {
      order = permutation(this.numItems, seed, epoch);
    } else {
      order = new Uint32Array(this.numItems);
      for (let i = 0; i < this.numItems; i++) order[i] = i;
    }
    if (worldSize === 1) return order;
    const share = new Uint32Array(this.length);
    for (let k = 0; k < this.length; k++) share[k] = order[rank + k * worldSize] as number;
    return share;
  }
}

function checkEpoch(epoch: number): void {
  if (!(Number.isSafeInteger(epoch) && epoch >= 0)) {
    throw new DatasetError(`\`epoch\` must be a non-negative integer, received ${String(epoch)}`, "epoch");
  }
}
