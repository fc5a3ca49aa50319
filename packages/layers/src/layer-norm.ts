import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { parseOptions } from "./errors.js";
import { layerNorm } from "./functional.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";

/** zod schema of the `LayerNorm`-specific arguments (base layer args pass through). */
export const LayerNormOptionsSchema = z.object({
  /** Added to the variance before the square root. Default `1e-5` (GPT-2). */
  epsilon: z.number().positive().default(1e-5).describe("a positive number"),
});
/** The `LayerNorm` arguments as given. */
export type LayerNormOptions = z.input<typeof LayerNormOptionsSchema>;

/** Arguments of `LayerNorm`. */
export type LayerNormArgs = LayerArgs & LayerNormOptions;

/**
 * Layer normalization over the last axis with a learned scale (`gamma`, init 1) and shift
 * (`beta`, init 0): GPT's final `ln_f`. `[..., C] -> [..., C]`.
 *
 * Why not `tf.layers.layerNormalization`: it tiles gamma and beta to the input's full shape, and
 * the gradient of that tile is one slice-and-add per position (over a thousand kernels per step
 * for a `[8, 64, 64]` input). Here they broadcast, and the math runs on a 2-D `[tokens, C]` view.
 *
 * @example
 * const ln = new LayerNorm({ name: "ln_f" });
 * const y = ln.apply(tf.randomNormal([2, 16, 64])) as tf.Tensor; // [2, 16, 64]
 */
export class LayerNorm extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "LayerNorm";
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    const options = parseOptions(LayerNormOptionsSchema, args, "LayerNorm");
    super(args);
    this.epsilon = options.epsilon;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    if (this.built) return;
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const width = shape[shape.length - 1];
    if (width == null) throw new Error("LayerNorm needs a known last dimension");
    this.gamma = this.addWeight("gamma", [width], "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", [width], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    this.build(x.shape);
    const width = x.shape[x.rank - 1] as number;
    return tf.tidy(() => tf.reshape(this.normalize(tf.reshape(x, [-1, width]) as tf.Tensor2D), x.shape));
  }

  /** The normalization of a 2-D `[tokens, C]` view (what `TransformerBlock` calls: no reshapes). */
  normalize(x: tf.Tensor2D): tf.Tensor2D {
    this.build(x.shape);
    return layerNorm(x, this.gamma!.read() as tf.Tensor1D, this.beta!.read() as tf.Tensor1D, this.epsilon);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
