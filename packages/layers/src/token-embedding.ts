import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { customGrad } from "./custom-grad.js";
import { gatherRows } from "./gather-rows.js";
import { LayerConfigError, parseOptions } from "./errors.js";
import { recordedIdRange } from "./id-range.js";
import { InitializerOptionSchema } from "./initializer-option.js";
import { resolveInitializer, serializeInitializer, type Initializer } from "./initializers.js";
import { single, type Kwargs, type LayerArgs } from "./layer-args.js";
import { matMulTransposedB } from "./matmul.js";

/** Backends whose tensors live on a GPU: `checkIds` never reads ids back there (see it). */
const DEVICE_BACKENDS: ReadonlySet<string> = new Set(["webgpu", "webgl"]);

/** zod schema of the `TokenEmbedding`-specific arguments (base layer args pass through). */
export const TokenEmbeddingOptionsSchema = z.object({
  /** Number of rows of the table: every id must be in `[0, vocabSize)`. Required. */
  vocabSize: z.number().int().positive().describe("a positive integer"),
  /** Width of each embedding vector. Required. */
  embeddingDim: z.number().int().positive().describe("a positive integer"),
  /** Initializer of the `[vocabSize, embeddingDim]` table. Default: `randomNormal({stddev: 0.02})` (GPT-2). */
  embeddingsInitializer: InitializerOptionSchema,
  /** Whether id 0 is padding, producing a mask for downstream layers (tfjs `Embedding`'s option). Default `false`. */
  maskZero: z.boolean().default(false).describe("a boolean"),
});
/** The `TokenEmbedding` arguments as given. */
export type TokenEmbeddingOptions = z.input<typeof TokenEmbeddingOptionsSchema>;

/** Arguments of `TokenEmbedding`. */
export type TokenEmbeddingArgs = LayerArgs & TokenEmbeddingOptions;

/**
 * Throws `LayerConfigError` unless every id is an integer in `[0, vocabSize)`: tfjs's gather
 * silently returns zeros for a bad id on some backends, which would train on garbage instead of
 * failing. An int32 tensor whose range was recorded on the host when it was made (`idsTensor`,
 * `recordIdRange`, or `@tfgpt/datasets`' batches) is checked from that range without reading it
 * back: no host synchronisation in a training step. Other tensors are read (`dataSync`) on the
 * host-memory backends (cpu, wasm, tensorflow); on a GPU backend (`webgpu`, `webgl`) such a read
 * would stall the device on every call (and tfjs-webgpu 4.22's synchronous read over SwiftShader
 * returns zeros and then breaks the device), so there ids without a recorded range are refused
 * with an error saying how to record one. Skipping the check instead would let a bad id gather
 * zeros silently (tfjs's GPU gather does not fail), which is what the check exists to prevent.
 * With `ignoreIndex`, that value is allowed too (a loss's masked targets; see `targetsTensor`).
 */
export function checkIds(ids: tf.Tensor, vocabSize: number, what = "token id", ignoreIndex?: number): void {
  const recorded = ids.dtype === "int32" ? recordedIdRange(ids) : undefined;
  // A recorded range decides when it left out the same ignore index, or none while every value
  // is a valid id (a negative minimum might be the ignore index: then the values are read).
  const usable = recorded !== undefined && (recorded.ignoreIndex === ignoreIndex || (recorded.ignoreIndex === undefined && recorded.min >= 0));
  const range = usable ? recorded : undefined;
  if (range !== undefined) {
    const bad = range.min < 0 ? { id: range.min, at: range.minAt } : range.max >= vocabSize ? { id: range.max, at: range.maxAt } : null;
    if (bad !== null) {
      throw new LayerConfigError(`${what} ${bad.id} (at flat position ${bad.at}) is out of range: ids must be integers in [0, ${vocabSize})`, "ids");
    }
    return;
  }
  const backend = tf.getBackend();
  if (DEVICE_BACKENDS.has(backend)) {
    throw new LayerConfigError(
      `${what}s of a tensor without a recorded id range cannot be checked on the ${backend} backend without a synchronous read-back of the GPU: ` +
        "make the tensor with idsTensor() (or targetsTensor(), recordIdRange()), feed batches through model.apply(), trainingLoss() or fitDataset() " +
        "rather than model.predict()/fit() on tensors (which slice them into new tensors), or check them on the cpu/wasm backend",
      "ids",
    );
  }
  const values = ids.dataSync();
  for (let i = 0; i < values.length; i++) {
    const id = values[i] as number;
    if (id === ignoreIndex) continue;
    if (!(id >= 0 && id < vocabSize && Number.isInteger(id))) {
      throw new LayerConfigError(`${what} ${id} (at flat position ${i}) is out of range: ids must be integers in [0, ${vocabSize})`, "ids");
    }
  }
}

