import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { AttentionOptions, causalSelfAttention, checkHeads } from "./attention.js";
import { LayerConfigError, parseOptions as parse } from "./errors.js";
import { gelu, layerNorm, maybeDropout } from "./functional.js";
import { resolveInitializer, serializeInitializer, type Initializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";
import {
  adapterWeightNames,
  BlockLoRASchema,
  loraAInitializer,
  loraKernelShape,
  mergedKernel,
  project,
  type BlockLoRA,
  type LoRAKernel,
  type LoRAWeights,
} from "./lora-linear.js";

/** zod schema of the `TransformerBlock`-specific arguments (base layer args pass through). */
export const TransformerBlockOptions = AttentionOptions.extend({
  /** Epsilon of both layer norms. Default `1e-5` (GPT-2). */
  layerNormEpsilon: z.number().positive().optional().describe("a positive number"),
  /**
   * LoRA adapters on some of the block's kernels (`{rank, alpha, dropout, kernels}`; see
   * `lora-linear.ts`), the base weights frozen. Usually set by `applyLoRA`, and restored from a
   * saved config. Default none.
   */
  lora: BlockLoRASchema.nullable().optional().describe("null or {rank, alpha, dropout, kernels}"),
});

/** Arguments of `TransformerBlock`: those of `CausalSelfAttention` plus the layer norm epsilon. */
export type TransformerBlockArgs = LayerArgs & z.input<typeof TransformerBlockOptions>;

type Vars = Record<
  "ln1Gamma" | "ln1Beta" | "qkvKernel" | "attnProjKernel" | "attnProjBias" | "ln2Gamma" | "ln2Beta" | "fcKernel" | "fcBias" | "mlpProjKernel" | "mlpProjBias",
  tf.LayerVariable
> & { qkvBias: tf.LayerVariable | null };

/** A kernel's adapter variables: `A [in, r]` and `B [r, out]`. */
type AdapterVars = { a: tf.LayerVariable; b: tf.LayerVariable };

/** Internals of `tf.layers.Layer` that removing weights touches (fields tfjs declares protected). */
interface LayerInternals {
  _trainableWeights: tf.LayerVariable[];
  _addedWeightNames: string[];
}

/**
 * One GPT-2 block, pre-LayerNorm (nanoGPT's `Block`): `[batch, T, C] -> [batch, T, C]`,
 *
 *     x = x + attn(ln_1(x))
 *     x = x + mlp(ln_2(x))        mlp = c_proj(gelu(c_fc(.)))  with a 4C hidden width
 *
 * The residual stream stays a 2-D `[B*T, C]` view inside the block, so every matmul is a plain
 * 2-D matmul with an explicit-transpose gradient. The layer owns all its weights (named as in
 * nanoGPT: `ln_1`, `c_attn`, `c_proj`, `ln_2`, `mlp/c_fc`, `mlp/c_proj`).
 *
 * @example
 * const block = new TransformerBlock({ embeddingDim: 64, numHeads: 2, dropout: 0.1 });
 * const y = block.apply(tf.randomNormal([2, 16, 64])) as tf.Tensor; // [2, 16, 64]
 */
export class TransformerBlock extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "TransformerBlock";
  readonly embeddingDim: number;
  readonly numHeads: number;
  readonly dropout: number;
  readonly qkvBias: boolean;
  readonly layerNormEpsilon: number;
  private readonly kernelInitializer: Initializer;
  private readonly projectionInitializer: Initializer;
  private vars: Vars | null = null;
  private loraSpec: BlockLoRA | null;
  private adapters: Partial<Record<LoRAKernel, AdapterVars>> = {};

  constructor(args: TransformerBlockArgs) {
    const options = parse(TransformerBlockOptions, args, "TransformerBlock");
    checkHeads(options.embeddingDim, options.numHeads);
    super(args);
    this.embeddingDim = options.embeddingDim;
    this.numHeads = options.numHeads;
    this.dropout = options.dropout ?? 0;
    this.qkvBias = options.qkvBias ?? false;
    this.layerNormEpsilon = options.layerNormEpsilon ?? 1e-5;
    this.loraSpec = options.lora ?? null;
    if (this.loraSpec !== null) this.checkRank(this.loraSpec);
    const normal = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });
    this.kernelInitializer = options.kernelInitializer === undefined ? normal() : resolveInitializer(options.kernelInitializer, "kernelInitializer");
    this.projectionInitializer =
      options.projectionInitializer === undefined ? normal() : resolveInitializer(options.projectionInitializer, "projectionInitializer");
  }

  override build(): void {
    if (this.built) return;
    const c = this.embeddingDim;
    const add = (name: string, shape: number[], init: Initializer) => this.addWeight(name, shape, "float32", init);
    const ones = tf.initializers.ones();
    const zeros = tf.initializers.zeros();
    this.vars = {
      ln1Gamma: add("ln_1/gamma", [c], ones),
      ln1Beta: add("ln_1/beta", [c], zeros),
      qkvKernel: add("attn/c_attn/kernel", [c, 3 * c], this.kernelInitializer),
      qkvBias: this.qkvBias ? add("attn/c_attn/bias", [3 * c], zeros) : null,
      attnProjKernel: add("attn/c_proj/kernel", [c, c], this.projectionInitializer),
      attnProjBias: add("attn/c_proj/bias", [c], zeros),
      ln2Gamma: add("ln_2/gamma", [c], ones),
      ln2Beta: add("ln_2/beta", [c], zeros),
      fcKernel: add("mlp/c_fc/kernel", [c, 4 * c], this.kernelInitializer),
      fcBias: add("mlp/c_fc/bias", [4 * c], zeros),
      mlpProjKernel: add("mlp/c_proj/kernel", [4 * c, c], this.projectionInitializer),
      mlpProjBias: add("mlp/c_proj/bias", [c], zeros),
    };
    this.built = true;
    if (this.loraSpec !== null) this.addAdapters(this.loraSpec, "");
  }

  /** The block's LoRA settings, or null without adapters. */
  get lora(): BlockLoRA | null {
    return this.loraSpec;
  }

  /**
   * Adds LoRA adapters to the kernels `spec.kernels` (A initialised as the book does, B zero: the
   * block's output is unchanged) and freezes the block's base weights. `applyLoRA` calls it on
   * each targeted block; the model must be compiled afterwards.
   *
   * @throws LayerConfigError when the block has adapters already or the rank exceeds a kernel's smaller side.
   */
  enableLoRA(spec: BlockLoRA, seed?: number): void {
    const parsed = parse(BlockLoRASchema, spec, "LoRA");
    if (this.loraSpec !== null) throw new LayerConfigError(`block ${this.name} has LoRA adapters already (merge or remove them first)`, "lora");
    this.checkRank(parsed);
    this.build();
    this.loraSpec = parsed;
    this.addAdapters(parsed, `${this.name}/`, seed);
  }

  /**
   * Folds each adapter into its kernel (`W <- W + (alpha/r) A @ B`), removes the adapters and
   * unfreezes the block's weights: the block computes the same function as a plain block.
   */
  mergeLoRA(): void {
    if (this.loraSpec === null || this.vars === null) return;
    const spec = this.loraSpec;
    for (const kernel of spec.kernels) {
      const vars = this.adapters[kernel];
      if (vars === undefined) continue;
      const base = this.kernelVar(kernel);
      const merged = mergedKernel(base.read() as tf.Tensor2D, { a: vars.a.read() as tf.Tensor2D, b: vars.b.read() as tf.Tensor2D, scale: spec.alpha / spec.rank });
      base.write(merged);
      merged.dispose();
    }
    this.removeAdapters();
  }

  /** The adapter variables of each adapted kernel (empty without LoRA). */
  adapterVariables(): ReadonlyMap<LoRAKernel, AdapterVars> {
    return new Map(Object.entries(this.adapters) as [LoRAKernel, AdapterVars][]);
  }

  private checkRank(spec: BlockLoRA): void {
    for (const kernel of spec.kernels) {
      const [rows, cols] = loraKernelShape(kernel, this.embeddingDim);
      if (spec.rank > Math.min(rows, cols)) {
        throw new LayerConfigError(
          `LoRA \`rank\` must be at most the smaller side of ${this.name}/${kernel} [${rows}, ${cols}] (${Math.min(rows, cols)}), received ${spec.rank}`,
          "rank",
        );
      }
    }
  }

  private kernelVar(kernel: LoRAKernel): tf.LayerVariable {
    const v = this.vars!;
    return { "attn/c_attn": v.qkvKernel, "attn/c_proj": v.attnProjKernel, "mlp/c_fc": v.fcKernel, "mlp/c_proj": v.mlpProjKernel }[kernel];
  }

  /** Adds the adapter weights (named `<prefix><kernel>/lora_a|b`) and freezes every base weight. */
  private addAdapters(spec: BlockLoRA, prefix: string, seed?: number): void {
    for (const w of this.trainableWeights) w.trainable = false;
    for (const [k, kernel] of spec.kernels.entries()) {
      const [rows, cols] = loraKernelShape(kernel, this.embeddingDim);
      const names = adapterWeightNames(kernel);
      this.adapters[kernel] = {
        a: this.addWeight(`${prefix}${names.a}`, [rows, spec.rank], "float32", loraAInitializer(spec.rank, seed === undefined ? undefined : (seed + 104729 * k) >>> 0)),
        b: this.addWeight(`${prefix}${names.b}`, [spec.rank, cols], "float32", tf.initializers.zeros()),
      };
    }
  }

  private removeAdapters(): void {
    const internals = this as unknown as LayerInternals;
    const gone = new Set<tf.LayerVariable>();
    for (const vars of Object.values(this.adapters)) gone.add(vars.a).add(vars.b);
    internals._trainableWeights = internals._trainableWeights.filter((w) => !gone.has(w));
    internals._addedWeightNames = internals._addedWeightNames.filter((n) => !/\/lora_[ab]$/.test(n));
    for (const w of gone) w.dispose();
    this.adapters = {};
    this.loraSpec = null;
    for (const w of internals._trainableWeights) w.trainable = true;
  }

  private loraWeights(kernel: LoRAKernel): LoRAWeights | null {
    const vars = this.adapters[kernel];
    const spec = this.loraSpec;
    if (vars === undefined || spec === null) return null;
    return { a: vars.a.read() as tf.Tensor2D, b: vars.b.read() as tf.Tensor2D, scale: spec.alpha / spec.rank, dropout: spec.dropout };
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    this.build();
    const v = this.vars!;
    const training = kwargs["training"] === true;
    const [batch, length, width] = x.shape as [number, number, number];
    const r1 = (w: tf.LayerVariable) => w.read() as tf.Tensor1D;
    const r2 = (w: tf.LayerVariable) => w.read() as tf.Tensor2D;
    // Frozen (LoRA): no [in, out] kernel gradients are computed.
    const frozen = [v.qkvKernel, v.qkvBias, v.attnProjKernel, v.attnProjBias, v.fcKernel, v.fcBias, v.mlpProjKernel, v.mlpProjBias].every((w) => w === null || !w.trainable);
    return tf.tidy(() => {
      let h = tf.reshape(x, [batch * length, width]) as tf.Tensor2D; // [B*T, C]
      const attnIn = layerNorm(h, r1(v.ln1Gamma), r1(v.ln1Beta), this.layerNormEpsilon);
      const attnWeights = {
        qkvKernel: r2(v.qkvKernel),
        qkvBias: v.qkvBias === null ? null : r1(v.qkvBias),
        projKernel: r2(v.attnProjKernel),
        projBias: r1(v.attnProjBias),
        qkvLoRA: this.loraWeights("attn/c_attn"),
        projLoRA: this.loraWeights("attn/c_proj"),
        frozen,
      };
      h = tf.add(h, causalSelfAttention(attnIn, batch, length, this.numHeads, attnWeights, this.dropout, training));
      const mlpIn = layerNorm(h, r1(v.ln2Gamma), r1(v.ln2Beta), this.layerNormEpsilon);
      const fc = { kernel: r2(v.fcKernel), bias: r1(v.fcBias), frozen, lora: this.loraWeights("mlp/c_fc") };
      const hidden = gelu(project(mlpIn, fc, training)) as tf.Tensor2D; // [B*T, 4C]
      const proj = { kernel: r2(v.mlpProjKernel), bias: r1(v.mlpProjBias), frozen, lora: this.loraWeights("mlp/c_proj") };
      h = tf.add(h, maybeDropout(project(hidden, proj, training), this.dropout, training));
      return tf.reshape(h, [batch, length, width]); // [B, T, C]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      embeddingDim: this.embeddingDim,
      numHeads: this.numHeads,
      dropout: this.dropout,
      qkvBias: this.qkvBias,
      layerNormEpsilon: this.layerNormEpsilon,
      ...(this.loraSpec !== null ? { lora: { ...this.loraSpec, kernels: [...this.loraSpec.kernels] } } : {}),
      kernelInitializer: serializeInitializer(this.kernelInitializer) as unknown as tf.serialization.ConfigDictValue,
      projectionInitializer: serializeInitializer(this.projectionInitializer) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
