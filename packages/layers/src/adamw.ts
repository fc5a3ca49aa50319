import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { FusedAdamSlots, fusedAdamByDefault, fusedAdamScalars } from "./tensorflow-adam.js";
import { tensorflowBackend } from "./tensorflow-ops.js";

/** zod schema of `adamW`'s options (PyTorch's `torch.optim.AdamW` defaults). */
export const AdamWOptionsSchema = z.strictObject({
  /** Step size. Default `1e-3`. */
  learningRate: z.number().positive().default(1e-3).describe("a positive number"),
  /** Decay rate of the first-moment average. Default `0.9`. */
  beta1: z.number().min(0).lt(1).default(0.9).describe("a number in [0, 1)"),
  /** Decay rate of the second-moment average. Default `0.999`. */
  beta2: z.number().min(0).lt(1).default(0.999).describe("a number in [0, 1)"),
  /** Added to the denominator for stability. Default `1e-8`. */
  epsilon: z.number().positive().default(1e-8).describe("a positive number"),
  /** Decoupled weight decay: each step multiplies every weight by `1 - learningRate * weightDecay`. Default `0.01`. */
  weightDecay: z.number().min(0).default(0.01).describe("a non-negative number"),
  /** Which variables decay: `"all"` (as `AdamW(model.parameters())`) or `"matrices"` (rank 2 and up, nanoGPT's groups: no decay on biases, layer norms). Default `"all"`. */
  decay: z.enum(["all", "matrices"]).default("all").describe('"all" or "matrices"'),
  /**
   * Whether a step runs TensorFlow's fused Adam kernel (`ResourceApplyAdam`, one pass over each
   * variable) instead of 12 tfjs elementwise kernels per variable, as PyTorch's `fused` option.
   * Only the `tensorflow` backend (tfjs-node) has it. Default: on tfjs-node on the CPU (untested on
   * CUDA: `true` opts in there); the result is the same within float32 rounding.
   */
  fused: z.boolean().optional().describe("a boolean"),
});

/** Options of `adamW` / `new AdamW(...)`; every field has PyTorch's default. */
export type AdamWOptions = z.input<typeof AdamWOptionsSchema>;

