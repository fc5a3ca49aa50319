/**
 * `progressCallback`: Keras' `verbose=1` for `model.fit` / `model.fitDataset` in Node: a redrawn
 * bar with step, loss, tokens/s and ETA on a terminal, plain lines in a file or pipe (the
 * `Progress` of this package, as `tfgpt train` prints it). Node only (it defaults to
 * `process.stderr`).
 *
 * @example
 * await model.fitDataset(ds, { epochs: 2, batchesPerEpoch: 100, verbose: 0, callbacks: [progressCallback({ tokensPerBatch: 8 * 64 })] });
 */
import * as tf from "@tensorflow/tfjs";
import { Progress, type ProgressStream } from "./progress.js";

/** Options of {@link progressCallback}. */
export interface ProgressCallbackOptions {
  /** Tokens in one batch (batch size x context), for tokens/s. Default 0: no rate shown. */
  readonly tokensPerBatch?: number;
  /** Where to write. Default `process.stderr`. */
  readonly stream?: ProgressStream;
  /** Plain mode: a line every this many batches. Default: about 20 lines a run. (fitDataset needs `batchesPerEpoch` for the run's length.) */
  readonly logEvery?: number;
}

class ProgressCallback extends tf.Callback {
  private progress: Progress | undefined;
  private step = 0;
  private perEpoch = 0;
  private lastLoss = Number.NaN;

  constructor(private readonly options: ProgressCallbackOptions) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    const p = this.params as { epochs?: number; initialEpoch?: number; steps?: number | null; samples?: number | null; batchSize?: number | null };
    const epochs = (p.epochs ?? 1) - (p.initialEpoch ?? 0);
    this.perEpoch = p.steps ?? (p.samples != null && p.batchSize ? Math.ceil(p.samples / p.batchSize) : 0);
    this.step = 0;
    this.progress = new Progress({
      totalSteps: Math.max(1, epochs * this.perEpoch),
      tokensPerStep: this.options.tokensPerBatch ?? 0,
      stream: this.options.stream ?? process.stderr,
      ...(this.options.logEvery !== undefined ? { logEvery: this.options.logEvery } : {}),
    });
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    this.step++;
    // fitDataset hands the loss over as a scalar tensor: reading it is one host read a step (as Keras' bar).
    const loss: unknown = logs?.["loss"];
    this.lastLoss = typeof loss === "number" ? loss : loss instanceof tf.Tensor && !loss.isDisposed ? ((await loss.data())[0] as number) : Number.NaN;
    this.progress?.step(this.step, this.lastLoss);
  }

  override async onEpochEnd(epoch: number, logs?: tf.Logs): Promise<void> {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(logs ?? {})) {
      const value: unknown = v;
      const n = typeof value === "number" ? value : value instanceof tf.Tensor && !value.isDisposed ? ((await value.data())[0] as number) : Number.NaN;
      parts.push(`${k} ${n.toFixed(4)}`);
    }
    this.progress?.log(`epoch ${epoch + 1}: ${parts.join(", ")}`);
  }

  override async onTrainEnd(): Promise<void> {
    this.progress?.done();
  }
}

/** A `fit`/`fitDataset` callback printing progress (see the module comment); pass `verbose: 0` to leave tfjs's own out. */
export function progressCallback(options: ProgressCallbackOptions = {}): tf.Callback {
  return new ProgressCallback(options);
}
