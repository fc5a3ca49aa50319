import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { maybeDropout } from "./functional.js";
import { InitializerOptionSchema } from "./initializer-option.js";
import { resolveInitializer, serializeInitializer, type Initializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";
import { project, type LoRAWeights } from "./lora-linear.js";
import { matMul } from "./matmul.js";

/** The weights of one causal self-attention (nanoGPT's `c_attn` and `c_proj`). */
export interface AttentionWeights {
  /** `[C, 3C]`: query, key and value projections side by side. */
  qkvKernel: tf.Tensor2D;
  /** `[3C]`, or null without qkv bias. */
  qkvBias: tf.Tensor1D | null;
  /** `[C, C]`: output projection. */
  projKernel: tf.Tensor2D;
  /** `[C]`. */
  projBias: tf.Tensor1D;
  /** LoRA adapter of the qkv kernel (`lora-linear.ts`). Default none. */
  qkvLoRA?: LoRAWeights | null;
  /** LoRA adapter of the output projection. Default none. */
  projLoRA?: LoRAWeights | null;
  /** Kernels and biases are not trained (no `[in, out]` gradients computed). Default false. */
  frozen?: boolean;
}

const masks = new Map<string, Float32Array>();

/** Largest mask repeated for every (batch, head) pair: 2M floats (8 MB). */
const MAX_REPEATED_MASK = 1 << 21;

/**
 * Additive causal mask: 0 on and below the diagonal, -1e9 above (cached as JS data, not as a
 * tensor). `[batchHeads, T, T]`, the `[T, T]` mask repeated, when that is at most
 * `MAX_REPEATED_MASK` floats, else `[T, T]`. Why: wasm's broadcasting `Add` of a `[T, T]` mask to
 * `[B*H, T, T]` scores runs ~10x slower than a same-shape add (~3.5 ms vs 0.3 ms for the tiny
 * preset), and uploading the repeated mask costs less than the difference.
 */
function causalMask(batchHeads: number, length: number): tf.Tensor {
  const rows = batchHeads * length * length <= MAX_REPEATED_MASK ? batchHeads : 1;
  const key = `${rows}x${length}`;
  let data = masks.get(key);
  if (data === undefined) {
    data = new Float32Array(rows * length * length);
    for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) data[i * length + j] = -1e9;
    for (let r = 1; r < rows; r++) data.copyWithin(r * length * length, 0, length * length);
    masks.set(key, data);
  }
  return rows === 1 ? tf.tensor2d(data, [length, length]) : tf.tensor3d(data, [rows, length, length]);
}

/**
 * Multi-head causal self-attention on a `[B*T, C]` view of `[B, T, C]` activations: position t
 * attends to positions `<= t`. Returns `[B*T, C]`. Every matmul is a plain (un-flagged) one.
 */
export function causalSelfAttention(
  x: tf.Tensor2D,
  batch: number,
  length: number,
  numHeads: number,
  weights: AttentionWeights,
  dropout = 0,
  training = false,
): tf.Tensor2D {
  const width = x.shape[1];
  const headDim = width / numHeads;
  const frozen = weights.frozen === true;
  const qkv = project(x, { kernel: weights.qkvKernel, bias: weights.qkvBias, frozen, lora: weights.qkvLoRA ?? null }, training); // [B*T, 3C]
  const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]; // [B*T, C] each
  // [B*T, C] -> [B*H, T, hd]
  const heads = (t: tf.Tensor2D) =>
    tf.reshape(tf.transpose(tf.reshape(t, [batch, length, numHeads, headDim]), [0, 2, 1, 3]), [batch * numHeads, length, headDim]) as tf.Tensor3D;
  const query = tf.mul(heads(q), 1 / Math.sqrt(headDim)) as tf.Tensor3D;
  const keyT = tf.transpose(heads(k), [0, 2, 1]) as tf.Tensor3D; // [B*H, hd, T]
  const scores = tf.add(matMul(query, keyT), causalMask(batch * numHeads, length)); // [B*H, T, T]
  const attn = maybeDropout(tf.softmax(scores), dropout, training) as tf.Tensor3D;
  const y = matMul(attn, heads(v)); // [B*H, T, hd]
  const merged = tf.reshape(tf.transpose(tf.reshape(y, [batch, numHeads, length, headDim]), [0, 2, 1, 3]), [batch * length, width]) as tf.Tensor2D;
  const out = project(merged, { kernel: weights.projKernel, bias: weights.projBias, frozen, lora: weights.projLoRA ?? null }, training);
  return maybeDropout(out, dropout, training) as tf.Tensor2D;
}

/** zod schema of the attention arguments shared by `CausalSelfAttention` and `TransformerBlock`. */
export const AttentionOptionsSchema = z.object({
  /** Width C of the input and output. Required. */
  embeddingDim: z.number().int().positive().describe("a positive integer"),
  /** Number of heads; must divide `embeddingDim`. Required. */
  numHeads: z.number().int().positive().describe("a positive integer"),
  /** Dropout on attention weights and on the output, in training only. Default 0. */
  dropout: z.number().min(0).lt(1).default(0).describe("a number in [0, 1)"),
  /** Whether the query/key/value projection has a bias (GPT-2: yes; the book's config: no). Default `false`. */
  qkvBias: z.boolean().default(false).describe("a boolean"),
  /** Initializer of the qkv kernel. Default `randomNormal({stddev: 0.02})`. */
  kernelInitializer: InitializerOptionSchema,
  /** Initializer of the output projection (GPT-2 scales it by `1/sqrt(2 * numLayers)`). Default `randomNormal({stddev: 0.02})`. */
  projectionInitializer: InitializerOptionSchema,
});
/** The attention arguments as given (defaulted ones optional). */
export type AttentionOptions = z.input<typeof AttentionOptionsSchema>;

