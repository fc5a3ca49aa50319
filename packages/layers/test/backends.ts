import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

/** The backends every layer is tested on (tfjs-node is optional and not installed in CI). */
export const BACKENDS = ["cpu", "wasm"] as const;

/** Switches tfjs to `name`, failing the test if it cannot start. */
export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`backend ${name} failed to start`);
}

/** Largest absolute difference between two tensors (as a number). */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}
