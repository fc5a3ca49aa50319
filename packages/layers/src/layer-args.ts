import type * as tf from "@tensorflow/tfjs";

/** tfjs's base layer arguments (`name`, `trainable`, `inputShape`, ...), which tfjs exports only as a type of the constructor. */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Keyword arguments tfjs passes to `Layer.call` (e.g. `training`, `mask`). */
export type Kwargs = Record<string, unknown>;

/** `inputs` of `Layer.call` as one tensor: tfjs passes a tensor or a one-element list. */
export function single<T>(inputs: T | T[]): T {
  if (Array.isArray(inputs)) {
    const [first] = inputs;
    if (first === undefined) throw new Error("expected one input tensor, received none");
    return first;
  }
  return inputs;
}
