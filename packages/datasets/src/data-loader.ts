/**
 * Batches of windows from a `GPTDataset`, with PyTorch `DataLoader` semantics (in order, or a
 * seeded permutation per epoch; the last partial batch kept unless `dropLast`) plus rank sharding
 * and a serializable position so that a resumed run sees exactly the batches an uninterrupted
 * one would. Plain typed arrays: no tfjs needed (see `@tfgpt/datasets/tf` for `tf.data`).
 */
import { z } from "zod";
import { DatasetError, describeValue } from "./errors.js";
import type { GPTDataset } from "./gpt-dataset.js";
import type { TokenSource, TokenStore } from "./token-store.js";
import { DataLoaderOptionsSchema, parseOptions, type DataLoaderOptions } from "./options.js";
import { Sampler } from "./sampler.js";

/**
 * One batch, row-major: row `r` of `inputs` is `inputs.subarray(r * maxLength, (r + 1) * maxLength)`.
 * `targets` are the inputs shifted by one token. Fresh arrays per batch: the caller owns them.
 */
export interface Batch {
  /** `[batchSize * maxLength]` input ids. */
  readonly inputs: Int32Array;
  /** `[batchSize * maxLength]` target ids. */
  readonly targets: Int32Array;
  /** Rows in this batch: the loader's `batchSize`, or fewer for a kept last partial batch. */
  readonly batchSize: number;
  /** Tokens per row. */
  readonly maxLength: number;
}

const count = (option: string) =>
  z.number().int().min(0, { error: (i) => `\`${option}\` must be a non-negative integer, received ${describeValue(i.input)}` });

/**
 * A data loader's position: `epoch` and `batchIndex` say which batch comes next; the other fields
 * record what the position is relative to, so a state is only restored into a loader that yields
 * the same batches. JSON-serializable (checkpoints store it).
 */
export const DataLoaderStateSchema = z.strictObject({
  /** Epoch of the next batch (0-based). */
  epoch: count("epoch"),
  /** Index of the next batch within its epoch (0-based, below `numBatches`). */
  batchIndex: count("batchIndex"),
  seed: count("seed"),
  shuffle: z.boolean(),
  dropLast: z.boolean(),
  batchSize: count("batchSize"),
  rank: count("rank"),
  worldSize: count("worldSize"),
  /** Windows in the dataset: catches most restores into another text or window setting. */
  numWindows: count("numWindows"),
  /** Tokens per window. */
  maxLength: count("maxLength"),
});
/** A data loader's saved position (see `DataLoaderStateSchema`). */
export type DataLoaderState = z.infer<typeof DataLoaderStateSchema>;

/** The fields a state must agree on with the loader it is restored into. */
const FINGERPRINT = ["seed", "shuffle", "dropLast", "batchSize", "rank", "worldSize", "numWindows", "maxLength"] as const;

/**
 * Batches of training windows, one cursor through the epochs.
 *
 * - `for (const batch of loader)` runs the rest of the current epoch (all of it on a fresh loader)
 *   and leaves the loader at the start of the next epoch, whose order is a new permutation when
 *   shuffling. Breaking out early keeps the position: the next loop continues where it stopped.
 * - `nextBatch()` gives batches forever, crossing epochs (for step-based training).
 * - `state()` / `restore(state)` save and restore the position.
 *
 * @example
 * ```ts
 * const dataset = new GPTDataset(ids, { maxLength: 4, stride: 4 });
 * const loader = new DataLoader(dataset, { batchSize: 8, shuffle: true, seed: 123 });
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for (const { inputs, targets, batchSize, maxLength } of loader) {
 *     // inputs, targets: Int32Array [batchSize * maxLength]
 *   }
 * }
 * const saved = loader.state(); // JSON-serializable; later: loader.restore(saved)
 * ```
 *
 * @typeParam S The dataset's token source (`TokenStore` by default; `ShardedTokenStore` for shards,
 *   whose windows are then shuffled shard by shard).
 */
export class DataLoader<S extends TokenSource = TokenStore> implements Iterable<Batch> {
  /** The windows batched. */
  readonly dataset: GPTDataset<S>;
  /** Windows per batch (the last batch may have fewer unless `dropLast`). */
  readonly batchSize: number;
  /** Whether each epoch visits the windows in a fresh seeded order. */
  readonly shuffle: boolean;
  /** The permutation seed. */
  readonly seed: number;
  /** Whether an epoch's last partial batch is dropped. */
  readonly dropLast: boolean;
  /** This worker's index among `worldSize` data-parallel workers. */
  readonly rank: number;
  /** Number of data-parallel workers sharing each epoch. */
  readonly worldSize: number;
  /** Batches per epoch for this rank. */
  readonly numBatches: number;
  /** Windows per epoch for this rank (all windows when `worldSize` is 1). */
  readonly numSamples: number;
  private readonly sampler: Sampler;
  private epochNow = 0;
  private batchNow = 0;

