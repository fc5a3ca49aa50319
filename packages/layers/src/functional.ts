import * as tf from "@tensorflow/tfjs";
import { customGrad } from "./custom-grad.js";
import { nextDropoutSeed } from "./dropout-seed.js";
import { matMul, transposeFlagsAreFast } from "./matmul.js";
import { statelessUniform, tensorflowBackend } from "./tensorflow-ops.js";

// The small tensor functions the GPT layers are written with. They work on 2-D `[tokens, C]`
// views, so every matmul is a plain 2-D matmul with the fast custom gradient.

/**
 * `x @ kernel + bias` on `[N, in] -> [N, out]`. With a bias, one fused matmul-with-bias kernel
 * and its own gradient (`dx = dy @ kernel^T`, `dkernel = x^T @ dy`, with explicit transposes where
 * transpose flags are slow (wasm, cpu),
 * `dbias = sum(dy, 0)`).
 *
 * Why: wasm's broadcasting `Add` of a `[out]` bias to `[N, out]` costs ~2 ms for `[512, 64]`
 * (~7x a same-shape add); `tf.fused.matMul` adds the bias inside the matmul.
 */
export function linear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D | null): tf.Tensor2D {
  return bias == null ? matMul(x, kernel) : (linearOp(x, kernel, bias) as tf.Tensor2D);
}

const linearOp = customGrad<[tf.Tensor, tf.Tensor, tf.Tensor]>(([x, w, b], save) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      if (transposeFlagsAreFast()) return [tf.matMul(dy as tf.Tensor2D, ws, false, true), tf.matMul(xs, dy as tf.Tensor2D, true, false), tf.sum(dy, 0)];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D), tf.sum(dy, 0)];
    },
  };
});

/**
 * Layer normalization over the last axis of `[N, C]` (GPT-2's epsilon is 1e-5), with its own
 * gradient:
 *
 *     xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + epsilon),  y = xhat * gamma + beta
 *     dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma
 *
 * Why: wasm runs a broadcasting binary op (`[N, C]` with `[N, 1]` or `[C]`) ~7x slower than a
 * same-shape one, and autodiff of the plain formula runs ~20 of them per call. Here every
 * broadcast is a `batchNorm` kernel (which indexes its per-column operands cyclically): per-column
 * operands directly, per-row ones on the `[C, N]` transpose (a cheap copy). Every `batchNorm`
 * gets all four operands and a variance of 1 with epsilon 0 (it divides by exactly 1): wasm's
 * kernel misreads an omitted offset or scale, and keeps one float per variance element on its stack.
 */
export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5): tf.Tensor2D {
  const op = CYCLIC_BATCHNORM_BACKENDS.has(tf.getBackend()) ? layerNormOp : layerNormBroadcastOp;
  return op(x, gamma, beta, tf.scalar(epsilon)) as tf.Tensor2D;
}

/**
 * Backends whose `batchNorm` kernel indexes its operands cyclically, so that the `affine` trick
 * below is valid. TensorFlow's `FusedBatchNorm` (and the GPU kernels) insist on operands of the
 * channel count; there layer normalization is written with broadcasting ops
 * (`layerNormBroadcastOp`), which those backends run at full speed.
 */
const CYCLIC_BATCHNORM_BACKENDS = new Set(["wasm", "cpu"]);

/** `(t - shift) * scale + offset`, each operand indexed cyclically along `t`'s last axis. */
function affine(t: tf.Tensor2D, shift: tf.Tensor1D | null, scale: tf.Tensor1D | null, offset: tf.Tensor1D | null = null): tf.Tensor2D {
  // Fresh constants: the gradient runs after the forward pass's scope has disposed its tensors.
  const zero = () => tf.zeros([1]) as tf.Tensor1D;
  const one = () => tf.ones([1]) as tf.Tensor1D;
  return tf.batchNorm(t, shift ?? zero(), one(), offset ?? zero(), scale ?? one(), 0) as tf.Tensor2D;
}

