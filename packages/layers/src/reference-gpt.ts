/**
 * A GPT-2 forward pass you can read in one sitting, as nanoGPT's `model.py` shows it: plain tfjs
 * ops, tfjs's own autodiff, no custom kernels or gradients, no 2-D views, no fused head and loss.
 * It computes what a model from `createGPT` (or `fromPretrained`, `loadLayersModel` of one)
 * computes, reading that model's weights by their paths (`wte/embeddings`, `h0/ln_1/gamma`,
 * `h0/attn/c_attn/kernel`, ...; LoRA adapters included), in inference mode (no dropout).
 *
 * It is the specification the fast path is tested against (`test/reference-gpt.test.ts`: same
 * logits, loss and gradients), and a map of where each piece lives in the package:
 *
 *     piece                  here                 fast path
 *     token + position       embed                TokenEmbedding, PositionalEmbedding
 *     layer norm             layerNorm            LayerNorm / functional.ts layerNorm
 *     attention              attention            CausalSelfAttention / attention.ts
 *     MLP                    mlp                  TransformerBlock (mlp/c_fc, mlp/c_proj)
 *     head + loss            referenceLoss        TokenEmbedding.logits, headCrossEntropy
 *
 * It is slow (it materialises `[B, H, T, T]` scores and `[B, T, V]` logits) and meant for
 * reading and testing, not for training.
 *
 * @example
 * const model = createGPT({ ...GPT_PRESETS.tiny, vocabSize: 97 });
 * const logits = referenceForward(model, ids);                       // [B, T, 97]
 * const { value, grads } = tf.variableGrads(() => referenceLoss(model, ids, targets));
 */
import * as tf from "@tensorflow/tfjs";
import { LayerConfigError } from "./errors.js";
import type { GPTConfig } from "./gpt.js";
import { gptConfigOfModel, weightsByPath } from "./pretrained.js";
import { TransformerBlock } from "./transformer-block.js";

/** A GPT's shape and its weights by path, as the functions below read them. */
interface Weights {
  readonly config: GPTConfig;
  /** The weight at `path` (`h0/attn/c_attn/kernel`); throws when the model has none. */
  get(path: string): tf.Tensor;
  /** The weight at `path`, or null (qkv bias, untied head, LoRA adapters). */
  maybe(path: string): tf.Tensor | null;
  /** `alpha / rank` of block `i`'s LoRA adapters (0 without). */
  loraScale(i: number): number;
}

function weightsOf(model: tf.LayersModel): Weights {
  const config = gptConfigOfModel(model);
  const byPath = weightsByPath(model);
  const maybe = (path: string) => byPath.get(path)?.read() ?? null;
  const get = (path: string) => {
    const w = maybe(path);
    if (w === null) throw new LayerConfigError(`model "${model.name}" has no weight ${path}`, "model");
    return w;
  };
  const blocks = model.layers.filter((l): l is TransformerBlock => l instanceof TransformerBlock);
  const loraScale = (i: number) => {
    const spec = blocks[i]?.lora ?? null;
    return spec === null ? 0 : spec.alpha / spec.rank;
  };
  return { config, get, maybe, loraScale };
}

/** `x @ W + b` over the last axis of `[..., in]`, plus `scale * (x @ A) @ B` when the kernel has LoRA adapters. */
function linear(w: Weights, x: tf.Tensor, path: string, loraScale = 0): tf.Tensor {
  const kernel = w.get(`${path}/kernel`) as tf.Tensor2D; // [in, out]
  const [inDim, outDim] = kernel.shape;
  const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(flat, kernel);
  const bias = w.maybe(`${path}/bias`);
  if (bias !== null) y = tf.add(y, bias);
  const a = w.maybe(`${path}/lora_a`);
  const b = w.maybe(`${path}/lora_b`);
  if (a !== null && b !== null) y = tf.add(y, tf.mul(tf.matMul(tf.matMul(flat, a as tf.Tensor2D), b as tf.Tensor2D), loraScale));
  return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
}

/** LayerNorm over the last axis: `(x - mean) / sqrt(var + 1e-5) * gamma + beta`. */
function layerNorm(w: Weights, x: tf.Tensor, path: string): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const xhat = tf.div(centered, tf.sqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(xhat, w.get(`${path}/gamma`)), w.get(`${path}/beta`));
}

/** GPT-2's GELU, the tanh approximation: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

/**
 * Token vectors plus position vectors: ids `[B, T]` -> `[B, T, C]`. The lookup is a one-hot
 * matmul (`oneHot(ids) @ wte`): differentiable on every backend (the gradient of `tf.gather`
 * needs a kernel wasm lacks).
 */
function embed(w: Weights, ids: tf.Tensor): tf.Tensor {
  const [batch, length] = ids.shape as [number, number];
  const table = w.get("wte/embeddings") as tf.Tensor2D; // [V, C]
  const oneHot = tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, w.config.vocabSize); // [B*T, V]
  const tokens = tf.reshape(tf.matMul(oneHot, table), [batch, length, w.config.embeddingDim]);
  const positions = tf.slice(w.get("wpe/embeddings"), [0, 0], [length, w.config.embeddingDim]); // [T, C]
  return tf.add(tokens, positions);
}

