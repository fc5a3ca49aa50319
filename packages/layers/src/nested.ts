import type * as tf from "@tensorflow/tfjs";

/** Members of `tf.layers.Layer` used here that tfjs declares protected. */
interface LayerInternals {
  /** Behind `weights`, `trainable`, `getWeights`/`setWeights` and `dispose`. */
  _trainableWeights: tf.LayerVariable[];
  /** Set on the instance while the child builds, shadowing the prototype's. */
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
