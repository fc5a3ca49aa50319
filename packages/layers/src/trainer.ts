/**
 * The training loop of tfgpt, readable the way nanoGPT's `train.py` is. The CLI (`tfgpt train`)
 * and the page use it; `model.fit`/`fitDataset` stay for tfjs users (`GPTModel`).
 *
 *     lr = learningRateAt(step)                          warmup, then cosine decay (or constant)
 *     for each of gradAccum micro-batches:               gradient accumulation
 *         loss = model.trainingLoss(ids, targets)        forward, fused head + cross-entropy
 *         grads += d(loss / gradAccum) / d(weights)
 *     grads *= min(1, gradClip / ||grads||)              global-norm clipping (0: off)
 *     adamW.applyGradients(grads)                        decoupled decay on matrices only
 *     step += 1
 *
 * Nothing is read back to the host in a step (the loss comes back as a tensor). A checkpoint
 * (`checkpoint()`, `Trainer.fromCheckpoint`) holds the weights, AdamW's moments (by variable
 * name), the step, the resolved options (the schedule) and an opaque data state of the caller's
 * (a DataLoader's `state()`); with dropout 0, or with `dropoutSeed` set, a restored trainer
 * continues bit for bit. It is written through a {@link CheckpointIO}: `checkpointDirectory` of `@tfgpt/layers/node` (an atomic
 * directory per step), or any other store.
 *
 * Other models and losses: by default the loss is the `GPTModel`'s own (`trainingLoss` in
 * training, `meanLoss` in `evaluate`). A `loss` function (the third argument) replaces it for
 * any `tf.LayersModel`: a classifier's cross-entropy, a masked (ignore-index) language-model
 * loss. `dropoutSeed` makes the dropout masks of each micro-batch a function of the seed, the
 * step and the micro-batch (`withDropoutSeed`), so runs with dropout resume bit for bit too.
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { AdamW } from "./adamw.js";
import { mixSeeds, withDropoutSeed } from "./dropout-seed.js";
import { LayerConfigError, parseOptions } from "./errors.js";
import type { GPTModel } from "./gpt-model.js";

/** zod schema of the `Trainer`'s options; the defaults are the CLI's (`tfgpt train --help` shows them). */
export const TrainerOptionsSchema = z.strictObject({
  /** Peak learning rate (after warmup). Default `0.003`. */
  learningRate: z.number().positive().max(1).default(3e-3).describe("a number in (0, 1]"),
  /** `"cosine"`: decay from `learningRate` to `minLearningRate` over `totalSteps`; `"constant"`: no decay. Default `"constant"`. */
  schedule: z.enum(["constant", "cosine"]).default("constant").describe('"constant" or "cosine"'),
  /** Steps of linear warmup from `learningRate / (warmupSteps + 1)`. Default 0. */
  warmupSteps: z.number().int().min(0).default(0).describe("a non-negative integer"),
  /** Learning rate at the end of the cosine decay. Default: `learningRate / 10` (nanoGPT). */
  minLearningRate: z.number().min(0).optional().describe("a non-negative number"),
  /** Steps of the whole run (where the cosine decay ends). Required with `schedule: "cosine"`. */
  totalSteps: z.number().int().positive().optional().describe("a positive integer"),
  /** AdamW's decoupled weight decay, on weight matrices only (not biases, layer norms). Default `0.1`. */
  weightDecay: z.number().min(0).default(0.1).describe("a non-negative number"),
  /** Largest global gradient norm; larger gradients are scaled down to it. 0 turns clipping off. Default `1`. */
  gradClip: z.number().min(0).default(1).describe("a non-negative number"),
  /** Micro-batches whose gradients are averaged into one step. Default 1. */
  gradAccum: z.number().int().positive().default(1).describe("a positive integer"),
  /** AdamW's beta1. Default `0.9`. */
  beta1: z.number().min(0).lt(1).default(0.9).describe("a number in [0, 1)"),
  /** AdamW's beta2. Default `0.95` (nanoGPT). */
  beta2: z.number().min(0).lt(1).default(0.95).describe("a number in [0, 1)"),
  /** AdamW's epsilon. Default `1e-8`. */
  epsilon: z.number().positive().default(1e-8).describe("a positive number"),
  /**
   * Seeds every dropout mask of a step: micro-batch `k` of step `s` runs under
   * `withDropoutSeed(mixSeeds(dropoutSeed, s, k), model, ...)`, so a restored trainer draws the
   * masks an uninterrupted one would. Default: unseeded (tfjs draws from `Math.random`).
   */
  dropoutSeed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe("an integer in [0, 2^32)"),
});
export type TrainerOptions = z.input<typeof TrainerOptionsSchema>;
export type ResolvedTrainerOptions = z.output<typeof TrainerOptionsSchema>;
/** The defaults of {@link TrainerOptionsSchema} (the one place the CLI's help takes them from). */
export const TRAINER_DEFAULTS: ResolvedTrainerOptions = TrainerOptionsSchema.parse({});

