import * as tf from "@tensorflow/tfjs";
import { LayerConfigError } from "./errors.js";
import { headCrossEntropy, type HeadImplementation } from "./head-cross-entropy.js";
import { isLoRAWeightName } from "./lora-linear.js";
import { perplexity, sparseCrossEntropyFromLogits } from "./losses.js";
import { TokenEmbedding } from "./token-embedding.js";
import { TrainFunctionModel, type TrainFunction } from "./tfjs-training-internals.js";

/**
 * Training state (bytes) past which the `wasm` backend is refused: weights and gradients (8 bytes
 * a parameter) plus the optimizer's slots (Adam's moments: 8 more) must fit beside activations in
 * tfjs-wasm's heap; beyond it a step runs out of memory, and with threads that hangs instead of
 * failing (seen with gpt2-small: 124M parameters, ~2 GB with Adam).
 */
export const WASM_TRAINING_STATE_LIMIT = 2 ** 30;

/** Float slots an optimizer keeps per parameter, by tfjs class name (unknown ones: Adam's 2). */
const OPTIMIZER_SLOTS: Readonly<Record<string, number>> = { SGD: 0, Momentum: 1, Adagrad: 1, Adadelta: 2, Adam: 2, Adamax: 2, AdamW: 2, RMSProp: 3 };

/** A model's parameters split by whether they train (e.g. LoRA: adapters trainable, the base frozen). */
export interface ParamSplit {
  readonly trainable: number;
  readonly frozen: number;
}

/** Trainable and frozen parameters of a model, by its weights' `trainable` flags. */
export function paramSplit(model: tf.LayersModel): ParamSplit {
  let trainable = 0;
  let frozen = 0;
  for (const w of model.weights) {
    const n = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    if (w.trainable) trainable += n;
    else frozen += n;
  }
  return { trainable, frozen };
}

/**
 * Bytes of training state: for each trainable parameter its weight and gradient (8 bytes) and the
 * optimizer's slots (Adam and AdamW: 2 moments, 8 more; no optimizer given: Adam's); for each
 * frozen one its weight (4 bytes). A number is that many trainable parameters.
 */
export function trainingStateBytes(params: number | ParamSplit, optimizer?: tf.Optimizer): number {
  // By class name: tfjs's optimizers answer `instanceof` for one another's classes.
  const name = optimizer === undefined ? "Adam" : (optimizer.constructor as { className?: string }).className ?? "";
  const { trainable, frozen } = typeof params === "number" ? { trainable: params, frozen: 0 } : params;
  return trainable * (8 + 4 * (OPTIMIZER_SLOTS[name] ?? 2)) + 4 * frozen;
}

/** Throws a `LayerConfigError` when training `params` parameters would overrun the wasm backend's memory. */
export function checkWasmTrainingMemory(params: number | ParamSplit, optimizer?: tf.Optimizer): void {
  const bytes = trainingStateBytes(params, optimizer);
  if (tf.getBackend() !== "wasm" || bytes <= WASM_TRAINING_STATE_LIMIT) return;
  const { trainable, frozen } = typeof params === "number" ? { trainable: params, frozen: 0 } : params;
  const what =
    frozen === 0
      ? `a model of ${trainable.toLocaleString("en-US")} parameters`
      : `a model of ${(trainable + frozen).toLocaleString("en-US")} parameters (${trainable.toLocaleString("en-US")} trainable)`;
  throw new LayerConfigError(
    `${what} needs ${(bytes / 2 ** 30).toFixed(1)} GiB of weights, gradients and optimizer moments ` +
      `to train, more than the wasm backend holds (1 GiB of training state); use the tensorflow backend (@tensorflow/tfjs-node), LoRA, or a smaller model`,
    "params",
  );
}


/**
 * A `tf.LayersModel` whose training step fuses the output head with the loss. `createGPT`
 * returns one; `tf.loadLayersModel` rebuilds one from a saved GPT (class name `GPTModel`).
 *
 * Inference (`predict`, `apply`, `evaluate`) is the plain model: ids `[batch, T]` -> logits
 * `[batch, T, V]`. Training (`fit`, `fitDataset`, `trainOnBatch`) takes the fast path when the
 * model was compiled with `loss: sparseCrossEntropyFromLogits`, no metrics other than
 * `perplexity`, and no sample weights: the graph runs up to the head's input, and
 * `headCrossEntropy` computes the loss and its gradient without materialising the logits more
 * than once (see there). Anything else uses tfjs's own train function, unchanged, and so does
 * `fusedTraining = false`. Both paths compute the same loss and gradients.
 *
 * @example
 * const model = createGPT(GPT_PRESETS.tiny); // a GPTModel
 * model.compile({ optimizer: adamW(), loss: sparseCrossEntropyFromLogits });
 * await model.fitDataset(dataset, { epochs: 1 }); // fused head + loss
 */
