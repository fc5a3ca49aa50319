import * as tf from "@tensorflow/tfjs";
import { matMul } from "./matmul.js";

// The small tensor functions the GPT layers are written with. They work on 2-D `[tokens, C]`
// views, so every matmul is a plain 2-D matmul with the fast custom gradient.

/** `x @ kernel + bias` on `[N, in] -> [N, out]`. */
export function linear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D | null): tf.Tensor2D {
  const y = matMul(x, kernel);
  return bias == null ? y : tf.add(y, bias);
}

/** Layer normalization over the last axis of `[N, C]` (GPT-2's epsilon is 1e-5). */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GPT-2's GELU, the tanh approximation: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. */
export function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Dropout that is a no-op outside training or at rate 0. */
export function maybeDropout(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate) : x;
}
