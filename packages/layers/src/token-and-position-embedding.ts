import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { resolveInitializer, serializeInitializer, type Initializer, type InitializerSpec } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";
import { checkSequenceLength, sinusoidalTable, type PositionKind } from "./positional-embedding.js";
import { checkIds, embeddingLookup } from "./token-embedding.js";

const initializerSpec = z
  .custom<InitializerSpec>((v) => v === undefined || typeof v === "string" || (typeof v === "object" && v !== null))
  .optional()
  .describe("a tf.initializers instance, its name or its {className, config}");

/** zod schema of the `TokenAndPositionEmbedding`-specific arguments (base layer args pass through). */
export const TokenAndPositionEmbeddingOptions = z.object({
  /** Number of token ids: every id must be in `[0, vocabSize)`. Required. */
  vocabSize: z.number().int().positive().describe("a positive integer"),
  /** Longest sequence (context length). Required. */
  maxLength: z.number().int().positive().describe("a positive integer"),
  /** Width of token and position vectors. Required. */
  embeddingDim: z.number().int().positive().describe("a positive integer"),
  /** Position encoding, as in `PositionalEmbedding`. Default `"learned"`. */
  kind: z.enum(["learned", "sinusoidal"]).optional().describe('"learned" or "sinusoidal"'),
  /** Token table initializer. Default `randomNormal({stddev: 0.02})`. */
  embeddingsInitializer: initializerSpec,
  /** Learned position table initializer. Default `randomNormal({stddev: 0.02})`. */
  positionInitializer: initializerSpec,
});

/** Arguments of `TokenAndPositionEmbedding`. */
export type TokenAndPositionEmbeddingArgs = LayerArgs & z.input<typeof TokenAndPositionEmbeddingOptions>;

/**
 * Token vectors plus position vectors in one layer, as in the book's input pipeline
 * (`token_embedding_layer(inputs) + pos_embedding_layer(arange(T))`): int32 ids `[batch, T]`
 * -> `[batch, T, embeddingDim]`. Uses the same fast scatter-add gradient as `TokenEmbedding`.
 *
 * @example
 * const embed = new TokenAndPositionEmbedding({ vocabSize: 50257, maxLength: 4, embeddingDim: 256 });
 * const x = embed.apply(tf.tensor2d([[40, 367, 2885, 1464]], [1, 4], "int32")) as tf.Tensor; // [1, 4, 256]
 */
export class TokenAndPositionEmbedding extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "TokenAndPositionEmbedding";
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly embeddingDim: number;
  readonly kind: PositionKind;
  private readonly embeddingsInitializer: Initializer;
  private readonly positionInitializer: Initializer;
  private tokens: tf.LayerVariable | null = null;
  private positions: tf.LayerVariable | null = null;
  private sinusoids: Float32Array | null = null;

  constructor(args: TokenAndPositionEmbeddingArgs) {
    const options = parseOptions(TokenAndPositionEmbeddingOptions, args, "TokenAndPositionEmbedding");
    super(args);
    this.vocabSize = options.vocabSize;
    this.maxLength = options.maxLength;
    this.embeddingDim = options.embeddingDim;
    this.kind = options.kind ?? "learned";
    const gpt2 = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });
    this.embeddingsInitializer =
      options.embeddingsInitializer === undefined ? gpt2() : resolveInitializer(options.embeddingsInitializer, "embeddingsInitializer");
    this.positionInitializer =
      options.positionInitializer === undefined ? gpt2() : resolveInitializer(options.positionInitializer, "positionInitializer");
  }

  override build(): void {
    if (this.built) return;
    this.tokens = this.addWeight("token_embeddings", [this.vocabSize, this.embeddingDim], "float32", this.embeddingsInitializer);
    if (this.kind === "learned") {
      this.positions = this.addWeight("position_embeddings", [this.maxLength, this.embeddingDim], "float32", this.positionInitializer);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    checkSequenceLength(shape[1], this.maxLength);
    return [shape[0] ?? null, shape[1] ?? null, this.embeddingDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const ids = single(inputs);
    if (ids.dtype !== "int32" || ids.rank !== 2) {
      throw new LayerConfigError(`TokenAndPositionEmbedding needs int32 ids [batch, T], received ${ids.dtype} [${ids.shape.join(", ")}]`, "ids");
    }
    const length = ids.shape[1] as number;
    checkSequenceLength(length, this.maxLength);
    this.build();
    checkIds(ids, this.vocabSize);
    return tf.tidy(() => {
      const tok = embeddingLookup((this.tokens as tf.LayerVariable).read() as tf.Tensor2D, ids); // [B, T, C]
      let pos: tf.Tensor2D; // [T, C]
      if (this.positions !== null) {
        pos = tf.slice(this.positions.read() as tf.Tensor2D, [0, 0], [length, this.embeddingDim]);
      } else {
        this.sinusoids ??= sinusoidalTable(this.maxLength, this.embeddingDim);
        pos = tf.tensor2d(this.sinusoids.subarray(0, length * this.embeddingDim), [length, this.embeddingDim]);
      }
      return tf.add(tok, pos); // broadcast over the batch
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      maxLength: this.maxLength,
      embeddingDim: this.embeddingDim,
      kind: this.kind,
      embeddingsInitializer: serializeInitializer(this.embeddingsInitializer) as unknown as tf.serialization.ConfigDictValue,
      positionInitializer: serializeInitializer(this.positionInitializer) as unknown as tf.serialization.ConfigDictValue,
    };
  }
}
