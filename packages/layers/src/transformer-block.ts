import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { AttentionOptions, causalSelfAttention, checkHeads } from "./attention.js";
import { parseOptions } from "./errors.js";
import { gelu, layerNorm, linear, maybeDropout } from "./functional.js";
import { resolveInitializer, serializeInitializer, type Initializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";

/** zod schema of the `TransformerBlock`-specific arguments (base layer args pass through). */
export const TransformerBlockOptions = AttentionOptions.extend({
  /** Epsilon of both layer norms. Default `1e-5` (GPT-2). */
  layerNormEpsilon: z.number().positive().optional().describe("a positive number"),
});

/** Arguments of `TransformerBlock`: those of `CausalSelfAttention` plus the layer norm epsilon. */
export type TransformerBlockArgs = LayerArgs & z.input<typeof TransformerBlockOptions>;

type Vars = Record<
  "ln1Gamma" | "ln1Beta" | "qkvKernel" | "attnProjKernel" | "attnProjBias" | "ln2Gamma" | "ln2Beta" | "fcKernel" | "fcBias" | "mlpProjKernel" | "mlpProjBias",
  tf.LayerVariable
> & { qkvBias: tf.LayerVariable | null };

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

  constructor(args: TransformerBlockArgs) {
    const options = parseOptions(TransformerBlockOptions, args, "TransformerBlock");
    checkHeads(options.embeddingDim, options.numHeads);
    super(args);
    this.embeddingDim = options.embeddingDim;
    this.numHeads = options.numHeads;
    this.dropout = options.dropout ?? 0;
    this.qkvBias = options.qkvBias ?? false;
    this.layerNormEpsilon = options.layerNormEpsilon ?? 1e-5;
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
    return tf.tidy(() => {
      let h = tf.reshape(x, [batch * length, width]) as tf.Tensor2D; // [B*T, C]
      const attnIn = layerNorm(h, r1(v.ln1Gamma), r1(v.ln1Beta), this.layerNormEpsilon);
      const attnWeights = {
        qkvKernel: r2(v.qkvKernel),
        qkvBias: v.qkvBias === null ? null : r1(v.qkvBias),
        projKernel: r2(v.attnProjKernel),
        projBias: r1(v.attnProjBias),
      };
      h = tf.add(h, causalSelfAttention(attnIn, batch, length, this.numHeads, attnWeights, this.dropout, training));
      const mlpIn = layerNorm(h, r1(v.ln2Gamma), r1(v.ln2Beta), this.layerNormEpsilon);
      const hidden = gelu(linear(mlpIn, r2(v.fcKernel), r1(v.fcBias))) as tf.Tensor2D; // [B*T, 4C]
      h = tf.add(h, maybeDropout(linear(hidden, r2(v.mlpProjKernel), r1(v.mlpProjBias)), this.dropout, training));
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
      kernelInitializer: serializeInitializer(this.kernelInitializer) as unknown as tf.serialization.ConfigDictValue,
      projectionInitializer: serializeInitializer(this.projectionInitializer) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