/** One batch: int32 ids and next-token targets, both `[batch, T]`. */
export interface TrainBatch {
  readonly inputs: tf.Tensor;
  readonly targets: tf.Tensor;
}

/**
 * The loss of one batch for a model that is not a `GPTModel` trained on next tokens (or to
 * replace its loss): `training` is true in a step (dropout on), false in `evaluate`. It must
 * return a scalar and read nothing back to the host.
 *
 * @example
 * const loss: TrainerLoss = (model, { inputs, targets }, training) =>
 *   classificationLoss(targets, model.apply(inputs, { training }) as tf.Tensor);
 */
export type TrainerLoss = (model: tf.LayersModel, batch: TrainBatch, training: boolean) => tf.Scalar;

/** What a checkpoint holds; `CheckpointIO` stores it. */
export interface TrainerCheckpoint {
  /** The model: topology, weight specs and weight bytes (tfjs's layers-model artifacts). */
  readonly model: tf.io.ModelArtifacts;
  /** AdamW's step count and moments (`<variable>/m`, `<variable>/v`), encoded by `tf.io.encodeWeights`. */
  readonly optimizer: { readonly weightSpecs: tf.io.WeightsManifestEntry[]; readonly weightData: ArrayBuffer };
  readonly state: TrainerState;
}

/** The JSON part of a checkpoint. */
export interface TrainerState {
  /** 2 (version 1: the CLI's checkpoints before the Trainer, with tfjs's Adam). */
  readonly version: 2;
  /** Optimizer steps done. */
  readonly step: number;
  /** The resolved options, the schedule included. */
  readonly trainer: ResolvedTrainerOptions;
  /** The caller's data position (e.g. a DataLoader's `state()`), stored as given. */
  readonly dataState?: unknown;
  /** Anything else the caller keeps beside it (JSON). */
  readonly extra?: Record<string, unknown>;
}

/** Where checkpoints go: a directory (`checkpointDirectory` in `@tfgpt/layers/node`), IndexedDB, a download... */
export interface CheckpointIO {
  save(checkpoint: TrainerCheckpoint): Promise<void>;
  load(): Promise<TrainerCheckpoint>;
}

/** Callbacks of `Trainer.fit`. */
export interface TrainerCallbacks {
  /** After each step, with the step number (1-based count of steps done) and the loss tensor (read it only if you need it: a host sync). */
  onStep?: (step: number, loss: tf.Scalar) => void | Promise<void>;
}

/**
 * The learning rate of step `step` (0-based): nanoGPT's `get_lr`. Linear warmup
 * `lr * (step + 1) / (warmupSteps + 1)`, then with `"cosine"` a half cosine from `lr` down to
 * `minLearningRate` at `totalSteps`, and `minLearningRate` after it.
 */
