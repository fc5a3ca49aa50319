import * as tf from "@tensorflow/tfjs";

/**
 * TensorFlow ops that tfjs does not expose, run on tfjs-node's `tensorflow` backend: the
 * backend's public `executeSingleOutput` / `executeMultipleOutputs` (any registered TensorFlow op
 * by name, as tfjs-node runs its own TensorBoard ops) and `binding`'s attribute constants,
 * reached through `tf.backend()` without importing tfjs-node, so this module stays
 * browser-safe. Users: `AdamW`'s fused path (`tensorflow-adam.ts`) and dropout's masks
 * (`statelessUniform`).
 */

/** The part of tfjs-node's `NodeJSKernelBackend` this module uses. */
export interface TensorflowBackend {
  isUsingGpuDevice?: boolean;
  binding: { TF_ATTR_STRING: number; TF_ATTR_TYPE: number; TF_ATTR_SHAPE: number; TF_ATTR_BOOL: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The active backend when it is tfjs-node's TensorFlow backend (CPU or CUDA), else `null`. */
export function tensorflowBackend(): TensorflowBackend | null {
  if (tf.getBackend() !== "tensorflow") return null;
  const backend = tf.backend() as unknown as Partial<TensorflowBackend>;
  const b = backend.binding;
  const ok =
    typeof backend.executeSingleOutput === "function" &&
    typeof backend.executeMultipleOutputs === "function" &&
    b !== undefined &&
    [b.TF_ATTR_STRING, b.TF_ATTR_TYPE, b.TF_ATTR_SHAPE, b.TF_ATTR_BOOL, b.TF_FLOAT, b.TF_INT32].every((x) => typeof x === "number");
  return ok ? (backend as TensorflowBackend) : null;
}

/**
 * `[0, 1)` uniform floats of `shape` from TensorFlow's counter-based `StatelessRandomUniform`
 * (Philox): the same `seed` gives the same values, drawn natively (tfjs's `randomUniform` draws
 * them one by one in JavaScript: ~26 ms for an attention mask of the 124M model, 3.1M floats,
 * ~0.8 s of dropout a training step). `backend` is `tensorflowBackend()`'s result.
 */
export function statelessUniform(backend: TensorflowBackend, shape: readonly number[], seed: number): tf.Tensor {
  const b = backend.binding;
  return tf.tidy(() =>
    backend.executeSingleOutput(
      "StatelessRandomUniform",
      [
        { name: "dtype", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
        { name: "T", type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
        { name: "Tseed", type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
      ],
      [tf.tensor1d([...shape], "int32"), tf.tensor1d([seed | 0, 0x7f6e5d4c], "int32")],
    ),
  );
}