const layerNormOp = customGrad<[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]>(([xIn, g, b, eps], save) => {
  const x = xIn as tf.Tensor2D;
  const centeredT = affine(tf.transpose(x), tf.mean(x, -1) as tf.Tensor1D, null); // [C, N]
  const variance = tf.mean(tf.square(centeredT), 0) as tf.Tensor1D; // [N]
  const rstd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
  const xhatT = affine(centeredT, null, rstd); // [C, N]
  const xhat = tf.transpose(xhatT); // [N, C]
  save([xhat, xhatT, rstd, g]);
  return {
    value: affine(xhat, null, g as tf.Tensor1D, b as tf.Tensor1D),
    gradFunc: (dy, saved) => {
      const [xh, xhT, rs, gm] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
      const dy2 = dy as tf.Tensor2D;
      const dBeta = tf.sum(dy2, 0);
      const dGamma = tf.sum(tf.mul(dy2, xh), 0);
      const gy = affine(dy2, null, gm); // dy * gamma
      const meanG = tf.mean(gy, -1) as tf.Tensor1D; // [N]
      const meanGX = tf.mean(tf.mul(gy, xh), -1) as tf.Tensor1D; // [N]
      const dxT = tf.sub(affine(tf.transpose(gy), meanG, rs), affine(xhT, null, tf.mul(rs, meanGX) as tf.Tensor1D)); // [C, N]
      // Not `zerosLike(eps)`: `eps` was disposed with the forward pass's scope (TensorFlow's
      // ZerosLike reads its input).
      return [tf.transpose(dxT), dGamma, dBeta, tf.zeros(eps.shape)];
    },
  };
});

/** `layerNormOp` with broadcasting ops on `[N, C]` (no transposes): for TensorFlow and the GPU backends. */
const layerNormBroadcastOp = customGrad<[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]>(([xIn, g, b, eps], save) => {
  const x = xIn as tf.Tensor2D;
  const { mean, variance } = tf.moments(x, -1, true); // [N, 1] each
  const rstd = tf.rsqrt(tf.add(variance, eps)); // [N, 1]
  const xhat = tf.mul(tf.sub(x, mean), rstd); // [N, C]
  save([xhat, rstd, g]);
  return {
    value: tf.add(tf.mul(xhat, g), b),
    gradFunc: (dy, saved) => {
      const [xh, rs, gm] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const dBeta = tf.sum(dy, 0);
      const dGamma = tf.sum(tf.mul(dy, xh), 0);
      const gy = tf.mul(dy, gm); // dy * gamma
      const meanG = tf.mean(gy, -1, true); // [N, 1]
      const meanGX = tf.mean(tf.mul(gy, xh), -1, true); // [N, 1]
      const dx = tf.mul(tf.sub(tf.sub(gy, meanG), tf.mul(xh, meanGX)), rs);
      return [dx, dGamma, dBeta, tf.zeros(eps.shape)];
    },
  };
});

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GPT-2's GELU, the tanh approximation `0.5 x (1 + tanh(u))`, `u = sqrt(2/pi) (x + 0.044715 x^3)`,
 * computed as the equal `x * sigmoid(2u)`, with its own gradient
 * `s + x s (1 - s) 2u'` (`s = sigmoid(2u)`, `2u' = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2)`).
 *
 * Why: autodiff through `pow(x, 3)` also differentiates the constant exponent (a `log` and a
 * `where` over the whole tensor) and runs wasm's slow `Pow`; here the forward pass is 6
 * elementwise kernels and the backward pass 8 (it reuses the saved `x^2` and sigmoid): each is a
 * pass over the `[tokens, 4C]` activations (the tanh form took 8 and 12).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}

const geluOp = customGrad<[tf.Tensor]>(([x], save) => {
  const x2 = tf.mul(x, x);
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(x2, 2 * GELU_C * GELU_A), 2 * GELU_C))); // sigmoid(2u)
  save([x, x2, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy, saved) => {
      const [xs, x2s, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const du = tf.add(tf.mul(x2s, 6 * GELU_C * GELU_A), 2 * GELU_C); // 2u'
      const ds = tf.mul(ss, tf.sub(1, ss)); // s (1 - s)
      return tf.mul(dy, tf.add(ss, tf.mul(tf.mul(xs, du), ds)));
    },
  };
});

/**
 * Dropout that is a no-op outside training or at rate 0; seeded inside `withDropoutSeed`.
 * `tf.dropout`'s formula (`x * floor(u + keep) / keep`, `u` uniform in [0, 1)); on the
 * `tensorflow` backend `u` comes from TensorFlow's stateless Philox generator instead of tfjs's
 * JavaScript one (the same seed gives the same mask on that backend; cpu and wasm keep tfjs's).
 */
export function maybeDropout(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  const seed = nextDropoutSeed();
  const backend = tensorflowBackend();
  if (backend === null) return tf.dropout(x, rate, undefined, seed);
  const keep = 1 - rate;
  return tf.tidy(() => {
    const u = statelessUniform(backend, x.shape, seed ?? Math.floor(Math.random() * 2 ** 32));
    return tf.mul(x, tf.div(tf.floor(tf.add(u, keep)), keep));
  });
}
