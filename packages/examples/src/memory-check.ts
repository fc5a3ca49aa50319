/**
 * Will one training step fit? Checked before the first step, from the model's shape and the
 * batch: weights, gradients and Adam's moments (`trainingStateBytes`), plus the activations the
 * tape keeps until the backward pass: per layer the attention scores, their softmax (and dropout
 * masks), `[B*H, T, T]` each, the `[B*T, C]`-sized tensors of the block, and the head's
 * `[B*T, V]` probabilities (the fused head keeps one such tensor; the unfused one logits, softmax
 * and gradient). It is an estimate within a small factor, meant to refuse what cannot work (a
 * tfjs-wasm heap has 4 GiB at most and spins instead of failing when it runs out) with the numbers,
 * not to predict a peak to the byte.
 */
import os from "node:os";
import type { ParamSplit } from "@tfgpt/layers";
import { trainingStateBytes } from "@tfgpt/layers/internal";
import { UsageError } from "./errors.js";

/** The shape of a step. */
export interface StepShape {
  /** Parameters, all trainable; or trainable and frozen ones (LoRA: a frozen weight needs no gradient or moments). */
  readonly params: number | ParamSplit;
  readonly batchSize: number;
  readonly context: number;
  readonly vocabSize: number;
  readonly embeddingDim: number;
  readonly numHeads: number;
  readonly numLayers: number;
  readonly dropout: number;
}

/** An estimate of a training step's memory, in bytes, by part. */
export interface StepMemory {
  readonly state: number;
  readonly attention: number;
  readonly blocks: number;
  readonly head: number;
  readonly total: number;
}

/** Float32 `[B*T, C]`-sized tensors a transformer block keeps for its backward pass (qkv, heads, MLP, norms). */
const BLOCK_TENSORS_PER_WIDTH = 24;

/** Estimates the memory of one training step of `shape` (see the module comment). */
export function estimateStepMemory(shape: StepShape): StepMemory {
  const { batchSize: b, context: t, vocabSize: v, embeddingDim: c, numHeads: h, numLayers: l, dropout } = shape;
  const scores = 4 * b * h * t * t; // one [B*H, T, T] float32 tensor
  // Kept per layer: the scores matmul, the masked scores, the softmax (+ mask and output of dropout);
  // while one layer runs backward, two more of the same size.
  const attention = scores * (l * (3 + (dropout > 0 ? 2 : 0)) + 2) + scores; // + the cached causal mask
  const blocks = 4 * b * t * c * BLOCK_TENSORS_PER_WIDTH * l;
  const head = 4 * b * t * v * 2; // probabilities + their gradient's working copy
  const state = trainingStateBytes(shape.params);
  return { state, attention, blocks, head, total: state + attention + blocks + head };
}

/** What the wasm backend may use for a step: its heap is at most 4 GiB; the rest is slack. */
export const WASM_STEP_LIMIT = 3 * 2 ** 30;

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;
}

/**
 * Refuses, with the numbers, a step that cannot fit: on `wasm` more than {@link WASM_STEP_LIMIT};
 * on `cpu` and `tensorflow` more than 90% of this machine's memory.
 *
 * @param backend `tf.getBackend()`.
 * @param what how the run was given, for the message (e.g. `--context 12000 --batch-size 1`).
 * @throws UsageError naming the sizes and what to change.
 */
export function checkStepMemory(shape: StepShape, backend: string, what: string, totalMemory = os.totalmem()): StepMemory {
  const memory = estimateStepMemory(shape);
  const limit = backend === "wasm" ? WASM_STEP_LIMIT : backend === "cpu" || backend === "tensorflow" ? 0.9 * totalMemory : Infinity;
  if (memory.total <= limit) return memory;
  const where = backend === "wasm" ? `the wasm backend (its heap holds 4 GiB; a step may use ${gib(limit)})` : `this machine's memory (${gib(totalMemory)})`;
  throw new UsageError(
    `${what}: one training step needs about ${gib(memory.total)}, more than ${where}: ` +
      `attention ${gib(memory.attention)} (${shape.numLayers} layers x ${shape.batchSize * shape.numHeads} heads x ${shape.context}^2), ` +
      `head ${gib(memory.head)} ([${shape.batchSize * shape.context} tokens, ${shape.vocabSize}]), other activations ${gib(memory.blocks)}, ` +
      `weights + gradients + Adam ${gib(memory.state)}; lower --context or --batch-size` +
      (backend === "wasm" ? ", or use --backend tensorflow" : ""),
  );
}
