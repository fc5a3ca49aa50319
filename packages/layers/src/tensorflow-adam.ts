import * as tf from "@tensorflow/tfjs";
import { type OpAttr, type TensorflowBackend, tensorflowBackend } from "./tensorflow-ops.js";

/**
 * TensorFlow's own fused Adam kernel (`ResourceApplyAdam`) for `AdamW` on the `tensorflow`
 * backend (`@tensorflow/tfjs-node`).
 *
 * Why: on tfjs ops an Adam step is 12-13 elementwise kernels per variable, each a pass over
 * memory; for the 124M model that is ~1 s of a ~7.5 s step on 2 cores. TensorFlow's kernel updates
 * `var`, `m` and `v` in place in one pass (measured here on the 124M shapes: ~120 ms for the
 * kernels, ~200 ms with the weight decay and the copy back into the tfjs variables, vs 860-1,070
 * ms on tfjs ops).
 *
 * How: each trained variable gets three TensorFlow resource variables (weights, `m`, `v`), created
 * with `VarHandleOp` under TensorFlow's anonymous name, so that each lives exactly as long as its
 * handle (a tfjs tensor: disposing it frees the buffer). A step assigns the tfjs variable's value
 * (decayed: `w * (1 - lr * weightDecay)`, the same kernel as on tfjs ops) to the resource, runs
 * `ResourceApplyAdam`, and assigns `ReadVariableOp`'s result (no copy) back to the tfjs variable.
 * The tfjs variable stays the one source of truth: whoever sets its weights between steps
 * (`setWeights`, a checkpoint) is seen by the next step. No host sync: every op runs in
 * TensorFlow (see `tensorflow-ops.ts`).
 */

/** `ResourceHandle::ANONYMOUS_NAME` in TensorFlow: the resource is owned by (and dies with) its handle. */
const ANONYMOUS_NAME = "cd2c89b7-88b7-44c8-ad83-06c2a9158347";

/** Whether `AdamW` uses the fused kernel by default: on tfjs-node's TensorFlow backend on the CPU. */
export function fusedAdamByDefault(): boolean {
  const backend = tensorflowBackend();
  return backend !== null && backend.isUsingGpuDevice !== true;
}

/** The hyper-parameters of one fused step; bias corrections are TensorFlow's (`lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)`). */
export interface FusedAdamStep {
  /** `beta1 ** t` and `beta2 ** t` for step `t` (1-based). */
  beta1Power: number;
  beta2Power: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Added to `sqrt(v)` (uncorrected): PyTorch's `epsilon * sqrt(1 - beta2^t)`. */
  epsilon: number;
}

/**
 * A step's hyper-parameters as the scalar tensors `ResourceApplyAdam` takes, made once a step and
 * shared by every variable; the caller disposes them after the step.
 */
export function fusedAdamScalars(step: FusedAdamStep): tf.Tensor[] {
  return [step.beta1Power, step.beta2Power, step.learningRate, step.beta1, step.beta2, step.epsilon].map((x) => tf.scalar(x));
}

/** One variable's weights, `m` and `v` as TensorFlow resource variables (see the module comment). */
export class FusedAdamSlots {
  private readonly backend: TensorflowBackend;
  private readonly weights: tf.Tensor;
  private readonly m: tf.Tensor;
  private readonly v: tf.Tensor;

  /** Slots for `variable`'s shape, with moments `m` and `v` copied in (the caller keeps its tensors). */
  constructor(variable: tf.Variable, m: tf.Tensor, v: tf.Tensor) {
    const backend = tensorflowBackend();
    if (backend === null) throw new Error("FusedAdamSlots needs the tensorflow backend (@tensorflow/tfjs-node)");
    this.backend = backend;
    this.weights = this.handle(variable.shape);
    this.m = this.handle(variable.shape);
    this.v = this.handle(variable.shape);
    this.assign(this.m, m);
    this.assign(this.v, v);
  }

  /**
   * One AdamW step of `variable` with `gradient`, in place; the result is assigned to `variable`.
   * `scalars` are `fusedAdamScalars(step)`; the weights are multiplied by `keep` first (decoupled
   * weight decay) unless it is `null`.
   */
  apply(variable: tf.Variable, gradient: tf.Tensor, scalars: tf.Tensor[], keep: number | null): void {
    const b = this.backend.binding;
    tf.tidy(() => {
      this.assign(this.weights, keep === null ? variable : tf.mul(variable, keep));
      this.backend.executeMultipleOutputs(
        "ResourceApplyAdam",
        [
          { name: "T", type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
          { name: "use_locking", type: b.TF_ATTR_BOOL, value: false },
          { name: "use_nesterov", type: b.TF_ATTR_BOOL, value: false },
        ],
        [this.weights, this.m, this.v, ...scalars, gradient],
        0,
      );
      variable.assign(this.read(this.weights));
    });
  }

  /** The first moments, as a new tensor (the caller disposes it). */
  readM(): tf.Tensor {
    return this.read(this.m);
  }

  /** The second moments, as a new tensor (the caller disposes it). */
  readV(): tf.Tensor {
    return this.read(this.v);
  }

  /** Frees the three resource variables. */
  dispose(): void {
    tf.dispose([this.weights, this.m, this.v]);
  }

  private get dtypeAttr(): OpAttr {
    return { name: "dtype", type: this.backend.binding.TF_ATTR_TYPE, value: this.backend.binding.TF_FLOAT };
  }

  private handle(shape: number[]): tf.Tensor {
    const b = this.backend.binding;
    return this.backend.executeSingleOutput(
      "VarHandleOp",
      [
        { name: "container", type: b.TF_ATTR_STRING, value: "" },
        { name: "shared_name", type: b.TF_ATTR_STRING, value: ANONYMOUS_NAME },
        this.dtypeAttr,
        { name: "shape", type: b.TF_ATTR_SHAPE, value: shape },
      ],
      [],
    );
  }

  private assign(handle: tf.Tensor, value: tf.Tensor): void {
    this.backend.executeMultipleOutputs("AssignVariableOp", [this.dtypeAttr], [handle, value], 0);
  }

  private read(handle: tf.Tensor): tf.Tensor {
    return this.backend.executeSingleOutput("ReadVariableOp", [this.dtypeAttr], [handle]);
  }
}