/** Throws unless `numHeads` divides `embeddingDim`. */
export function checkHeads(embeddingDim: number, numHeads: number): void {
  if (embeddingDim % numHeads !== 0) {
    throw new LayerConfigError(`\`numHeads\` must divide \`embeddingDim\` (${embeddingDim}), received ${numHeads}`, "numHeads");
  }
}

/** Arguments of `CausalSelfAttention`. */
export type CausalSelfAttentionArgs = LayerArgs & AttentionOptions;

/** The variables of a `CausalSelfAttention` (after `build`). */
export interface AttentionVariables {
  readonly qkvKernel: tf.LayerVariable;
  readonly qkvBias: tf.LayerVariable | null;
  readonly projKernel: tf.LayerVariable;
  readonly projBias: tf.LayerVariable;
}

/**
 * Multi-head causal self-attention as a layer: `[batch, T, C] -> [batch, T, C]`, with nanoGPT's
 * fused `c_attn` (`[C, 3C]`) and `c_proj` (`[C, C]`) weights. `TransformerBlock` holds one (named
 * `attn`, so its weights are `h0/attn/c_attn/kernel`, ...) and calls `attend`.
 *
 * @example
 * const attn = new CausalSelfAttention({ embeddingDim: 64, numHeads: 2 });
 * const y = attn.apply(tf.randomNormal([2, 16, 64])) as tf.Tensor; // [2, 16, 64]
 */
export class CausalSelfAttention extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "CausalSelfAttention";
  readonly embeddingDim: number;
  readonly numHeads: number;
  readonly dropout: number;
  readonly qkvBias: boolean;
  /** Initializer of the qkv kernel (a `TransformerBlock` uses it for its MLP's `c_fc` too). */
  readonly kernelInitializer: Initializer;
  /** Initializer of the output projection (and of a block's MLP `c_proj`). */
  readonly projectionInitializer: Initializer;
  private vars: AttentionVariables | null = null;

  constructor(args: CausalSelfAttentionArgs) {
    const options = parseOptions(AttentionOptionsSchema, args, "CausalSelfAttention");
    checkHeads(options.embeddingDim, options.numHeads);
    super(args);
    this.embeddingDim = options.embeddingDim;
    this.numHeads = options.numHeads;
    this.dropout = options.dropout;
    this.qkvBias = options.qkvBias;
    this.kernelInitializer = resolveInitializer(options.kernelInitializer, "kernelInitializer");
    this.projectionInitializer = resolveInitializer(options.projectionInitializer, "projectionInitializer");
  }

  override build(): void {
    if (this.built) return;
    const c = this.embeddingDim;
    this.vars = {
      qkvKernel: this.addWeight("c_attn/kernel", [c, 3 * c], "float32", this.kernelInitializer),
      qkvBias: this.qkvBias ? this.addWeight("c_attn/bias", [3 * c], "float32", tf.initializers.zeros()) : null,
      projKernel: this.addWeight("c_proj/kernel", [c, c], "float32", this.projectionInitializer),
      projBias: this.addWeight("c_proj/bias", [c], "float32", tf.initializers.zeros()),
    };
    this.built = true;
  }

  /** The layer's variables (building it if needed). */
  get variables(): AttentionVariables {
    this.build();
    return this.vars!;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    const [batch, length, width] = x.shape as [number, number, number];
    return tf.tidy(() => {
      const y = this.attend(tf.reshape(x, [batch * length, width]) as tf.Tensor2D, batch, length, kwargs["training"] === true);
      return tf.reshape(y, [batch, length, width]);
    });
  }

  /**
   * The attention on a `[B*T, C]` view of `[B, T, C]` activations (what `TransformerBlock`
   * calls: no reshapes), optionally with LoRA adapters on its kernels (the block holds them).
   * When its four weights are all frozen, no `[in, out]` kernel gradients are computed.
   */
  attend(x: tf.Tensor2D, batch: number, length: number, training: boolean, lora: { qkv?: LoRAWeights | null; proj?: LoRAWeights | null } = {}): tf.Tensor2D {
    const v = this.variables;
    const weights: AttentionWeights = {
      qkvKernel: v.qkvKernel.read() as tf.Tensor2D,
      qkvBias: v.qkvBias === null ? null : (v.qkvBias.read() as tf.Tensor1D),
      projKernel: v.projKernel.read() as tf.Tensor2D,
      projBias: v.projBias.read() as tf.Tensor1D,
      qkvLoRA: lora.qkv ?? null,
      projLoRA: lora.proj ?? null,
      frozen: [v.qkvKernel, v.qkvBias, v.projKernel, v.projBias].every((w) => w === null || !w.trainable),
    };
    return causalSelfAttention(x, batch, length, this.numHeads, weights, this.dropout, training);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.optionsConfig() };
  }

  /** The attention options in a config (a `TransformerBlock`'s config holds them too). */
  optionsConfig(): tf.serialization.ConfigDict {
    return {
      embeddingDim: this.embeddingDim,
      numHeads: this.numHeads,
      dropout: this.dropout,
      qkvBias: this.qkvBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer) as unknown as tf.serialization.ConfigDictValue,
      projectionInitializer: serializeInitializer(this.projectionInitializer) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