/**
 * Looks `ids` up in `table` (`[V, C]`) with a gradient that is a scatter-add of `dy` into the
 * rows of `ids` (duplicates summed). tfjs's gather gradient goes through `unsortedSegmentSum`,
 * which costs `V x tokens x C` on cpu and has no wasm kernel; `scatterND` costs `tokens x C`
 * plus zero-filling the table.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flat = tf.reshape(ids, [-1]) as tf.Tensor1D;
  const [vocabSize, dim] = table.shape;
  const lookup = customGrad<[tf.Tensor]>(([t], save) => {
    // Saved, not closed over: the caller's tidy disposes `flat` before the backward pass runs.
    save([flat]);
    return {
      value: gatherRows(t, flat),
      gradFunc: (dy, [ids]) => tf.scatterND(tf.expandDims(ids as tf.Tensor, 1), tf.reshape(dy, [-1, dim]), [vocabSize, dim]),
    };
  });
  return tf.reshape(lookup(table), [...ids.shape, dim]);
}

/**
 * A token-id -> vector lookup table that trains fast on every backend, and that doubles as the
 * tied output head (keras-hub's `ReversibleEmbedding`).
 *
 * Called on int32 ids `[...]` it returns vectors `[..., embeddingDim]`. Called on a float tensor
 * `[..., embeddingDim]` (hidden states) it returns logits `[..., vocabSize]` = `hidden @ table^T`,
 * so calling one layer twice in a functional model ties the head to the embedding: the table is
 * one variable, saved once and still shared after loading. The mode is chosen by the input's
 * dtype because tfjs's executor does not forward a node's call arguments.
 *
 * Both directions have their own gradients: the lookup scatters `dy` into the table rows
 * (duplicates summed), the head uses explicit transposes and plain matmuls (fast on wasm).
 *
 * @example
 * const emb = new TokenEmbedding({ vocabSize: 50257, embeddingDim: 64 });
 * const ids = tf.input({ shape: [null], dtype: "int32" });
 * const hidden = emb.apply(ids) as tf.SymbolicTensor;     // [batch, T, 64]
 * const logits = emb.apply(hidden) as tf.SymbolicTensor;  // [batch, T, 50257], tied
 * const model = tf.model({ inputs: ids, outputs: logits });
 */
export class TokenEmbedding extends tf.layers.Layer {
  /** @nocollapse */
  static readonly className = "TokenEmbedding";
  readonly vocabSize: number;
  readonly embeddingDim: number;
  readonly maskZero: boolean;
  private readonly embeddingsInitializer: Initializer;
  private embeddings: tf.LayerVariable | null = null;
  /** Shape inference only: whether the call being traced is the reverse (head) mode. */
  private tracingReverse = false;

  constructor(args: TokenEmbeddingArgs) {
    const options = parseOptions(TokenEmbeddingOptionsSchema, args, "TokenEmbedding");
    super(args);
    this.vocabSize = options.vocabSize;
    this.embeddingDim = options.embeddingDim;
    this.maskZero = options.maskZero;
    this.supportsMasking = this.maskZero;
    this.embeddingsInitializer = resolveInitializer(options.embeddingsInitializer, "embeddingsInitializer");
  }

  /** The `[vocabSize, embeddingDim]` table (after `build`). */
  get table(): tf.LayerVariable {
    if (this.embeddings === null) throw new LayerConfigError(`TokenEmbedding "${this.name}" is not built yet: call it on ids first`);
    return this.embeddings;
  }

  override build(): void {
    if (this.embeddings !== null) return;
    this.embeddings = this.addWeight(
      "embeddings",
      [this.vocabSize, this.embeddingDim],
      "float32",
      this.embeddingsInitializer,
    );
    this.built = true;
  }

  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[],
    kwargs?: Kwargs,
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    this.tracingReverse = single<tf.Tensor | tf.SymbolicTensor>(inputs).dtype !== "int32";
    return super.apply(inputs, kwargs);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) || inputShape[0] === undefined ? inputShape[0] : inputShape) as tf.Shape;
    // The logits' last axis (vocabSize at run time) is declared unknown: `model.fit` checks
    // targets against the output shape, and integer labels `[batch, T, 1]` must pass that check.
    if (this.tracingReverse) return [...shape.slice(0, -1), null];
    return [...shape, this.embeddingDim];
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = single(inputs);
    // tfjs's own layers return null for "no mask" although the declared type says Tensor.
    if (!this.maskZero || x.dtype !== "int32") return null as unknown as tf.Tensor;
    return tf.tidy(() => tf.notEqual(x, 0));
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    return x.dtype === "int32" ? this.embed(x) : this.logits(x);
  }

  /** int32 ids `[...]` -> vectors `[..., embeddingDim]`; throws `LayerConfigError` for an id outside `[0, vocabSize)`. */
  embed(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== "int32") {
      throw new LayerConfigError(`TokenEmbedding ids must be int32, received ${ids.dtype}`, "ids");
    }
    this.build();
    checkIds(ids, this.vocabSize);
    return tf.tidy(() => embeddingLookup(this.table.read() as tf.Tensor2D, ids));
  }

  /**
   * The tied output head: hidden states `[..., embeddingDim]` -> logits `[..., vocabSize]`
   * (`hidden @ table^T`, computed on a 2-D `[tokens, embeddingDim]` view).
   */
  logits(hidden: tf.Tensor): tf.Tensor {
    const last = hidden.shape[hidden.rank - 1];
    if (last !== this.embeddingDim) {
      throw new LayerConfigError(
        `TokenEmbedding "${this.name}" got a ${hidden.dtype} input of shape [${hidden.shape.join(", ")}]: ` +
          `the head needs hidden states whose last dimension is embeddingDim (${this.embeddingDim}); ids must be int32`,
        "inputs",
      );
    }
    this.build();
    return tf.tidy(() => {
      const flat = tf.reshape(hidden, [-1, this.embeddingDim]) as tf.Tensor2D; // [B*T, C]
      const out = matMulTransposedB(flat, this.table.read() as tf.Tensor2D); // [B*T, V]
      return tf.reshape(out, [...hidden.shape.slice(0, -1), this.vocabSize]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      embeddingDim: this.embeddingDim,
      embeddingsInitializer: serializeInitializer(this.embeddingsInitializer) as unknown as tf.serialization.ConfigDictValue,
      maskZero: this.maskZero,
    };
  }
}
