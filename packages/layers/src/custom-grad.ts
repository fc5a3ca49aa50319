import * as tf from "@tensorflow/tfjs";

/** What a custom-gradient body returns: the value and the gradient of each input given `dy`. */
export interface CustomGradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * A typed wrapper of `tf.customGrad` for a fixed list of tensor inputs (tfjs types the body as
 * variadic `Tensor | GradSaveFunc`). The body receives the inputs as an array and `save`.
 */
export function customGrad<I extends tf.Tensor[]>(
  body: (inputs: I, save: tf.GradSaveFunc) => CustomGradResult,
): (...inputs: I) => tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return body(args.slice(0, -1) as I, save);
  });
  return (...inputs: I) => f(...inputs);
}
