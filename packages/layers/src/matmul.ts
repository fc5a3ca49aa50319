import * as tf from "@tensorflow/tfjs";
import { customGrad } from "./custom-grad.js";

/**
 * `a @ b` for rank-2 (`[M, K] @ [K, N]`) or same-batch rank-3 (`[B, M, K] @ [B, K, N]`) tensors,
 * with a gradient that transposes explicitly and then runs plain matmuls.
 *
 * Why: tfjs's own matMul gradient calls matMul with `transposeA`/`transposeB`, which the wasm
 * backend runs ~10x slower than the untransposed kernel. Transposing first costs one copy of the
 * smaller operand and keeps every matmul on the fast path.
 *
 * @example
 * const y = matMul(tf.ones([4, 3]), tf.ones([3, 2])); // [4, 2]
 */
export function matMul<R extends tf.Rank.R2 | tf.Rank.R3>(a: tf.Tensor<R>, b: tf.Tensor<R>): tf.Tensor<R> {
  const perm = a.rank === 2 ? [1, 0] : [0, 2, 1];
  // TensorFlow's 2-D MatMul takes transpose flags at full speed (its batched one does not:
  // [48, 256, 64] @ [48, 256, 64]^T ran at half the rate of an explicit transpose + plain matmul).
  const flags = a.rank === 2 && transposeFlagsAreFast();
  const f = customGrad<[tf.Tensor, tf.Tensor]>(([x, y], save) => {
    save([x, y]);
    return {
      value: tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D),
      gradFunc: (dy, saved) => {
        const [xs, ys] = saved as [tf.Tensor2D, tf.Tensor2D];
        if (flags) return [tf.matMul(dy as tf.Tensor2D, ys, false, true), tf.matMul(xs, dy as tf.Tensor2D, true, false)];
        const dx = tf.matMul(dy as tf.Tensor2D, tf.transpose(ys, perm)); // dY @ B^T
        const dw = tf.matMul(tf.transpose(xs, perm), dy as tf.Tensor2D); // A^T @ dY
        return [dx, dw];
      },
    };
  });
  return f(a, b) as tf.Tensor<R>;
}

/**
 * Backends whose matmul kernels take transpose flags at full speed (TensorFlow's BatchMatMul with
 * adj_x / adj_y, the GPU backends); on `wasm` and `cpu` an explicit transpose is cheaper.
 */
const SLOW_TRANSPOSE_FLAG_BACKENDS = new Set(["wasm", "cpu"]);

/** Whether the active backend runs matmuls with transpose flags as fast as plain ones. */
export function transposeFlagsAreFast(): boolean {
  return !SLOW_TRANSPOSE_FLAG_BACKENDS.has(tf.getBackend());
}

/**
 * `x @ w^T` where `w` is `[N, K]` stored row-major (e.g. a `[vocab, dim]` embedding table used as
 * the output head): `[M, K] -> [M, N]`. Forward transposes the (small) table once; the gradient
 * computes `dX = dY @ w` and `dW = (x^T @ dY)^T`, so the `[M, N]` tensor is never transposed.
 */
export function matMulTransposedB(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const flags = transposeFlagsAreFast();
  const f = customGrad<[tf.Tensor, tf.Tensor]>(([a, b], save) => {
    save([a, b]);
    return {
      value: flags ? tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true) : tf.matMul(a as tf.Tensor2D, tf.transpose(b as tf.Tensor2D)),
      gradFunc: (dy, saved) => {
        const [as, bs] = saved as [tf.Tensor2D, tf.Tensor2D];
        const da = tf.matMul(dy as tf.Tensor2D, bs); // [M, N] @ [N, K]
        const db = flags
          ? tf.matMul(dy as tf.Tensor2D, as, true, false) // [N, M] @ [M, K]
          : tf.transpose(tf.matMul(tf.transpose(as), dy as tf.Tensor2D)); // ([K, M] @ [M, N])^T
        return [da, db];
      },
    };
  });
  return f(x, w) as tf.Tensor2D;
}
