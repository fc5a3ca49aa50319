/**
 * The one place where tfgpt uses tfjs-layers training internals that tfjs does not make public
 * (the wasm-threads and backend internals keep theirs in their own files). Everything else,
 * including the `Trainer`, is built on public API. Checked against `@tensorflow/tfjs` and
 * `@tensorflow/tfjs-layers` {@link TFJS_CHECKED_VERSION} (pinned in the packages' manifests);
 * `test/tfjs-training-internals.test.ts` fails with a message naming what moved if a release
 * changes them.
 *
 * Used here:
 * - `LayersModel.makeTrainFunction` (protected): `fit`/`fitDataset`/`trainOnBatch` call it once
 *   per compile to get the step function; `GPTModel` wraps it to fuse the head with the loss.
 * - `LayersModel.collectedTrainableWeights` (private): the variables `compile` collected, which
 *   the stock step trains (the fused step must train the same ones).
 */
import * as tf from "@tensorflow/tfjs";

/** The tfjs version these internals were checked against. */
export const TFJS_CHECKED_VERSION = "4.22.0";

/** What tfjs's train function gets: the inputs, then the targets, then sample weights; returns the loss and the metrics. */
export type TrainFunction = (data: tf.Tensor[]) => tf.Scalar[];

interface LayersModelInternals {
  collectedTrainableWeights?: tf.LayerVariable[];
  makeTrainFunction?: unknown;
}

/**
 * A `tf.LayersModel` whose training step (as `fit` and `fitDataset` run it) a subclass may replace:
 * `wrapTrainFunction` gets tfjs's own step and returns the one to use.
 */
export abstract class TrainFunctionModel extends tf.LayersModel {
  protected override makeTrainFunction(): TrainFunction {
    return this.wrapTrainFunction(super.makeTrainFunction());
  }

  /** Returns the step `fit` runs, given tfjs's own (`stock`). */
  protected abstract wrapTrainFunction(stock: TrainFunction): TrainFunction;

  /** The variables `compile` collected for training (tfjs's private `collectedTrainableWeights`), else the trainable weights. */
  protected compiledTrainableVariables(): tf.Variable[] {
    const weights = (this as unknown as LayersModelInternals).collectedTrainableWeights ?? this.trainableWeights;
    return weights.map((w) => w.read() as tf.Variable);
  }
}

/**
 * What of the internals above is missing from the installed tfjs: an empty list when all is
 * there. `model` must be compiled (the collected weights exist only then).
 */
export function missingTrainingInternals(model: tf.LayersModel): string[] {
  const missing: string[] = [];
  if (typeof (tf.LayersModel.prototype as unknown as LayersModelInternals).makeTrainFunction !== "function") {
    missing.push("tf.LayersModel.prototype.makeTrainFunction (a method)");
  }
  if (!Array.isArray((model as unknown as LayersModelInternals).collectedTrainableWeights)) {
    missing.push("LayersModel.collectedTrainableWeights (an array after compile)");
  }
  return missing;
}
