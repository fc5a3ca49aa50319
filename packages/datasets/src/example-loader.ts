/**
 * A seeded, resumable batcher over a list of examples (`ExampleLoader`): the fine-tuning datasets'
 * `DataLoader`. Every epoch is a fresh seeded permutation (or the given order); `state()` /
 * `restore()` save and restore the position exactly, as `DataLoader` does for training windows.
 * Given the examples' `lengths`, batches are bucketed by length (`lengthBucketedBatches`) so that
 * padding each batch to its longest example pads little.
 */
import { bool, nonNegativeInt, positiveInt } from "@tfgpt/common";
import { z } from "zod";
import { DatasetError } from "./errors.js";
import { lengthBucketedBatches } from "./length-buckets.js";
import { parseOptions } from "./options.js";
import { permutation } from "./sampler.js";

/**
 * Options of `ExampleLoader`.
 *
 * - `batchSize`: examples per batch. Default 8 (the book's chapters 6 and 7).
 * - `shuffle`: a fresh seeded order every epoch. Default `true`.
 * - `seed`: the order's seed. Default 0.
 * - `dropLast`: drop an epoch's last, smaller batch. Default `false`.
 * - `lengths`: every example's length in tokens. When given, batches are bucketed by length:
 *   the epoch's order is cut into pools of `poolBatches` batches, each pool sorted by length and
 *   cut into batches, and the batches put in a seeded order. Default: none (no bucketing).
 * - `poolBatches`: batches per pool when bucketing. Default 100.
 */
export const ExampleLoaderOptionsSchema = z.strictObject({
  batchSize: positiveInt().default(8),
  shuffle: bool().default(true),
  seed: nonNegativeInt("a non-negative safe integer").default(0),
  dropLast: bool().default(false),
  lengths: z.array(z.number().int().min(0), { error: "must be an array of non-negative integers" }).optional(),
  poolBatches: positiveInt().default(100),
});
/** `ExampleLoader` options as given. */
export type ExampleLoaderOptions = z.input<typeof ExampleLoaderOptionsSchema>;

/** The position of an `ExampleLoader`: JSON-serializable; `restore` checks it fits the loader. */
export const ExampleLoaderStateSchema = z.strictObject({
  epoch: z.number().int().min(0),
  batchIndex: z.number().int().min(0),
  examples: z.number().int().min(0),
  batchSize: z.number().int().min(1),
  shuffle: z.boolean(),
  seed: z.number().int().min(0),
  dropLast: z.boolean(),
  /** Batches per pool when the loader buckets by length (absent: no bucketing). */
  poolBatches: z.number().int().min(1).optional(),
});
/** A saved `ExampleLoader` position. */
export type ExampleLoaderState = z.infer<typeof ExampleLoaderStateSchema>;

/**
 * Yields batches of example indices in `[0, examples)`, epoch after epoch.
 *
 * @example
 * const loader = new ExampleLoader(100, { batchSize: 8, seed: 1 });
 * const first = loader.nextIndices(); // 8 indices of epoch 0's permutation
 * const saved = loader.state(); // later: loader.restore(saved)
 */
export class ExampleLoader {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Batches per pool when bucketing by length; `undefined` without `lengths`. */
  readonly poolBatches: number | undefined;
  private readonly lengths: readonly number[] | undefined;
  private epochValue = 0;
  private batchIndex = 0;
  private batches: number[][] | null = null;

  /**
   * @param examples How many examples there are (at least one).
   * @param options See `ExampleLoaderOptionsSchema`.
   */
  constructor(
    readonly examples: number,
    options: ExampleLoaderOptions = {},
  ) {
    if (!Number.isInteger(examples) || examples < 1) throw new DatasetError(`\`examples\` must be a positive integer, received ${examples}`, "examples");
    const o = parseOptions(ExampleLoaderOptionsSchema, options, "ExampleLoader");
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.dropLast = o.dropLast;
    this.lengths = o.lengths;
    this.poolBatches = o.lengths === undefined ? undefined : o.poolBatches;
    if (o.lengths !== undefined && o.lengths.length !== examples) {
      throw new DatasetError(`\`lengths\` must have one entry per example (${examples}), received ${o.lengths.length}`, "lengths");
    }
    if (this.dropLast && examples < this.batchSize) {
      throw new DatasetError(`\`batchSize\` ${this.batchSize} with \`dropLast\` leaves no batch of ${examples} examples`, "batchSize");
    }
  }

  /** Batches per epoch. */
  get numBatches(): number {
    return this.dropLast ? Math.floor(this.examples / this.batchSize) : Math.ceil(this.examples / this.batchSize);
  }

  /** The epoch the next batch belongs to. */
  get epoch(): number {
    return this.epochValue;
  }

  /** The next batch's example indices (moving to the next epoch after the last batch). */
  nextIndices(): number[] {
    if (this.batchIndex >= this.numBatches) {
      this.epochValue++;
      this.batchIndex = 0;
      this.batches = null;
    }
    this.batches ??= this.epochBatches();
    return [...(this.batches[this.batchIndex++] as number[])];
  }

  /** The batches of the current epoch. */
  private epochBatches(): number[][] {
    const order = this.shuffle ? permutation(this.examples, this.seed, this.epochValue) : Uint32Array.from({ length: this.examples }, (_, i) => i);
    if (this.lengths !== undefined) {
      const { batchSize, dropLast, shuffle, seed } = this;
      return lengthBucketedBatches(order, this.lengths, { batchSize, poolBatches: this.poolBatches as number, dropLast, shuffle, seed, epoch: this.epochValue });
    }
    return Array.from({ length: this.numBatches }, (_, b) => Array.from(order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, this.examples))));
  }

  /** The position, to `restore` later (here or in a new loader with the same settings). */
  state(): ExampleLoaderState {
    // A finished epoch is saved as the start of the next one, as nextIndices would move there.
    const done = this.batchIndex >= this.numBatches;
    return {
      epoch: done ? this.epochValue + 1 : this.epochValue,
      batchIndex: done ? 0 : this.batchIndex,
      examples: this.examples,
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      seed: this.seed,
      dropLast: this.dropLast,
      ...(this.poolBatches !== undefined ? { poolBatches: this.poolBatches } : {}),
    };
  }

  /**
   * Continues from a saved position: the next batch is the one the saved loader would have given.
   * @throws DatasetError when the state is malformed or was saved with other settings.
   */
  restore(state: ExampleLoaderState): void {
    const parsed = ExampleLoaderStateSchema.safeParse(state);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DatasetError(`cannot restore the example loader: invalid state field \`${issue?.path.join(".") ?? ""}\`: ${issue?.message ?? ""}`, "state");
    }
    const saved = parsed.data;
    for (const key of ["examples", "batchSize", "shuffle", "seed", "dropLast", "poolBatches"] as const) {
      if (saved[key] !== this[key]) {
        throw new DatasetError(`cannot restore the example loader: the state was saved with \`${key}\` ${String(saved[key] ?? "none")}, this loader has ${String(this[key] ?? "none")}`, "state");
      }
    }
    if (saved.batchIndex >= this.numBatches) {
      throw new DatasetError(`cannot restore the example loader: \`batchIndex\` must be below numBatches ${this.numBatches}, received ${saved.batchIndex}`, "state");
    }
    this.epochValue = saved.epoch;
    this.batchIndex = saved.batchIndex;
    this.batches = null;
  }
}
