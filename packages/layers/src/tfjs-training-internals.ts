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
 * - `Layer._trainableWeights` and `Layer._addedWeightNames` (protected), and `addWeight` shadowed
 *   on an instance while it builds: a layer built as a part of another (`buildNested`: tfjs-layers
 *   has no public API for nested layers) and weights taken out of a layer (`untrackWeights`:
 *   LoRA adapters removed).
 */
import * as tf from "@tensorflow/tfjs";

/** The tfjs version these internals were checked against. */
export const TFJS_CHECKED_VERSION = "4.22.0";

/** What tfjs's train function gets: the inputs, then the targets, then sample weights; returns the loss and the metrics. */
export type TrainFunction = (data: tf.Tensor[]) => tf.Scalar[];

/** Members of `tf.layers.Layer` that tfjs declares protected. */
interface LayerInternals {
  /** Behind `weights`, `trainable`, `getWeights`/`setWeights` and `dispose`. */
  _trainableWeights: tf.LayerVariable[];
  /** The names `addWeight` refuses to add twice. */
  _addedWeightNames: string[];
  /** Set on the instance while a child builds, shadowing the prototype's. */
  addWeight?: (name: string, ...rest: unknown[]) => tf.LayerVariable;
}

/**
 * Builds `child` as a part of `parent`, as keras-hub's layers hold theirs (a `TransformerDecoder`
 * holds its attention and layer norms). tfjs-layers has no public API for it: its own wrappers
 * (`Bidirectional`) use a private name scope. Here:
 *
 * - the child's weights are named `<prefix><name>` in the scope the parent is being built in:
 *   a block `h0` building its attention `attn` gives `h0/attn/c_attn/kernel`, exactly the path
 *   the weight would have if the parent had added it itself (default prefix: `<child.name>/`);
 * - the parent tracks them, after the weights it added before: its `weights`, `trainable`,
 *   `getWeights`/`setWeights`, `dispose`, `model.save` and `loadLayersModel` see them, in order.
 *
 * The parent calls the child's methods (or `call`) directly, not `apply`: no extra graph nodes.
 * A child built already is only tracked.
 *
 * @example
 * override build(): void { buildNested(this, this.attn, [this.embeddingDim]); this.built = true; }
 */
export function buildNested(parent: tf.layers.Layer, child: tf.layers.Layer, inputShape: tf.Shape | tf.Shape[], prefix = `${child.name}/`): void {
  if (!child.built) {
    const target = child as unknown as LayerInternals;
    const addWeight = target.addWeight!;
    target.addWeight = (name, ...rest) => addWeight.call(child, `${prefix}${name}`, ...rest);
    try {
      child.build(inputShape);
      child.built = true;
    } finally {
      delete target.addWeight; // back to the prototype's
    }
  }
  (parent as unknown as LayerInternals)._trainableWeights.push(...child.weights);
}

/**
 * Takes `gone` out of `layer`'s weights (and their names out of the names `addWeight` refuses,
 * those matching `names`), so that the same names can be added again later; disposes nothing.
 * Returns the weights the layer keeps.
 */
export function untrackWeights(layer: tf.layers.Layer, gone: ReadonlySet<tf.LayerVariable>, names: RegExp): tf.LayerVariable[] {
  const internals = layer as unknown as LayerInternals;
  internals._trainableWeights = internals._trainableWeights.filter((w) => !gone.has(w));
  internals._addedWeightNames = internals._addedWeightNames.filter((n) => !names.test(n));
  return internals._trainableWeights;
}

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
  const layer = model.layers.find((l) => l.weights.length > 0) as unknown as LayerInternals | undefined;
  if (!Array.isArray(layer?._trainableWeights)) missing.push("Layer._trainableWeights (an array)");
  if (!Array.isArray(layer?._addedWeightNames)) missing.push("Layer._addedWeightNames (an array)");
  if (typeof (tf.layers.Layer.prototype as unknown as LayerInternals).addWeight !== "function") missing.push("tf.layers.Layer.prototype.addWeight (a method)");
  return missing;
}
