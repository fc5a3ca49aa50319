import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { AttentionOptionsSchema, CausalSelfAttention, checkHeads } from "./attention.js";
import { LayerConfigError, parseOptions as parse } from "./errors.js";
import { gelu, maybeDropout } from "./functional.js";
import type { Initializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";
import { LayerNorm } from "./layer-norm.js";
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
import { buildNested, untrackWeights } from "./tfjs-training-internals.js";

/** zod schema of the `TransformerBlock`-specific arguments (base layer args pass through). */
export const TransformerBlockOptionsSchema = AttentionOptionsSchema.extend({
  /** Epsilon of both layer norms. Default `1e-5` (GPT-2). */
  layerNormEpsilon: z.number().positive().default(1e-5).describe("a positive number"),
  /**
   * LoRA adapters on some of the block's kernels (`{rank, alpha, dropout, kernels}`; see
   * `lora-linear.ts`), the base weights frozen. Usually set by `applyLoRA`, and restored from a
   * saved config. Default none.
   */
  lora: BlockLoRASchema.nullable().default(null).describe("null or {rank, alpha, dropout, kernels}"),
});
/** The `TransformerBlock` arguments as given: those of `CausalSelfAttention` plus the layer norm epsilon and LoRA. */
export type TransformerBlockOptions = z.input<typeof TransformerBlockOptionsSchema>;

/** Arguments of `TransformerBlock`. */
export type TransformerBlockArgs = LayerArgs & TransformerBlockOptions;

/** The MLP's variables, which the block owns. */
type MLPVars = Record<"fcKernel" | "fcBias" | "projKernel" | "projBias", tf.LayerVariable>;

/** A kernel's adapter variables: `A [in, r]` and `B [r, out]`. */
type AdapterVars = { a: tf.LayerVariable; b: tf.LayerVariable };

/**
 * One GPT-2 block, pre-LayerNorm (nanoGPT's `Block`): `[batch, T, C] -> [batch, T, C]`,
 *
 *     x = x + attn(ln_1(x))
 *     x = x + mlp(ln_2(x))        mlp = c_proj(gelu(c_fc(.)))  with a 4C hidden width
 *
 * It is composed as keras-hub's `TransformerDecoder` is: two `LayerNorm`s (`ln_1`, `ln_2`) and a
 * `CausalSelfAttention` (`attn`) built as parts of it (`buildNested`), and the MLP's weights
 * (`mlp/c_fc`, `mlp/c_proj`), named as in nanoGPT: `h0/ln_1/gamma`, `h0/attn/c_attn/kernel`,
 * `h0/mlp/c_fc/kernel`, ... The residual stream stays a 2-D `[B*T, C]` view inside the block, so
 * every matmul is a plain 2-D matmul with an explicit-transpose gradient. LoRA adapters
 * (`enableLoRA`) are the block's own weights, passed to the attention when it runs.
 *
 * @example
 * const block = new TransformerBlock({ embeddingDim: 64, numHeads: 2, dropout: 0.1 });
 * const y = block.apply(tf.randomNormal([2, 16, 64])) as tf.Tensor; // [2, 16, 64]
 */
export class TransformerBlock extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "TransformerBlock";
  readonly layerNormEpsilon: number;
  private readonly ln1: LayerNorm;
  private readonly attn: CausalSelfAttention;
  private readonly ln2: LayerNorm;
  private mlp: MLPVars | null = null;
  private loraSpec: BlockLoRA | null;
  private adapters: Partial<Record<LoRAKernel, AdapterVars>> = {};

  constructor(args: TransformerBlockArgs) {
    const { layerNormEpsilon, lora, ...attention } = parse(TransformerBlockOptionsSchema, args, "TransformerBlock");
    checkHeads(attention.embeddingDim, attention.numHeads);
    super(args);
    this.layerNormEpsilon = layerNormEpsilon;
    this.ln1 = new LayerNorm({ epsilon: layerNormEpsilon, name: "ln_1" });
    this.attn = new CausalSelfAttention({ ...attention, name: "attn" });
    this.ln2 = new LayerNorm({ epsilon: layerNormEpsilon, name: "ln_2" });
    this.loraSpec = lora;
    if (lora !== null) this.checkRank(lora);
  }

  /** Width C of the residual stream. */
  get embeddingDim(): number {
    return this.attn.embeddingDim;
  }

  /** Attention heads. */
  get numHeads(): number {
    return this.attn.numHeads;
  }

  /** Dropout rate (attention weights, both residual branches), in training only. */
  get dropout(): number {
    return this.attn.dropout;
  }

  /** Whether the qkv projection has a bias. */
  get qkvBias(): boolean {
    return this.attn.qkvBias;
  }

  override build(): void {
    if (this.built) return;
    const c = this.embeddingDim;
    const add = (name: string, shape: number[], init: Initializer) => this.addWeight(name, shape, "float32", init);
    const { kernelInitializer, projectionInitializer } = this.attn;
    const zeros = tf.initializers.zeros();
    // In this order: the weights' order (and the seeded initial values) are those of checkpoints.
    buildNested(this, this.ln1, [c]);
    buildNested(this, this.attn, [c]);
    buildNested(this, this.ln2, [c]);
    this.mlp = {
      fcKernel: add("mlp/c_fc/kernel", [c, 4 * c], kernelInitializer),
      fcBias: add("mlp/c_fc/bias", [4 * c], zeros),
      projKernel: add("mlp/c_proj/kernel", [4 * c, c], projectionInitializer),
      projBias: add("mlp/c_proj/bias", [c], zeros),
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
    if (this.loraSpec === null || this.mlp === null) return;
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
    const attn = this.attn.variables;
    const mlp = this.mlp!;
    return { "attn/c_attn": attn.qkvKernel, "attn/c_proj": attn.projKernel, "mlp/c_fc": mlp.fcKernel, "mlp/c_proj": mlp.projKernel }[kernel];
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
    const gone = new Set<tf.LayerVariable>();
    for (const vars of Object.values(this.adapters)) gone.add(vars.a).add(vars.b);
    const kept = untrackWeights(this, gone, /\/lora_[ab]$/);
    for (const w of gone) w.dispose();
    this.adapters = {};
    this.loraSpec = null;
    for (const w of kept) w.trainable = true;
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
    const mlp = this.mlp!;
    const training = kwargs["training"] === true;
    const [batch, length, width] = x.shape as [number, number, number];
    const r1 = (w: tf.LayerVariable) => w.read() as tf.Tensor1D;
    const r2 = (w: tf.LayerVariable) => w.read() as tf.Tensor2D;
    // Frozen (LoRA): no [in, out] kernel gradients are computed.
    const frozen = Object.values(mlp).every((w) => !w.trainable);
    return tf.tidy(() => {
      let h = tf.reshape(x, [batch * length, width]) as tf.Tensor2D; // [B*T, C]
      const attnIn = this.ln1.normalize(h);
      const lora = { qkv: this.loraWeights("attn/c_attn"), proj: this.loraWeights("attn/c_proj") };
      h = tf.add(h, this.attn.attend(attnIn, batch, length, training, lora));
      const mlpIn = this.ln2.normalize(h);
      const fc = { kernel: r2(mlp.fcKernel), bias: r1(mlp.fcBias), frozen, lora: this.loraWeights("mlp/c_fc") };
      const hidden = gelu(project(mlpIn, fc, training)) as tf.Tensor2D; // [B*T, 4C]
      const proj = { kernel: r2(mlp.projKernel), bias: r1(mlp.projBias), frozen, lora: this.loraWeights("mlp/c_proj") };
      h = tf.add(h, maybeDropout(project(hidden, proj, training), this.dropout, training));
      return tf.reshape(h, [batch, length, width]); // [B, T, C]
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      ...this.attn.optionsConfig(),
      layerNormEpsilon: this.layerNormEpsilon,
      ...(this.loraSpec !== null ? { lora: { ...this.loraSpec, kernels: [...this.loraSpec.kernels] } } : {}),
    };
  }
}