export function learningRateAt(step: number, options: ResolvedTrainerOptions): number {
  const lr = options.learningRate;
  if (step < options.warmupSteps) return (lr * (step + 1)) / (options.warmupSteps + 1);
  if (options.schedule === "constant") return lr;
  const min = options.minLearningRate ?? lr / 10;
  const total = options.totalSteps as number;
  if (step >= total) return min;
  const ratio = (step - options.warmupSteps) / Math.max(1, total - options.warmupSteps);
  return min + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (lr - min);
}

function parseTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  const o = parseOptions(TrainerOptionsSchema, options, "Trainer");
  if (o.schedule === "cosine" && o.totalSteps === undefined) {
    throw new LayerConfigError('`totalSteps` is required with `schedule: "cosine"` (where the decay ends), received undefined', "totalSteps");
  }
  if (o.minLearningRate !== undefined && o.minLearningRate > o.learningRate) {
    throw new LayerConfigError(`\`minLearningRate\` must be at most \`learningRate\` ${o.learningRate}, received ${o.minLearningRate}`, "minLearningRate");
  }
  return o;
}

/**
 * Trains a `GPTModel` (see the module comment).
 *
 * @example
 * const trainer = new Trainer(createGPT({ ...GPT_PRESETS.tiny, vocabSize: 256, seed: 0 }), { schedule: "cosine", totalSteps: 100, warmupSteps: 10 });
 * for (let i = 0; i < 100; i++) tf.dispose(trainer.step([nextBatch()]));
 */
export class Trainer {
  readonly model: tf.LayersModel;
  readonly options: ResolvedTrainerOptions;
  readonly optimizer: AdamW;
  /** The loss of a batch (see {@link TrainerLoss}); the GPTModel's own unless one was given. */
  readonly loss: TrainerLoss;
  /** Steps done. */
  step = 0;

  /**
   * @param model a `GPTModel`, or any `tf.LayersModel` together with `loss`.
   * @param options see {@link TrainerOptionsSchema}.
   * @param loss replaces the GPTModel's next-token loss (required for other models).
   */
  constructor(model: tf.LayersModel, options: TrainerOptions = {}, loss?: TrainerLoss) {
    this.model = model;
    this.options = parseTrainerOptions(options);
    if (loss === undefined && typeof (model as Partial<GPTModel>).trainingLoss !== "function") {
      throw new LayerConfigError(`Trainer: a ${model.getClassName()} is not a GPTModel; pass a \`loss\` function for it`, "loss");
    }
    this.loss = loss ?? ((m, batch, training) => (training ? (m as GPTModel).trainingLoss(batch.inputs, batch.targets) : (m as GPTModel).meanLoss(batch.inputs, batch.targets)));
    const o = this.options;
    this.optimizer = new AdamW({ learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay, decay: "matrices" });
  }

  /** The learning rate the next step uses. */
  get learningRate(): number {
    return learningRateAt(this.step, this.options);
  }

  /**
   * One optimizer step over `batches` (exactly `gradAccum` micro-batches; the caller keeps and
   * disposes them). Returns the mean loss of the micro-batches, before the update, as a tensor.
   */
  trainStep(batches: readonly TrainBatch[]): tf.Scalar {
    const { gradAccum, gradClip } = this.options;
    if (batches.length !== gradAccum) {
      throw new LayerConfigError(`trainStep: \`batches\` must hold gradAccum = ${gradAccum} micro-batches, received ${batches.length}`, "batches");
    }
    this.optimizer.learningRate = this.learningRate;
    const variables = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    let grads: tf.NamedTensorMap = {};
    let loss: tf.Scalar = tf.scalar(0);
    for (const [k, batch] of batches.entries()) {
      const f = (): tf.Scalar => tf.div(this.loss(this.model, batch, true), gradAccum) as tf.Scalar;
      const { dropoutSeed } = this.options;
      const micro = dropoutSeed === undefined ? tf.variableGrads(f, variables) : withDropoutSeed(mixSeeds(dropoutSeed, this.step, k), this.model, () => tf.variableGrads(f, variables));
      const summed = tf.tidy(() => {
        const next: tf.NamedTensorMap = {};
        for (const [name, g] of Object.entries(micro.grads)) next[name] = grads[name] === undefined ? tf.clone(g) : tf.add(grads[name] as tf.Tensor, g);
        return next;
      });
      const total = tf.add(loss, micro.value) as tf.Scalar;
      tf.dispose([grads, micro.grads, micro.value, loss]);
      grads = summed;
      loss = total;
    }
    if (gradClip > 0) {
      const clipped = this.clipGradients(grads);
      tf.dispose(grads);
      grads = clipped;
    }
    this.optimizer.applyGradients(grads);
    tf.dispose(grads);
    this.step++;
    return loss;
  }