export class GPTModel extends TrainFunctionModel {
  /** @nocollapse */
  static override className = "GPTModel";
  /** Whether training may use the fused head + loss (when the compile settings allow it). Default `true`. */
  fusedTraining = true;
  /** How the fused path computes the head and loss (`headCrossEntropy`'s implementation). Default `"auto"`. */
  headImplementation: HeadImplementation = "auto";
  /** Training steps that took the fused path so far (diagnostics: `fit`'s logs do not say). */
  fusedSteps = 0;
  private trunk: tf.LayersModel | null = null;

  /**
   * Whether the next training step takes the fused path: `fusedTraining` is on, the model has one
   * output made by a `TokenEmbedding` head, and it is compiled with `sparseCrossEntropyFromLogits`
   * and no metrics other than `perplexity`.
   */
  get usesFusedTraining(): boolean {
    return this.fusedTraining && this.head() !== null && this.fusableCompile();
  }

  /**
   * As `tf.LayersModel.compile`; a model with LoRA adapters (`applyLoRA`, or loaded with them)
   * trains its adapters only: every other weight is frozen first.
   */
  override compile(args: tf.ModelCompileArgs): void {
    if (this.weights.some((w) => isLoRAWeightName(w.originalName))) {
      for (const w of this.weights) w.trainable = isLoRAWeightName(w.originalName);
    }
    super.compile(args);
  }

  protected override wrapTrainFunction(stock: TrainFunction): TrainFunction {
    const { frozen } = paramSplit(this);
    checkWasmTrainingMemory({ trainable: this.countParams() - frozen, frozen }, this.optimizer);
    if (!this.usesFusedTraining) return stock;
    const fused = this.fusedTrainFunction();
    return (data) => (data.length > this.inputs.length + 1 && data[this.inputs.length + 1] != null ? stock(data) : fused(data));
  }

  /**
   * The mean cross-entropy (nats per token) of `targets` given `ids`, as `evaluate` with
   * `sparseCrossEntropyFromLogits` would compute it, without gradients. With a tied
   * `TokenEmbedding` head it goes through `headCrossEntropy` (on the CPU backends, the head
   * kernel): no `[batch, T, vocab]` logits, so validation batches can be large. Otherwise it is
   * `mean(sparseCrossEntropyFromLogits(targets, apply(ids)))`. Nothing is read back to the host
   * (ids made by `idsTensor` are checked from their recorded range: this runs on webgpu/webgl).
   *
   * @param ids int32 `[batch, T]`.
   * @param targets int32 `[batch, T]` (or `[batch, T, 1]`).
   * @example
   * const valLoss = model.meanLoss(xs, ys).dataSync()[0];
   */
  meanLoss(ids: tf.Tensor, targets: tf.Tensor): tf.Scalar {
    const head = this.head();
    return tf.tidy(() => {
      // apply (inference mode), not predict: predict slices the batch into new tensors, which lose
      // the ids' recorded range (a host read to check them; refused on webgpu/webgl).
      if (head === null) return tf.mean(sparseCrossEntropyFromLogits(tf.reshape(targets, ids.shape), this.apply(ids, { training: false }) as tf.Tensor)) as tf.Scalar;
      const hidden = this.trunkModel(head).apply(ids, { training: false }) as tf.Tensor; // [B, T, C]
      const dim = hidden.shape[hidden.rank - 1] as number;
      return headCrossEntropy(tf.reshape(hidden, [-1, dim]) as tf.Tensor2D, head.layer.table.read() as tf.Tensor2D, targets, this.headImplementation);
    });
  }

