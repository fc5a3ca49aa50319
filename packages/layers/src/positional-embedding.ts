import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { customGrad } from "./custom-grad.js";
import { LayerConfigError, parseOptions } from "./errors.js";
import { InitializerOptionSchema } from "./initializer-option.js";
import { resolveInitializer, serializeInitializer, type Initializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";

/** How positions are encoded: a trained `[maxLength, embeddingDim]` table, or fixed sines and cosines. */
export type PositionKind = "learned" | "sinusoidal";

/** zod schema of the `PositionalEmbedding`-specific arguments (base layer args pass through). */
export const PositionalEmbeddingOptionsSchema = z.object({
  /** Longest sequence the layer can embed (the model's context length). Required. */
  maxLength: z.number().int().positive().describe("a positive integer"),
  /** Width of each position vector. Required. */
  embeddingDim: z.number().int().positive().describe("a positive integer"),
  /** `"learned"` (GPT-2) or `"sinusoidal"` (Vaswani et al., no weights). Default `"learned"`. */
  kind: z.enum(["learned", "sinusoidal"]).default("learned").describe('"learned" or "sinusoidal"'),
  /** Initializer of the learned table. Default: `randomNormal({stddev: 0.02})` (GPT-2). Ignored for `"sinusoidal"`. */
  initializer: InitializerOptionSchema,
});
/** The `PositionalEmbedding` arguments as given. */
export type PositionalEmbeddingOptions = z.input<typeof PositionalEmbeddingOptionsSchema>;

/** Arguments of `PositionalEmbedding`. */
export type PositionalEmbeddingArgs = LayerArgs & PositionalEmbeddingOptions;

/** The error for a sequence longer than the table (one message for every layer that embeds positions). */
export function checkSequenceLength(length: number | null | undefined, maxLength: number): void {
  if (length != null && length > maxLength) {
    throw new LayerConfigError(`cannot embed a sequence of ${length} positions, maxLength is ${maxLength}`, "inputs");
  }
}

/** `[maxLength, dim]` sinusoidal table: even columns `sin(pos / 10000^(2i/dim))`, odd columns the cosine. */
export function sinusoidalTable(maxLength: number, dim: number): Float32Array {
  const table = new Float32Array(maxLength * dim);
  for (let pos = 0; pos < maxLength; pos++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = pos / Math.pow(10000, i / dim);
      table[pos * dim + i] = Math.sin(angle);
      if (i + 1 < dim) table[pos * dim + i + 1] = Math.cos(angle);
    }
  }
  return table;
}

/**
 * `[T, C] -> [batch, T, C]` copies, with the gradient a single sum over the batch axis (tfjs's
 * own gradient of the tile behind `broadcastTo` is one slice-and-add per copy).
 */
function broadcastOverBatch(vectors: tf.Tensor2D, batch: number): tf.Tensor {
  const f = customGrad<[tf.Tensor]>(([v]) => ({
    value: tf.broadcastTo(tf.expandDims(v, 0), [batch, ...v.shape]),
    gradFunc: (dy) => tf.sum(dy, 0),
  }));
  return f(vectors);
}

/**
 * Position vectors for the positions `0 .. T-1` of the input, broadcast over its batch
 * (keras-hub's `PositionEmbedding`): the input is ids `[batch, T]` or token vectors
 * `[batch, T, C]`, the output is `[batch, T, embeddingDim]`, ready to add to the token vectors.
 * The table is trimmed to `T`, so one model serves every length up to `maxLength`; a longer
 * input is a `LayerConfigError` ("cannot embed a sequence of 300 positions, maxLength is 256").
 *
 * @example
 * const pos = new PositionalEmbedding({ maxLength: 256, embeddingDim: 64 });
 * const vectors = pos.apply(tf.zeros([2, 10], "int32")) as tf.Tensor; // [2, 10, 64]
 */
export class PositionalEmbedding extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "PositionalEmbedding";
  readonly maxLength: number;
  readonly embeddingDim: number;
  readonly kind: PositionKind;
  private readonly initializer: Initializer;
  private positions: tf.LayerVariable | null = null;
  private sinusoids: Float32Array | null = null;

  constructor(args: PositionalEmbeddingArgs) {
    const options = parseOptions(PositionalEmbeddingOptionsSchema, args, "PositionalEmbedding");
    super(args);
    this.maxLength = options.maxLength;
    this.embeddingDim = options.embeddingDim;
    this.kind = options.kind;
    this.initializer = resolveInitializer(options.initializer, "initializer");
  }

  override build(): void {
    if (this.built) return;
    if (this.kind === "learned") {
      this.positions = this.addWeight("embeddings", [this.maxLength, this.embeddingDim], "float32", this.initializer);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    checkSequenceLength(shape[1], this.maxLength);
    return [shape[0] ?? null, shape[1] ?? null, this.embeddingDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    const [batch, length] = x.shape as [number, number];
    return tf.tidy(() => broadcastOverBatch(this.vectors(length), batch));
  }

  /** The `[length, embeddingDim]` position vectors of positions `0 .. length-1`. */
  vectors(length: number): tf.Tensor2D {
    checkSequenceLength(length, this.maxLength);
    this.build();
    if (this.positions !== null) {
      return tf.slice(this.positions.read() as tf.Tensor2D, [0, 0], [length, this.embeddingDim]);
    }
    this.sinusoids ??= sinusoidalTable(this.maxLength, this.embeddingDim);
    return tf.tensor2d(this.sinusoids.subarray(0, length * this.embeddingDim), [length, this.embeddingDim]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      maxLength: this.maxLength,
      embeddingDim: this.embeddingDim,
      kind: this.kind,
      initializer: serializeInitializer(this.initializer) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
