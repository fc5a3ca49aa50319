import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { checkHeads } from "./attention.js";
import { parseOptions } from "./errors.js";
import { GPTModel } from "./gpt-model.js";
import { seededNormals } from "./initializers.js";
import { LayerNorm } from "./layer-norm.js";
import { PositionalEmbedding } from "./positional-embedding.js";
import { TokenEmbedding } from "./token-embedding.js";
import { TransformerBlock } from "./transformer-block.js";

/** zod schema of `GPTConfig`; `parseGPTConfig` turns its failures into `LayerConfigError`s. */
export const GPTConfigSchema = z.object({
  vocabSize: z.number().int().positive().describe("a positive integer"),
  contextLength: z.number().int().positive().describe("a positive integer"),
  embeddingDim: z.number().int().positive().describe("a positive integer"),
  numHeads: z.number().int().positive().describe("a positive integer"),
  numLayers: z.number().int().positive().describe("a positive integer"),
  dropout: z.number().min(0).lt(1).default(0).describe("a number in [0, 1)"),
  qkvBias: z.boolean().default(false).describe("a boolean"),
  tieWeights: z.boolean().default(true).describe("a boolean"),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe("an integer in [0, 2^32)"),
});

/**
 * The whole shape of a GPT (the book's `GPT_CONFIG_124M`, nanoGPT's `GPTConfig`):
 * - `vocabSize`: number of token ids (GPT-2: 50,257). Required.
 * - `contextLength`: longest input sequence (GPT-2: 1,024). Required.
 * - `embeddingDim`: width C of the residual stream. Required.
 * - `numHeads`: attention heads; must divide `embeddingDim`. Required.
 * - `numLayers`: transformer blocks. Required.
 * - `dropout`: rate after the embeddings, in attention and after each residual branch, training only. Default 0.
 * - `qkvBias`: bias on the query/key/value projection. Default `false` (the book's setting).
 * - `tieWeights`: the output head reuses the token embedding table. Default `true` (GPT-2).
 * - `seed`: makes the random initial weights a function of it (same seed, same weights; built
 *   without touching `Math.random`). Default: unseeded (tfjs draws from `Math.random`).
 */
export type GPTConfig = z.output<typeof GPTConfigSchema>;
/** What `createGPT` accepts: a `GPTConfig` whose defaulted fields may be left out. */
export type GPTConfigInput = z.input<typeof GPTConfigSchema>;

/**
 * Named model shapes. `tiny` is the benchmark shape; `gpt2-small` is the book's from-scratch
 * `GPT_CONFIG_124M` (no qkv bias); `gpt2`, `gpt2-medium`, `gpt2-large` and `gpt2-xl` are OpenAI's
 * released GPT-2 models (qkv bias, as `fromPretrained` loads them; LayerNorm epsilon 1e-5, tanh
 * GELU and the tied head are common to all presets). `gpt2` and `gpt2-small` differ only in the
 * qkv bias (2,304 parameters; 124,439,808 vs 124,412,160): pretrained GPT-2 weights need `gpt2`.
 */
export const GPT_PRESETS = {
  /** vocab 50,257, context 64, width 64, 2 layers, 2 heads: ~3.3M parameters, 3.2M of them the tied table. */
  tiny: { vocabSize: 50257, contextLength: 64, embeddingDim: 64, numHeads: 2, numLayers: 2, dropout: 0, qkvBias: false, tieWeights: true },
  /** GPT-2 124M: vocab 50,257, context 1,024, width 768, 12 heads, 12 layers, dropout 0.1, no qkv bias. */
  "gpt2-small": { vocabSize: 50257, contextLength: 1024, embeddingDim: 768, numHeads: 12, numLayers: 12, dropout: 0.1, qkvBias: false, tieWeights: true },
  /** OpenAI's GPT-2 (124M): as `gpt2-small` with the qkv bias. 124,439,808 parameters. */
  gpt2: { vocabSize: 50257, contextLength: 1024, embeddingDim: 768, numHeads: 12, numLayers: 12, dropout: 0.1, qkvBias: true, tieWeights: true },
  /** OpenAI's GPT-2 medium (355M): width 1,024, 16 heads, 24 layers. */
  "gpt2-medium": { vocabSize: 50257, contextLength: 1024, embeddingDim: 1024, numHeads: 16, numLayers: 24, dropout: 0.1, qkvBias: true, tieWeights: true },
  /** OpenAI's GPT-2 large (774M): width 1,280, 20 heads, 36 layers. */
  "gpt2-large": { vocabSize: 50257, contextLength: 1024, embeddingDim: 1280, numHeads: 20, numLayers: 36, dropout: 0.1, qkvBias: true, tieWeights: true },
  /** OpenAI's GPT-2 XL (1558M): width 1,600, 25 heads, 48 layers. */
  "gpt2-xl": { vocabSize: 50257, contextLength: 1024, embeddingDim: 1600, numHeads: 25, numLayers: 48, dropout: 0.1, qkvBias: true, tieWeights: true },
} as const satisfies Record<string, GPTConfig>;

/** Name of a preset in `GPT_PRESETS`. */
export type GPTPresetName = keyof typeof GPT_PRESETS;

/** Validates a config and fills in its defaults; throws `LayerConfigError` naming the bad field. */
export function parseGPTConfig(config: GPTConfigInput): GPTConfig {
  const parsed = parseOptions(GPTConfigSchema, config, "GPTConfig");
  checkHeads(parsed.embeddingDim, parsed.numHeads);
  return parsed;
}

