import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { InitializerOptionSchema } from "./initializer-option.js";
import { resolveInitializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";
import { buildNested } from "./tfjs-training-internals.js";
import { checkSequenceLength, PositionalEmbedding, type PositionKind } from "./positional-embedding.js";
import { TokenEmbedding } from "./token-embedding.js";

/** zod schema of the `TokenAndPositionEmbedding`-specific arguments (base layer args pass through). */
export const TokenAndPositionEmbeddingOptionsSchema = z.object({
  /** Number of token ids: every id must be in `[0, vocabSize)`. Required. */
  vocabSize: z.number().int().positive().describe("a positive integer"),
  /** Longest sequence (context length). Required. */
  maxLength: z.number().int().positive().describe("a positive integer"),
  /** Width of token and position vectors. Required. */
  embeddingDim: z.number().int().positive().describe("a positive integer"),
  /** Position encoding, as in `PositionalEmbedding`. Default `"learned"`. */
  kind: z.enum(["learned", "sinusoidal"]).default("learned").describe('"learned" or "sinusoidal"'),
  /** Token table initializer. Default `randomNormal({stddev: 0.02})`. */
  embeddingsInitializer: InitializerOptionSchema,
  /** Learned position table initializer. Default `randomNormal({stddev: 0.02})`. */
  positionInitializer: InitializerOptionSchema,
});
/** The `TokenAndPositionEmbedding` arguments as given. */
export type TokenAndPositionEmbeddingOptions = z.input<typeof TokenAndPositionEmbeddingOptionsSchema>;

/** Arguments of `TokenAndPositionEmbedding`. */
export type TokenAndPositionEmbeddingArgs = LayerArgs & TokenAndPositionEmbeddingOptions;

/**
 * Token vectors plus position vectors in one layer, as in the book's input pipeline
 * (`token_embedding_layer(inputs) + pos_embedding_layer(arange(T))`): int32 ids `[batch, T]`
 * -> `[batch, T, embeddingDim]`.
 *
 * Composed as keras-hub's `TokenAndPositionEmbedding` is: a `TokenEmbedding` (same fast
 * scatter-add gradient) and a `PositionalEmbedding` built as parts of it (`buildNested`), whose
 * tables are this layer's weights `<name>/token_embeddings` and `<name>/position_embeddings`.
 *
 * @example
 * const embed = new TokenAndPositionEmbedding({ vocabSize: 50257, maxLength: 4, embeddingDim: 256 });
 * const x = embed.apply(tf.tensor2d([[40, 367, 2885, 1464]], [1, 4], "int32")) as tf.Tensor; // [1, 4, 256]
 */
export class TokenAndPositionEmbedding extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "TokenAndPositionEmbedding";
  private readonly tokens: TokenEmbedding;
  private readonly positions: PositionalEmbedding;

  constructor(args: TokenAndPositionEmbeddingArgs) {
    const options = parseOptions(TokenAndPositionEmbeddingOptionsSchema, args, "TokenAndPositionEmbedding");
    const { vocabSize, maxLength, embeddingDim, kind, embeddingsInitializer } = options;
    super(args);
    this.tokens = new TokenEmbedding({ vocabSize, embeddingDim, embeddingsInitializer, name: "token" });
    const initializer = resolveInitializer(options.positionInitializer, "positionInitializer");
    this.positions = new PositionalEmbedding({ maxLength, embeddingDim, kind, initializer, name: "position" });
  }

  /** Number of token ids. */
  get vocabSize(): number {
    return this.tokens.vocabSize;
  }

  /** Longest sequence. */
  get maxLength(): number {
    return this.positions.maxLength;
  }

  /** Width of the vectors. */
  get embeddingDim(): number {
    return this.tokens.embeddingDim;
  }

  /** How positions are encoded. */
  get kind(): PositionKind {
    return this.positions.kind;
  }

  override build(): void {
    if (this.built) return;
    // `token_embeddings`, `position_embeddings`: the names these tables had as this layer's own weights.
    buildNested(this, this.tokens, [null, null], "token_");
    buildNested(this, this.positions, [null, null], "position_");
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return this.positions.computeOutputShape(inputShape); // [batch, T, C], T checked
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const ids = single(inputs);
    if (ids.dtype !== "int32" || ids.rank !== 2) {
      throw new LayerConfigError(`TokenAndPositionEmbedding needs int32 ids [batch, T], received ${ids.dtype} [${ids.shape.join(", ")}]`, "ids");
    }
    const length = ids.shape[1] as number;
    checkSequenceLength(length, this.maxLength);
    this.build();
    // [B, T, C] token vectors (the ids checked) + [T, C] position vectors, broadcast over the batch.
    return tf.tidy(() => tf.add(this.tokens.embed(ids), this.positions.vectors(length)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      maxLength: this.maxLength,
      embeddingDim: this.embeddingDim,
      kind: this.kind,
      embeddingsInitializer: this.tokens.getConfig()["embeddingsInitializer"] as tf.serialization.ConfigDictValue,
      positionInitializer: this.positions.getConfig()["initializer"] as tf.serialization.ConfigDictValue,
    };
  }
}