  /**
   * @param dataset The windows to batch.
   * @param options `batchSize` (default 1), `shuffle` (false), `seed` (0), `dropLast` (false),
   *   `rank` (0), `worldSize` (1); see `DataLoaderOptionsSchema`.
   * @throws DatasetError for a bad option, or when an epoch would have no batch.
   */
  constructor(dataset: GPTDataset<S>, options: DataLoaderOptions = {}) {
    const resolved = parseOptions(DataLoaderOptionsSchema, options, "DataLoader");
    this.dataset = dataset;
    this.batchSize = resolved.batchSize;
    this.shuffle = resolved.shuffle;
    this.seed = resolved.seed;
    this.dropLast = resolved.dropLast;
    this.rank = resolved.rank;
    this.worldSize = resolved.worldSize;
    // Sharded data shuffles shard by shard (llm.c's order), reading one shard after another.
    this.sampler = new Sampler(dataset.length, { ...resolved, groups: dataset.windowBounds });
    this.numSamples = this.sampler.length;
    this.numBatches = this.dropLast
      ? Math.floor(this.numSamples / this.batchSize)
      : Math.ceil(this.numSamples / this.batchSize);
    if (this.numBatches === 0) {
      const share = this.worldSize === 1 ? "the dataset has" : `rank ${this.rank} of ${this.worldSize} gets`;
      throw new DatasetError(
        `${share} ${this.numSamples} window${this.numSamples === 1 ? "" : "s"}, fewer than \`batchSize\` ${this.batchSize} with \`dropLast\` true: an epoch would have no batch (use a smaller batchSize or stride, more text, or dropLast: false)`,
        "batchSize",
      );
    }
  }

  /** Epoch of the next batch (0-based). */
  get epoch(): number {
    return this.epochNow;
  }

  /** Index of the next batch within `epoch`. */
  get batchIndex(): number {
    return this.batchNow;
  }

  /**
   * Batch `index` of `epoch`, computed without moving the loader (random access).
   *
   * @throws DatasetError when `index` is not in `[0, numBatches)` or `epoch` is negative.
   */
  batchAt(epoch: number, index: number): Batch {
    if (!(Number.isInteger(index) && index >= 0 && index < this.numBatches)) {
      throw new DatasetError(`batch \`index\` must be an integer in [0, ${this.numBatches}), received ${String(index)}`, "index");
    }
    const from = index * this.batchSize;
    const rows = Math.min(this.batchSize, this.numSamples - from);
    const { maxLength } = this.dataset;
    const inputs = new Int32Array(rows * maxLength);
    const targets = new Int32Array(rows * maxLength);
    for (let r = 0; r < rows; r++) {
      this.dataset.readWindow(this.sampler.at(epoch, from + r), inputs, targets, r * maxLength);
    }
    return { inputs, targets, batchSize: rows, maxLength };
  }

  /** The next batch, moving the loader on; after an epoch's last batch, the next epoch starts. */
  nextBatch(): Batch {
    const batch = this.batchAt(this.epochNow, this.batchNow);
    this.batchNow++;
    if (this.batchNow >= this.numBatches) {
      this.epochNow++;
      this.batchNow = 0;
    }
    return batch;
  }

  /** The rest of the current epoch (a whole epoch on a fresh loader), moving the loader on. */
  *[Symbol.iterator](): Iterator<Batch> {
    const epoch = this.epochNow;
    while (this.epochNow === epoch) yield this.nextBatch();
  }

  /** The position of the next batch, JSON-serializable. */
  state(): DataLoaderState {
    return {
      epoch: this.epochNow,
      batchIndex: this.batchNow,
      seed: this.seed,
      shuffle: this.shuffle,
      dropLast: this.dropLast,
      batchSize: this.batchSize,
      rank: this.rank,
      worldSize: this.worldSize,
      numWindows: this.dataset.length,
      maxLength: this.dataset.maxLength,
    };
  }

  /**
   * Moves the loader to a saved position: the next batch is the one an uninterrupted loader would
   * have given after the batches consumed before `state()` was taken.
   *
   * @throws DatasetError when the state is malformed or was saved from a loader with other
   *   settings or another dataset (the message names the field).
   */
  restore(state: DataLoaderState): void {
    const parsed = DataLoaderStateSchema.safeParse(state);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.map(String).join(".") ?? "";
      throw new DatasetError(`cannot restore the data loader: invalid state${where === "" ? "" : ` field \`${where}\``}: ${issue?.message ?? ""}`, "state");
    }
    const saved = parsed.data;
    const current = this.state();
    for (const key of FINGERPRINT) {
      if (saved[key] !== current[key]) {
        throw new DatasetError(
          `cannot restore the data loader: the state was saved with \`${key}\` ${String(saved[key])}, this loader has ${String(current[key])}`,
          key,
        );
      }
    }
    if (saved.batchIndex >= this.numBatches) {
      throw new DatasetError(
        `cannot restore the data loader: \`batchIndex\` must be below numBatches ${this.numBatches}, received ${saved.batchIndex}`,
        "batchIndex",
      );
    }
    this.epochNow = saved.epoch;
    this.batchNow = saved.batchIndex;
  }
}
