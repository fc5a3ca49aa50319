import * as tf from "@tensorflow/tfjs";
import { customGrad } from "./custom-grad.js";
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
const GELU_A = 0.044715;

/**
 * GPT-2's GELU, the tanh approximation: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`, with
 * its own gradient `0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)`.
 *
 * Why: autodiff through `pow(x, 3)` also differentiates the constant exponent (a `log` and a
 * `where` over the whole tensor) and runs wasm's slow `Pow`; here the forward pass is 8
 * elementwise kernels (`x^3` as `x * x * x`), the backward pass reuses the saved `tanh`.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

const geluOp = customGrad<[tf.Tensor]>(([x], save) => {
  const x2 = tf.mul(x, x);
  const inner = tf.mul(x, tf.add(tf.mul(x2, GELU_C * GELU_A), GELU_C)); // c (x + a x^3)
  const t = tf.tanh(inner);
  const half = tf.mul(x, 0.5);
  save([x, t]);
  return {
    value: tf.add(half, tf.mul(half, t)),
    gradFunc: (dy, saved) => {
      const [xs, ts] = saved as [tf.Tensor, tf.Tensor];
      const dInner = tf.add(tf.mul(tf.mul(xs, xs), 3 * GELU_C * GELU_A), GELU_C); // c (1 + 3 a x^2)
      const sech2 = tf.sub(1, tf.mul(ts, ts));
      const d = tf.add(tf.mul(tf.add(ts, 1), 0.5), tf.mul(tf.mul(xs, 0.5), tf.mul(sech2, dInner)));
      return tf.mul(dy, d);
    },
  };
});

/** Dropout that is a no-op outside training or at rate 0. */
export function maybeDropout(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate) : x;
}