/** A tensor with its name, as `tf.Optimizer` passes gradients and saves weights. */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter), step for step what PyTorch's
 * `torch.optim.AdamW` computes, as a `tf.Optimizer` for `model.compile`:
 *
 *     w *= 1 - lr * weightDecay
 *     m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *     w -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
 *
 * The decay applies to every variable it updates (as `AdamW(model.parameters())` does), or with `decay: "matrices"` to rank-2+ ones only. Moments
 * are kept by variable name, so the order of the gradients does not matter, and
 * `getWeights`/`setWeights` save and restore them with the step count (checkpoints); restored
 * moments whose names match no variable (a model loaded again under fresh variable names) go, in
 * their saved order, to the first variables that need moments, checked by shape. The update
 * is 12 elementwise kernels per variable (tfjs's Adam: 14, without the decay); on the
 * `tensorflow` backend, one fused TensorFlow kernel (`fused`).
 *
 * @example
 * model.compile({ optimizer: adamW({ learningRate: 3e-4, weightDecay: 0.1 }), loss: sparseCrossEntropyFromLogits });
 */
export class AdamW extends tf.Optimizer {
  /** @nocollapse */
  static get className(): string {
    return "AdamW";
  }
  /** Step size; a schedule (the `Trainer`) sets it before each step. */
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly decay: "all" | "matrices";
  /** `fused` as given: `undefined` means "on tfjs-node on the CPU". */
  readonly fused: boolean | undefined;
  private moments = new Map<string, Moments>();
  /** Moments that live in TensorFlow resource variables (the fused path), by variable name. */
  private slots = new Map<string, FusedAdamSlots>();
  private lastStepFused = false;
  /** Tensors `getWeights` read out of `slots`, disposed at the next step or `getWeights`. */
  private exported: tf.Tensor[] = [];
  /**
   * Restored moments whose variable names match no variable of this process (a model loaded
   * again gets fresh names such as `wte/embeddings_1`): given out in their saved order to the
   * first variables without moments, as tfjs's own Adam matches them by position.
   */
  private unclaimed: Array<Moments & { name: string }> = [];

  /** @param options see {@link AdamWOptionsSchema}; all optional. */
  constructor(options: AdamWOptions = {}) {
    super();
    const o = parseOptions(AdamWOptionsSchema, options, "adamW");
    this.learningRate = o.learningRate;
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.epsilon = o.epsilon;
    this.weightDecay = o.weightDecay;
    this.decay = o.decay;
    this.fused = o.fused;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const pairs: Array<[string, tf.Tensor | undefined]> = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const t = this.iterations + 1;
    const correction1 = 1 - this.beta1 ** t;
    const correction2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    // w - lr/c1 * m / (sqrt(v)/sqrt(c2) + eps) == w - (lr sqrt(c2)/c1) * m / (sqrt(v) + eps sqrt(c2))
    const stepSize = (this.learningRate * correction2Sqrt) / correction1;
    const epsilon = this.epsilon * correction2Sqrt;
    const keep = 1 - this.learningRate * this.weightDecay;
    this.disposeExported();
    this.lastStepFused = this.useFused();
    if (this.lastStepFused) {
      const scalars = fusedAdamScalars({ beta1Power: this.beta1 ** t, beta2Power: this.beta2 ** t, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon });
      try {
        for (const [name, gradient] of pairs) {
          if (gradient == null) continue;
          const variable = this.variableNamed(name);
          const decays = keep !== 1 && (this.decay === "all" || variable.rank >= 2);
          this.slotsOf(name, variable).apply(variable, gradient, scalars, decays ? keep : null);
        }
      } finally {
        tf.dispose(scalars);
      }
      this.incrementIterations();
      return;
    }
    if (this.slots.size > 0) throw new LayerConfigError(`adamW: its moments live in TensorFlow (fused), but the backend is now ${tf.getBackend()}`, "fused");
    tf.tidy(() => {
      for (const [name, gradient] of pairs) {
        if (gradient == null) continue;
        const variable = this.variableNamed(name);
        const { m, v } = this.momentsOf(name, variable);
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const step = tf.mul(tf.div(m1, tf.add(tf.sqrt(v1), epsilon)), stepSize);
        const decays = keep !== 1 && (this.decay === "all" || variable.rank >= 2);
        const decayed = decays ? tf.mul(variable, keep) : variable;
        m.assign(m1);
        v.assign(v1);
        variable.assign(tf.sub(decayed, step));
      }
    });
    this.incrementIterations();
  }

  /** Whether the last step ran TensorFlow's fused kernel (its kernels do not show in `tf.profile`). */
  get usedFusedKernel(): boolean {
    return this.lastStepFused;
  }

  private variableNamed(name: string): tf.Variable {
    const variable = tf.engine().registeredVariables[name];
    if (variable === undefined) throw new LayerConfigError(`adamW: no variable named ${JSON.stringify(name)}`, "variableGradients");
    return variable;
  }

  /** Whether this step takes the fused path (throws if `fused: true` cannot). */
  private useFused(): boolean {
    if (this.fused === undefined) return fusedAdamByDefault();
    if (this.fused && tensorflowBackend() === null) {
      throw new LayerConfigError(`adamW: \`fused\` true needs the tensorflow backend (@tensorflow/tfjs-node), the active backend is ${tf.getBackend()}`, "fused");
    }
    return this.fused;
  }

  /** The fused slots of a variable: its moments (restored or zeros) move into TensorFlow on first use. */
  private slotsOf(name: string, variable: tf.Variable): FusedAdamSlots {
    let slots = this.slots.get(name);
    if (slots === undefined) {
      const { m, v } = this.momentsOf(name, variable);
      slots = new FusedAdamSlots(variable, m, v);
      this.slots.set(name, slots);
      this.moments.delete(name);
      tf.dispose([m, v]);
    }
    return slots;
  }

  private momentsOf(name: string, variable: tf.Variable): Moments {
    let moments = this.moments.get(name);
    if (moments === undefined && this.unclaimed.length > 0) {
      const restored = this.unclaimed.shift() as Moments & { name: string };
      if (!tf.util.arraysEqual(restored.m.shape, variable.shape)) {
        throw new LayerConfigError(
          `adamW: restored moments of "${restored.name}" have shape [${restored.m.shape.join(", ")}], ` +
            `but the next variable without moments, "${name}", has shape [${variable.shape.join(", ")}]`,
          "weightValues",
        );
      }
      moments = { m: restored.m, v: restored.v };
      this.moments.set(name, moments);
    }
    if (moments === undefined) {
      moments = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) }));
      this.moments.set(name, moments);
    }
    return moments;
  }

  override dispose(): void {
    super.dispose();
    this.disposeMoments();
  }

  private disposeMoments(): void {
    for (const { m, v } of [...this.moments.values(), ...this.unclaimed]) tf.dispose([m, v]);
    for (const slots of this.slots.values()) slots.dispose();
    this.disposeExported();
    this.moments = new Map();
    this.slots = new Map();
    this.unclaimed = [];
  }

  private disposeExported(): void {
    tf.dispose(this.exported);
    this.exported = [];
  }

  /**
   * The step count, then every variable's first moments (`<name>/m`), then its second moments
   * (`<name>/v`). On the fused path the moments are read out of TensorFlow into tensors this
   * optimizer disposes at its next step (encode or clone them before).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.disposeExported();
    const fused = [...this.slots.entries()].map(([name, s]): [string, { m: tf.Tensor; v: tf.Tensor }] => [name, { m: s.readM(), v: s.readV() }]);
    for (const [, { m, v }] of fused) this.exported.push(m, v);
    const entries: Array<[string, { m: tf.Tensor; v: tf.Tensor }]> = [...this.moments.entries(), ...fused, ...this.unclaimed.map((u): [string, Moments] => [u.name, u])];
    return [
      await this.saveIterations(),
      ...entries.map(([name, { m }]) => ({ name: `${name}/m`, tensor: m })),
      ...entries.map(([name, { v }]) => ({ name: `${name}/v`, tensor: v })),
    ];
  }

  /** Restores what `getWeights` returned (the tensors are copied; the caller keeps its own). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const next = new Map<string, Partial<Moments>>();
    for (const { name, tensor } of rest) {
      const match = /^(.*)\/([mv])$/.exec(name);
      if (match === null) throw new LayerConfigError(`adamW.setWeights: unexpected weight name ${JSON.stringify(name)}, expected "<variable>/m" or "<variable>/v"`, "weightValues");
      const [, variable = "", which] = match;
      const entry = next.get(variable) ?? {};
      entry[which as "m" | "v"] = tf.variable(tensor.clone(), false);
      next.set(variable, entry);
    }
    this.disposeMoments();
    for (const [name, { m, v }] of next) {
      if (m === undefined || v === undefined) throw new LayerConfigError(`adamW.setWeights: variable ${JSON.stringify(name)} lacks its m or v`, "weightValues");
      const variable = tf.engine().registeredVariables[name];
      if (variable !== undefined && tf.util.arraysEqual(variable.shape, m.shape)) this.moments.set(name, { m, v });
      else this.unclaimed.push({ name, m, v });
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay, decay: this.decay };
    if (this.fused !== undefined) config["fused"] = this.fused;
    return config;
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as AdamWOptions);
  }
}

/**
 * An `AdamW` optimizer (PyTorch's defaults: learningRate 1e-3, beta1 0.9, beta2 0.999,
 * epsilon 1e-8, weightDecay 0.01). Throws `LayerConfigError` naming a bad option.
 *
 * @example
 * model.compile({ optimizer: adamW({ learningRate: 3e-4, weightDecay: 0.1 }), loss: sparseCrossEntropyFromLogits });
 */
export function adamW(options: AdamWOptions = {}): AdamW {
  return new AdamW(options);
}