  /**
   * `grads` scaled by `min(1, gradClip / (||grads|| + 1e-6))`, the norm taken over all of them
   * together (PyTorch's `clip_grad_norm_`); new tensors, computed on the device.
   */
  clipGradients(grads: tf.NamedTensorMap): tf.NamedTensorMap {
    const gradClip = this.options.gradClip;
    return tf.tidy(() => {
      // Pairwise adds, not tf.addN: tfjs-webgpu 4.22's AddN binds every input to one shader, and
      // past the device's storage-buffer limit (a GPT has dozens of weights) the result is garbage
      // (the page on webgpu learned ~10x slower). Same order as addN: the same float32 sum on cpu.
      const squares = Object.values(grads).map((g) => tf.sum(tf.square(g)));
      const norm = tf.sqrt(squares.reduce((sum, s) => tf.add(sum, s)));
      const scale = tf.minimum(1, tf.div(gradClip, tf.add(norm, 1e-6)));
      const out: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(grads)) out[name] = tf.mul(g, scale);
      return out;
    });
  }

  /**
   * Mean loss over up to `iters` batches (no dropout, no gradients): nanoGPT's `estimate_loss`.
   * One host read at the end.
   */
  async evaluate(batches: Iterable<TrainBatch>, iters: number): Promise<number> {
    let sum: tf.Scalar = tf.scalar(0);
    let n = 0;
    for (const batch of batches) {
      if (n >= iters) break;
      const next = tf.tidy(() => tf.add(sum, this.loss(this.model, batch, false)) as tf.Scalar);
      sum.dispose();
      sum = next;
      n++;
    }
    const value = n === 0 ? Number.NaN : ((await sum.data())[0] as number) / n;
    sum.dispose();
    return value;
  }

  /** Runs `steps` steps, pulling `gradAccum` batches a step from `next` (which owns them: they are disposed after the step). */
  async fit(steps: number, next: () => TrainBatch | Promise<TrainBatch>, callbacks: TrainerCallbacks = {}): Promise<void> {
    for (let i = 0; i < steps; i++) {
      const batches: TrainBatch[] = [];
      for (let k = 0; k < this.options.gradAccum; k++) batches.push(await next());
      const loss = this.trainStep(batches);
      for (const b of batches) tf.dispose([b.inputs, b.targets]);
      await callbacks.onStep?.(this.step, loss);
      loss.dispose();
    }
  }

  /** The checkpoint of now: weights, optimizer, step, options, and the caller's data state and extras. */
  async checkpoint(dataState?: unknown, extra?: Record<string, unknown>): Promise<TrainerCheckpoint> {
    let model: tf.io.ModelArtifacts | undefined;
    await this.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        model = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const encoded = await tf.io.encodeWeights(await this.optimizer.getWeights());
    const state: TrainerState = {
      version: 2,
      step: this.step,
      trainer: this.options,
      ...(dataState !== undefined ? { dataState } : {}),
      ...(extra !== undefined ? { extra } : {}),
    };
    return { model: model as tf.io.ModelArtifacts, optimizer: { weightSpecs: encoded.specs, weightData: encoded.data }, state };
  }

  /** Writes {@link checkpoint} through `io`. */
  async save(io: CheckpointIO, dataState?: unknown, extra?: Record<string, unknown>): Promise<void> {
    await io.save(await this.checkpoint(dataState, extra));
  }

  /**
   * Sets the optimizer state and the step from a checkpoint's (the weights are the model's
   * business). Accepts tfjs Adam's weights too (same `<variable>/m|v` names; its extra
   * `accBeta` entries are not needed: AdamW computes `beta^t` from the step count).
   *
   * The moments are saved under the variable names of the process that saved them; a model
   * loaded again has fresh names (`wte/embeddings_1`), an old name may even belong to another
   * live model, and a functional model loaded again may list its weights in another order. They
   * are matched by weight path (the name without tfjs's `_N` suffix) when the paths pair up one
   * to one, else by position in the trainable weights; shapes are checked either way.
   */
  async restoreOptimizer(step: number, weights: ReadonlyArray<{ name: string; tensor: tf.Tensor }>): Promise<void> {
    const kept = weights.filter((w) => !w.name.startsWith("__"));
    const own = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const savedNames = kept.filter((w) => w.name.endsWith("/m")).map((w) => w.name.slice(0, -2));
    const rename = new Map<string, string>();
    const pathOf = (name: string): string => name.replace(/_\d+$/, "");
    const ownByPath = new Map(own.map((v) => [pathOf(v.name), v]));
    const byPath =
      savedNames.length === own.length &&
      ownByPath.size === own.length &&
      new Set(savedNames.map(pathOf)).size === savedNames.length &&
      savedNames.every((name) => ownByPath.has(pathOf(name)));
    if (byPath || savedNames.length === own.length) {
      const targetOf = (saved: string): tf.Variable | undefined => (byPath ? ownByPath.get(pathOf(saved)) : own[savedNames.indexOf(saved)]);
      for (const name of savedNames) rename.set(name, (targetOf(name) as tf.Variable).name);
      for (const w of kept) {
        const match = /^(.*)\/([mv])$/.exec(w.name);
        const target = match ? targetOf(match[1] as string) : undefined;
        if (target !== undefined && !tf.util.arraysEqual(target.shape, w.tensor.shape)) {
          throw new LayerConfigError(`restoreOptimizer: saved moments "${w.name}" have shape [${w.tensor.shape.join(", ")}], the model's variable "${(target as tf.Variable).name}" [${target.shape.join(", ")}]`, "weights");
        }
      }
    }
    const renamed = kept.map((w) => {
      const match = /^(.*)\/([mv])$/.exec(w.name);
      const to = match ? rename.get(match[1] as string) : undefined;
      return to === undefined ? w : { name: `${to}/${match?.[2]}`, tensor: w.tensor };
    });
    await this.optimizer.setWeights(renamed);
    this.step = step;
  }

  /**
   * A trainer continuing `checkpoint`: the model rebuilt from it (its classes registered:
   * importing `@tfgpt/layers` does that), the optimizer and the step restored.
   *
   * @param options overrides of the saved options (e.g. a longer `totalSteps`).
   * @param loss the loss function, for a model that is not a GPTModel (as the constructor's).
   */
  static async fromCheckpoint(
    checkpoint: TrainerCheckpoint,
    options: TrainerOptions = {},
    loss?: TrainerLoss,
  ): Promise<{ trainer: Trainer; dataState: unknown; extra: Record<string, unknown> | undefined }> {
    if (checkpoint.state.version !== 2) {
      throw new LayerConfigError(`checkpoint version must be 2, received ${JSON.stringify(checkpoint.state.version)}`, "version");
    }
    const model = await tf.loadLayersModel(tf.io.fromMemory(checkpoint.model));
    const trainer = new Trainer(model, { ...checkpoint.state.trainer, ...options }, loss);
    const named = tf.io.decodeWeights(checkpoint.optimizer.weightData, checkpoint.optimizer.weightSpecs);
    await trainer.restoreOptimizer(checkpoint.state.step, Object.entries(named).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(named));
    return { trainer, dataState: checkpoint.state.dataState, extra: checkpoint.state.extra };
  }

  /** Disposes the optimizer's moments (the model is the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