/**
 * Multi-head causal self-attention of block `i` (nanoGPT's `CausalSelfAttention`):
 * `q, k, v = split(x @ c_attn)`, per head `softmax(q k^T / sqrt(hd) + mask) v`, heads merged, `@ c_proj`.
 */
function attention(w: Weights, x: tf.Tensor, i: number): tf.Tensor {
  const [batch, length, width] = x.shape as [number, number, number];
  const heads = w.config.numHeads;
  const headDim = width / heads;
  const scale = w.loraScale(i);
  const qkv = linear(w, x, `h${i}/attn/c_attn`, scale); // [B, T, 3C]
  // [B, T, C] -> [B, H, T, hd]
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, length, heads, headDim]), [0, 2, 1, 3]);
  const [q, k, v] = tf.split(qkv, 3, -1).map(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(headDim)); // [B, H, T, T]
  // Position t sees positions <= t: -inf (here -1e9) above the diagonal.
  const below = tf.linalg.bandPart(tf.ones([length, length]), -1, 0);
  const masked = tf.add(scores, tf.mul(tf.sub(1, below), -1e9));
  const y = tf.matMul(tf.softmax(masked), v); // [B, H, T, hd]
  const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [batch, length, width]); // [B, T, C]
  return linear(w, merged, `h${i}/attn/c_proj`, scale);
}

/** The MLP of block `i`: `c_proj(gelu(c_fc(x)))`, hidden width 4C. */
function mlp(w: Weights, x: tf.Tensor, i: number): tf.Tensor {
  const scale = w.loraScale(i);
  return linear(w, gelu(linear(w, x, `h${i}/mlp/c_fc`, scale)), `h${i}/mlp/c_proj`, scale);
}

/** Block `i`, pre-LayerNorm: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`. */
function block(w: Weights, x: tf.Tensor, i: number): tf.Tensor {
  const afterAttention = tf.add(x, attention(w, layerNorm(w, x, `h${i}/ln_1`), i));
  return tf.add(afterAttention, mlp(w, layerNorm(w, afterAttention, `h${i}/ln_2`), i));
}

/** The final hidden states: embeddings, every block, `ln_f`. `[B, T]` -> `[B, T, C]`. */
function hiddenStates(w: Weights, ids: tf.Tensor): tf.Tensor {
  let x = embed(w, ids);
  for (let i = 0; i < w.config.numLayers; i++) x = block(w, x, i);
  return layerNorm(w, x, "ln_f");
}

/** `hidden @ table^T`: the head, tied to `wte` unless the model has its own `lm_head`. */
function head(w: Weights, hidden: tf.Tensor): tf.Tensor {
  const table = (w.maybe("lm_head/embeddings") ?? w.get("wte/embeddings")) as tf.Tensor2D; // [V, C]
  const flat = tf.reshape(hidden, [-1, w.config.embeddingDim]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, table, false, true), [...hidden.shape.slice(0, -1), w.config.vocabSize]);
}

function checkIdsShape(ids: tf.Tensor, config: GPTConfig): void {
  const length = ids.shape[1];
  if (ids.dtype !== "int32" || ids.rank !== 2 || length === undefined || length > config.contextLength) {
    throw new LayerConfigError(`ids must be int32 [batch, T] with T <= ${config.contextLength}, received ${ids.dtype} [${ids.shape.join(", ")}]`, "ids");
  }
}

/**
 * The logits `[batch, T, vocabSize]` of a `createGPT` model for int32 ids `[batch, T]`, computed
 * by the plain formulas above from the model's weights (inference: no dropout). Equal to
 * `model.predict(ids)` within float32 rounding.
 *
 * @throws LayerConfigError when the model is not a `createGPT` GPT or the ids do not fit it.
 */
export function referenceForward(model: tf.LayersModel, ids: tf.Tensor): tf.Tensor3D {
  const w = weightsOf(model);
  checkIdsShape(ids, w.config);
  return tf.tidy(() => head(w, hiddenStates(w, ids)) as tf.Tensor3D);
}

/**
 * The mean cross-entropy (nats per token) of int32 `targets` `[batch, T]` given `ids`
 * (`-mean(log softmax(logits)[target])`), differentiable with tfjs's autodiff:
 * `tf.variableGrads(() => referenceLoss(model, ids, targets))` gives the gradient of every weight,
 * equal to the fast path's (`model.trainingLoss`, dropout 0) within float32 rounding.
 */
export function referenceLoss(model: tf.LayersModel, ids: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  const w = weightsOf(model);
  checkIdsShape(ids, w.config);
  return tf.tidy(() => {
    const logits = tf.reshape(head(w, hiddenStates(w, ids)), [-1, w.config.vocabSize]); // [B*T, V]
    const oneHot = tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, w.config.vocabSize);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}