/**
 * Trainable parameters of a GPT with this config, computed without building it:
 * token table, position table, per block `12C^2 + 10C` (+`3C` with qkv bias), the final layer
 * norm, and an untied head when `tieWeights` is false. `gpt2-small` gives 124,412,160.
 */
export function countParams(config: GPTConfigInput): number {
  const c = parseGPTConfig(config);
  const C = c.embeddingDim;
  const block = 12 * C * C + 10 * C + (c.qkvBias ? 3 * C : 0);
  const head = c.tieWeights ? 0 : c.vocabSize * C;
  return c.vocabSize * C + c.contextLength * C + c.numLayers * block + 2 * C + head;
}

/**
 * Options of `createGPT` that are not part of the model's shape:
 * - `initialize`: `"gpt2"` (GPT-2's random initialisation, below) or `"zeros"` (every weight 0,
 *   cheap: for weights that are about to be overwritten, as `fromPretrained` does). Default `"gpt2"`.
 */
export interface CreateGPTOptions {
  initialize?: "gpt2" | "zeros";
}

/**
 * Builds a GPT-2-style language model as a `GPTModel` (a `tf.LayersModel`): int32 ids `[batch, T]`
 * (any `T <= contextLength`) in, logits `[batch, T, vocabSize]` out. Works with `model.compile`
 * (use `sparseCrossEntropyFromLogits`), `fit`, `fitDataset`, `predict`, `save`/`loadLayersModel`.
 * Compiled with `sparseCrossEntropyFromLogits`, its training steps fuse the head with the loss
 * (`headCrossEntropy`: same loss and gradients, no second `[tokens, vocab]` pass); see `GPTModel`.
 * `fitDataset` takes labels `[batch, T]`; `fit` checks targets against the output's rank, so
 * there labels are `[batch, T, 1]` (the output's vocabulary axis is declared unknown for that).
 *
 *     x = wte(ids) + wpe(ids)                       token + learned position vectors
 *     x = dropout(x)
 *     x = h_i(x) for each of numLayers blocks      pre-LayerNorm TransformerBlock
 *     logits = wte(ln_f(x))                         head tied to the token table (reverse mode)
 *
 * GPT-2 initialisation: every kernel and table normal(0, 0.02), the two residual projections of
 * each block normal(0, 0.02 / sqrt(2 * numLayers)), biases 0, layer norms (1, 0).
 *
 * @example
 * const model = createGPT({ ...GPT_PRESETS.tiny, vocabSize: 97 });
 * model.compile({ optimizer: tf.train.adam(1e-3), loss: sparseCrossEntropyFromLogits });
 */
export function createGPT(config: GPTConfigInput, options: CreateGPTOptions = {}): GPTModel {
  const c = parseGPTConfig(config);
  const zeros = options.initialize === "zeros";
  const seeded = c.seed !== undefined ? seededNormals(c.seed) : undefined;
  const normal = (stddev: number) =>
    zeros ? tf.initializers.zeros() : seeded !== undefined ? seeded(stddev) : tf.initializers.randomNormal({ mean: 0, stddev });
  const ids = tf.input({ shape: [null], dtype: "int32", name: "ids" });

  const wte = new TokenEmbedding({ vocabSize: c.vocabSize, embeddingDim: c.embeddingDim, embeddingsInitializer: normal(0.02), name: "wte" });
  const wpe = new PositionalEmbedding({ maxLength: c.contextLength, embeddingDim: c.embeddingDim, kind: "learned", initializer: normal(0.02), name: "wpe" });
  let x = tf.layers.add({ name: "embed" }).apply([wte.apply(ids), wpe.apply(ids)] as tf.SymbolicTensor[]) as tf.SymbolicTensor; // [B, T, C]
  if (c.dropout > 0) x = tf.layers.dropout({ rate: c.dropout, name: "drop" }).apply(x) as tf.SymbolicTensor;

  for (let i = 0; i < c.numLayers; i++) {
    const block = new TransformerBlock({
      embeddingDim: c.embeddingDim,
      numHeads: c.numHeads,
      dropout: c.dropout,
      qkvBias: c.qkvBias,
      kernelInitializer: normal(0.02),
      projectionInitializer: normal(0.02 / Math.sqrt(2 * c.numLayers)),
      name: `h${i}`,
    });
    x = block.apply(x) as tf.SymbolicTensor; // [B, T, C]
  }
  x = new LayerNorm({ epsilon: 1e-5, name: "ln_f" }).apply(x) as tf.SymbolicTensor;

  const head = c.tieWeights
    ? wte
    : new TokenEmbedding({ vocabSize: c.vocabSize, embeddingDim: c.embeddingDim, embeddingsInitializer: normal(0.02), name: "lm_head" });
  const logits = head.apply(x) as tf.SymbolicTensor; // [B, T, V]
  return new GPTModel({ inputs: ids, outputs: logits, name: "gpt" });
}

/** The context length of a model built by `createGPT` (its position table's `maxLength`), or undefined. */
export function contextLengthOf(model: tf.LayersModel): number | undefined {
  for (const layer of model.layers) {
    if (layer instanceof PositionalEmbedding) return layer.maxLength;
    const config = layer.getConfig();
    if (layer.getClassName() === "TokenAndPositionEmbedding" && typeof config["maxLength"] === "number") return config["maxLength"];
  }
  return undefined;
}
