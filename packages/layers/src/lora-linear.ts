/**
 * The math of a low-rank adapter (LoRA, appendix E of "LLMs from scratch"; Hu et al. 2021) on one
 * `[in, out]` kernel, and the projection the GPT blocks compute with it:
 *
 *     y = x @ W + b + (alpha / r) * (dropout(x) @ A) @ B        A: [in, r], B: [r, out]
 *
 * `B` starts at zero, so an adapted layer starts equal to its base. The model-level API
 * (`applyLoRA`, `mergeLoRA`, adapter files) is in `lora.ts`.
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { customGrad } from "./custom-grad.js";
import { linear, maybeDropout } from "./functional.js";
import type { Initializer } from "./initializers.js";
import { matMul, transposeFlagsAreFast } from "./matmul.js";

/** The four kernels of a GPT-2 block that LoRA can adapt, by their path inside the block. */
export const LORA_KERNELS = ["attn/c_attn", "attn/c_proj", "mlp/c_fc", "mlp/c_proj"] as const;
/** One of `LORA_KERNELS`. */
export type LoRAKernel = (typeof LORA_KERNELS)[number];

/** `[in, out]` of a block kernel for a residual width `C`. */
export function loraKernelShape(kernel: LoRAKernel, embeddingDim: number): [number, number] {
  const c = embeddingDim;
  switch (kernel) {
    case "attn/c_attn":
      return [c, 3 * c];
    case "attn/c_proj":
      return [c, c];
    case "mlp/c_fc":
      return [c, 4 * c];
    case "mlp/c_proj":
      return [4 * c, c];
  }
}

/** The LoRA settings one `TransformerBlock` carries in its config (resolved: which kernels, rank, alpha, dropout). */
export const BlockLoRASchema = z.strictObject({
  rank: z.number().int().positive().describe("a positive integer"),
  alpha: z.number().positive().describe("a positive number"),
  dropout: z.number().min(0).lt(1).describe("a number in [0, 1)"),
  // tfjs's config deserialization camel-cases string values ("mlp/c_fc" -> "mlp/cFc"): undone here.
  kernels: z
    .array(z.preprocess((k) => (typeof k === "string" ? k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`) : k), z.enum(LORA_KERNELS)))
    .min(1)
    .describe(`a non-empty list of ${LORA_KERNELS.join(", ")}`),
});
/** A block's LoRA settings. */
export type BlockLoRA = z.output<typeof BlockLoRASchema>;

/** Names of a kernel's adapter weights inside its block (`attn/c_attn/lora_a`, `.../lora_b`). */
export function adapterWeightNames(kernel: LoRAKernel): { a: string; b: string } {
  return { a: `${kernel}/lora_a`, b: `${kernel}/lora_b` };
}

/** Whether a weight (by name or path) is a LoRA adapter matrix. */
export function isLoRAWeightName(name: string): boolean {
  return /\/lora_[ab](_\d+)?$/.test(name);
}

/**
 * The initializer of `A [in, r]` as the book does it: `torch.nn.init.kaiming_uniform_(A, a=sqrt(5))`
 * on a tensor created as `[in_dim, rank]`, whose fan-in (its second axis) is the rank: uniform in
 * `[-1/sqrt(r), 1/sqrt(r)]` (`bound = sqrt(6 / ((1 + a^2) fan_in))`).
 */
export function loraAInitializer(rank: number, seed?: number): Initializer {
  const bound = Math.sqrt(6 / ((1 + 5) * rank));
  return tf.initializers.randomUniform({ minval: -bound, maxval: bound, ...(seed !== undefined ? { seed } : {}) });
}

/** The tensors of one adapter, as a projection reads them. */
export interface LoRAWeights {
  /** `[in, r]`. */
  readonly a: tf.Tensor2D;
  /** `[r, out]`. */
  readonly b: tf.Tensor2D;
  /** `alpha / r`. */
  readonly scale: number;
  /** Dropout on the adapter's input, in training only. */
  readonly dropout: number;
}

/** One `[in, out]` projection of a block: its kernel and bias, whether they are frozen, and its adapter. */
export interface Projection {
  readonly kernel: tf.Tensor2D;
  readonly bias: tf.Tensor1D | null;
  /** Kernel and bias are not trained: the backward pass computes no `[in, out]` kernel gradient. Default false. */
  readonly frozen?: boolean;
  readonly lora?: LoRAWeights | null;
}

/**
 * `x @ kernel + bias` for a kernel and bias that are not trained: the gradient flows to `x` only
 * (`dx = dy @ kernel^T`); the `[in, out]` kernel gradient that `linear` computes is never made.
 */
export function frozenLinear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D | null): tf.Tensor2D {
  const flags = transposeFlagsAreFast();
  const f = customGrad<[tf.Tensor]>(([xi]) => ({
    value: bias === null ? tf.matMul(xi as tf.Tensor2D, kernel) : tf.fused.matMul({ a: xi as tf.Tensor2D, b: kernel, bias }),
    gradFunc: (dy) => (flags ? tf.matMul(dy as tf.Tensor2D, kernel, false, true) : tf.matMul(dy as tf.Tensor2D, tf.transpose(kernel))),
  }));
  return f(x) as tf.Tensor2D;
}

/**
 * A block projection `[N, in] -> [N, out]`: `x @ W + b`, plus `(alpha/r) (dropout(x) @ A) @ B`
 * when it has an adapter. The low-rank path never forms an `[in, out]` matrix: it costs
 * `N r (in + out)` multiply-adds each way.
 */
export function project(x: tf.Tensor2D, p: Projection, training: boolean): tf.Tensor2D {
  const base = p.frozen === true ? frozenLinear(x, p.kernel, p.bias) : linear(x, p.kernel, p.bias);
  const lora = p.lora;
  if (lora == null) return base;
  const xa = matMul(maybeDropout(x, lora.dropout, training) as tf.Tensor2D, lora.a); // [N, r]
  return tf.add(base, matMul(tf.mul(xa, lora.scale) as tf.Tensor2D, lora.b)) as tf.Tensor2D; // [N, out]
}

/** `W + (alpha/r) A @ B`: the kernel an adapter is equivalent to (what `mergeLoRA` writes). */
export function mergedKernel(kernel: tf.Tensor2D, lora: Pick<LoRAWeights, "a" | "b" | "scale">): tf.Tensor2D {
  return tf.tidy(() => tf.add(kernel, tf.mul(tf.matMul(lora.a, lora.b), lora.scale)) as tf.Tensor2D);
}