  /**
   * The training loss of one batch, as a training step computes it: the graph run with
   * `training: true` (dropout on), the head and the loss fused by `headCrossEntropy` when the
   * head is a `TokenEmbedding` (else the logits and `sparseCrossEntropyFromLogits`), plus the
   * layers' own losses. For gradients: `tf.variableGrads(() => model.trainingLoss(ids, targets))`.
   * Reads nothing back to the host.
   *
   * @param ids int32 `[batch, T]`.
   * @param targets int32 `[batch, T]`.
   */
  trainingLoss(ids: tf.Tensor, targets: tf.Tensor): tf.Scalar {
    const head = this.head();
    let loss: tf.Scalar;
    if (head === null) {
      const logits = this.apply(ids, { training: true }) as tf.Tensor;
      loss = tf.mean(sparseCrossEntropyFromLogits(tf.reshape(targets, ids.shape), logits)) as tf.Scalar;
    } else {
      const hidden = this.trunkModel(head).apply(ids, { training: true }) as tf.Tensor; // [B, T, C]
      const dim = hidden.shape[hidden.rank - 1] as number;
      loss = headCrossEntropy(tf.reshape(hidden, [-1, dim]) as tf.Tensor2D, head.layer.table.read() as tf.Tensor2D, targets, this.headImplementation);
    }
    for (const extra of this.calculateLosses()) loss = tf.add(loss, extra);
    return loss;
  }

  /**
   * Disposes the model's weights. tfjs counts one reference per call of a layer, and
   * `LayersModel.dispose` releases one per layer: a layer called twice in this graph (the tied
   * head: `wte` is both the input table and the output layer) kept its table alive. Each extra
   * call is released here too.
   */
  override dispose(): ReturnType<tf.LayersModel["dispose"]> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      for (const layer of this.layers) {
        for (let extra = layer.inboundNodes.length - 1; extra > 0; extra--) result.numDisposedVariables += layer.dispose().numDisposedVariables;
      }
    }
    return result;
  }

  /** The graph from the ids to the head's input, sharing every layer (and weight) with this model. */
  private trunkModel(head: { hidden: tf.SymbolicTensor }): tf.LayersModel {
    this.trunk ??= tf.model({ inputs: this.inputs, outputs: head.hidden, name: `${this.name}_trunk` });
    return this.trunk;
  }

  /** The head layer and its input, when the output is a `TokenEmbedding` called on hidden states. */
  private head(): { layer: TokenEmbedding; hidden: tf.SymbolicTensor } | null {
    if (this.outputs.length !== 1 || this.inputs.length !== 1) return null;
    const output = this.outputs[0] as tf.SymbolicTensor;
    const hidden = output.inputs[0];
    const layer = output.sourceLayer;
    if (!(layer instanceof TokenEmbedding) || output.inputs.length !== 1 || hidden === undefined || hidden.dtype === "int32") return null;
    return { layer, hidden };
  }

  private fusableCompile(): boolean {
    return (
      this.lossFunctions?.length === 1 &&
      this.lossFunctions[0] === sparseCrossEntropyFromLogits &&
      (this.metricsTensors ?? []).every(([metric]) => metric === perplexity)
    );
  }

  /** tfjs's train function with the head and the loss replaced by `headCrossEntropy`. */
  private fusedTrainFunction(): TrainFunction {
    const head = this.head();
    if (head === null) throw new Error("unreachable: fusedTrainFunction without a TokenEmbedding head");
    const trunk = this.trunkModel(head);
    const metrics = this.metricsTensors ?? [];
    return (data) => {
      const [ids, targets] = data as [tf.Tensor, tf.Tensor];
      const metricValues: tf.Scalar[] = [];
      const totalLoss = (): tf.Scalar => {
        const hidden = trunk.apply(ids, { training: true }) as tf.Tensor; // [B, T, C]
        const dim = hidden.shape[hidden.rank - 1] as number;
        let loss = headCrossEntropy(tf.reshape(hidden, [-1, dim]) as tf.Tensor2D, head.layer.table.read() as tf.Tensor2D, targets, this.headImplementation);
        for (let i = 0; i < metrics.length; i++) metricValues.push(tf.keep(tf.exp(loss)));
        for (const extra of this.calculateLosses()) loss = tf.add(loss, extra);
        return loss;
      };
      const value = this.optimizer.minimize(totalLoss, true, this.compiledTrainableVariables()) as tf.Scalar;
      this.fusedSteps++;
      return [value, ...metricValues];
    };
  }
}
