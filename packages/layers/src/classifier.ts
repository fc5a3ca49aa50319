/**
 * Classification fine-tuning ("LLMs from scratch" chapter 6): the GPT's output head replaced by a
 * `[C, numClasses]` Dense layer read at the last token, and all but the last block(s), the final
 * LayerNorm and the new head frozen.
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";

/**
 * The last position of a sequence: `[B, T, C] -> [B, C]` (the book's `model(x)[:, -1, :]`, read
 * before the head instead of after it: the same numbers, without `[B, T, numClasses]`).
 *
 * @example
 * const last = new LastToken().apply(tf.randomNormal([2, 5, 8])) as tf.Tensor; // [2, 8]
 */
export class LastToken extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "LastToken";

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, shape[shape.length - 1] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = single(inputs); // [B, T, C]
    const [batch, time, dim] = x.shape as [number, number, number];
    return tf.tidy(() => tf.reshape(tf.slice(x, [0, time - 1, 0], [batch, 1, dim]), [batch, dim]));
  }
}

/**
 * Options of `createClassifier`.
 *
 * - `numClasses`: outputs of the new head. Required, an integer >= 2.
 * - `trainableBlocks`: how many of the last transformer blocks train. Default 1 (the book's).
 *   `"all"` trains every weight.
 * - `trainFinalNorm`: whether the final LayerNorm (`ln_f`) trains. Default `true` (the book's).
 * - `seed`: the head's initializer seed (Glorot uniform kernel, zero bias). Default 123.
 */
export const ClassifierOptionsSchema = z.strictObject({
  numClasses: z.number().int().min(2).describe("an integer >= 2"),
  trainableBlocks: z.union([z.number().int().min(0), z.literal("all")]).default(1).describe('a non-negative integer or "all"'),
  trainFinalNorm: z.boolean().default(true).describe("true or false"),
  seed: z.number().int().min(0).default(123).describe("a non-negative integer"),
});
/** `createClassifier` options as given. */
export type ClassifierOptions = z.input<typeof ClassifierOptionsSchema>;

/** The transformer blocks of a GPT built by `createGPT` or `fromPretrained`: `h0`, `h1`, ... */
function blockIndex(name: string): number | undefined {
  const m = /^h(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * A classifier on a GPT: ids `[B, T]` -> class logits `[B, numClasses]` from the final
 * LayerNorm's output at the last position. It shares every layer (and weight) with `gpt`; layers
 * other than the last `trainableBlocks` blocks, `ln_f` (unless `trainFinalNorm` is false) and the
 * new head are set non-trainable (on the shared layers: `gpt` itself is frozen alike).
 *
 * @param gpt a model from `createGPT` / `fromPretrained` (a layer named `ln_f`, blocks `h0..`).
 * @throws LayerConfigError for bad options or a model without `ln_f`.
 * @example
 * const classifier = createClassifier(await fromPretrained(dir), { numClasses: 2 });
 * classifier.compile({ optimizer: tf.train.adam(5e-5), loss: tf.losses.softmaxCrossEntropy });
 */
export function createClassifier(gpt: tf.LayersModel, options: ClassifierOptions): tf.LayersModel {
  const o = parseOptions(ClassifierOptionsSchema, options, "createClassifier");
  let norm: tf.layers.Layer;
  try {
    norm = gpt.getLayer("ln_f");
  } catch {
    throw new LayerConfigError("createClassifier: the model has no final LayerNorm `ln_f` (build it with createGPT or fromPretrained)", "gpt");
  }
  const blocks = gpt.layers.map((l) => blockIndex(l.name)).filter((i): i is number => i !== undefined);
  const numBlocks = blocks.length === 0 ? 0 : Math.max(...blocks) + 1;
  for (const layer of gpt.layers) {
    const index = blockIndex(layer.name);
    layer.trainable =
      o.trainableBlocks === "all" || (index !== undefined && index >= numBlocks - o.trainableBlocks) || (layer.name === "ln_f" && o.trainFinalNorm);
  }
  const hidden = norm.output as tf.SymbolicTensor; // [B, T, C]
  const last = new LastToken({ name: "last_token" }).apply(hidden) as tf.SymbolicTensor; // [B, C]
  const head = tf.layers.dense({
    units: o.numClasses,
    name: "cls_head",
    kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed }),
  });
  return tf.model({ inputs: gpt.inputs, outputs: head.apply(last) as tf.SymbolicTensor, name: "gpt_classifier" });
}

/**
 * Accuracy of class logits `[B, numClasses]` against class ids `[B]`: a scalar in [0, 1], on the
 * device (the book's `calc_accuracy_loader` for one batch).
 */
export function classificationAccuracy(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(tf.reshape(labels, [-1]), "int32")), "float32")) as tf.Scalar);
}

/**
 * The classification loss: mean cross-entropy of class ids `[B]` against logits `[B, numClasses]`
 * (PyTorch's `cross_entropy(logits, labels)`).
 */
export function classificationLoss(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[logits.rank - 1] as number;
    const ids = tf.cast(tf.reshape(labels, [-1]), "int32");
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(ids, numClasses), tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}
