import * as tf from "@tensorflow/tfjs";

/**
 * Backends whose `GatherV2` kernel reads every index back to the host to check its range:
 * tfjs-node's (also in `@tensorflow/tfjs-node-gpu`, where each read is a GPU stall). There
 * `gatherRows` runs TensorFlow's `GatherNd`, which checks the indices itself (on the CPU it fails
 * the op; the ids this package gathers are checked beforehand, see `checkIds`).
 */
const HOST_CHECKED_GATHER_BACKENDS = new Set(["tensorflow"]);

/**
 * `x[indices]` along axis 0 (`tf.gather(x, indices)`), without a host read of `indices` on any
 * backend. No gradient of its own: callers use it inside their own custom gradients.
 *
 * @param x `[V, ...]`.
 * @param indices int32 `[N]` in `[0, V)`.
 * @returns `[N, ...]`.
 */
export function gatherRows(x: tf.Tensor, indices: tf.Tensor1D): tf.Tensor {
  if (!HOST_CHECKED_GATHER_BACKENDS.has(tf.getBackend())) return tf.gather(x, indices);
  return tf.tidy(() => tf.gatherND(x, tf.expandDims(indices, 1)));
}
