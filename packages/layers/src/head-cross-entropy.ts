import * as tf from "@tensorflow/tfjs";
import { customGrad } from "./custom-grad.js";
import { gatherRows } from "./gather-rows.js";
import { transposeFlagsAreFast } from "./matmul.js";
import { crossEntropyGrad, gpuCrossEntropyBackend, rowLogSumExp } from "./gpu-cross-entropy.js";
import { LayerConfigError } from "./errors.js";
import { HeadKernel, headKernel, headKernelSupported } from "./head-kernel.js";
import { checkIds } from "./token-embedding.js";

/**
 * How `headCrossEntropy` computes: `"kernel"`, our WebAssembly SIMD kernel (`head-kernel.ts`);
 * `"tfjs"`, tfjs ops (one matmul, one softmax, two matmuls back; the `[N, V]` logits and
 * probabilities live at once); `"chunked"`, the same tfjs ops over chunks of token rows, each
 * chunk's logits computed again in the backward pass (at most ~16M logits, 64 MiB, live at once,
 * for one more `[N, C] @ [C, V]` matmul); `"auto"` (default), the kernel on the CPU backends
 * (`wasm`, `cpu`) when the width is a multiple of 8 and the engine runs WebAssembly SIMD; on the
 * GPU backends (webgl, webgpu, TensorFlow on CUDA) `"chunked"` when the `[N, V]` logits would
 * pass 256 MiB; tfjs ops elsewhere. On webgpu and webgl, `"tfjs"` and `"chunked"` take the
 * softmax cross-entropy from two custom kernels (gpu-cross-entropy.ts: a row log-sum-exp, and the
 * gradient `softmax - onehot` in one pass) instead of tfjs's softmax and reductions.
 */
export type HeadImplementation = "auto" | "kernel" | "tfjs" | "chunked";

/** Every {@link HeadImplementation}. */
export const HEAD_IMPLEMENTATIONS: readonly HeadImplementation[] = ["auto", "kernel", "tfjs", "chunked"];

/** Backends on which `"auto"` picks the kernel: the ones that compute on this thread's CPU. */
const KERNEL_BACKENDS = new Set(["wasm", "cpu"]);

/** Logits of one `"chunked"` chunk (float32: 64 MiB). */
const CHUNK_LOGITS = 2 ** 24;

/** Above this many `[N, V]` logits (float32: 256 MiB), `"auto"` chunks on a GPU backend. */
const AUTO_CHUNK_LOGITS = 2 ** 26;

/** Whether the active backend computes on a GPU (where memory, not arithmetic, bounds the head). */
function onGpu(): boolean {
  const name = tf.getBackend();
  if (name === "webgl" || name === "webgpu") return true;
  return name === "tensorflow" && (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
}

/**
 * Whether `implementation` resolves to the kernel for a `[vocab, dim]` table on the current
 * backend (and, given `tokens`, whether that many fit the kernel's 2 GiB memory).
 */
export function usesHeadKernel(implementation: HeadImplementation, dim: number, tokens = 1, vocab = 1): boolean {
  if (!HEAD_IMPLEMENTATIONS.includes(implementation)) {
    throw new LayerConfigError(
      `headCrossEntropy: \`implementation\` must be one of ${HEAD_IMPLEMENTATIONS.map((i) => `"${i}"`).join(", ")}, received ${JSON.stringify(implementation)}`,
      "implementation",
    );
  }
  if (implementation === "tfjs" || implementation === "chunked") return false;
  const possible = HeadKernel.supports(dim) && headKernelSupported() && headKernel().fits(tokens, vocab, dim);
  if (implementation === "kernel" && !possible) {
    throw new LayerConfigError(
      `headCrossEntropy: implementation "kernel" needs WebAssembly SIMD, a width that is a multiple of 8 and at most 2 GiB of kernel memory, received width ${dim}, ${tokens} tokens, vocabulary ${vocab}`,
      "implementation",
    );
  }
  return possible && (implementation === "kernel" || KERNEL_BACKENDS.has(tf.getBackend()));
}

/** Which path `implementation` takes for `tokens` rows of a `[vocab, dim]` table on the current backend. */
export function headPath(implementation: HeadImplementation, dim: number, tokens: number, vocab: number): "kernel" | "tfjs" | "chunked" {
  if (usesHeadKernel(implementation, dim, tokens, vocab)) return "kernel";
  if (implementation === "chunked") return "chunked";
  return implementation === "auto" && onGpu() && tokens * vocab > AUTO_CHUNK_LOGITS ? "chunked" : "tfjs";
}

/**
 * Below this probability of the label, `-log(p)` is no longer trusted (float32 denormals start
 * at ~1.2e-38); such rows, whose loss is > ~69 nats, take the exact `logsumexp - z[label]` path.
 */
const SMALLEST_TRUSTED_PROBABILITY = 1e-30;

/** The probabilities of the last taped forward pass until its gradient consumes them. */
let pendingProbs: tf.Tensor | null = null;

/**
 * The output head and the cross-entropy as one operation: the mean over tokens of
 * `logsumexp(hidden @ table^T) - (hidden @ table^T)[label]`, i.e. what
 * `mean(sparseCrossEntropyFromLogits(labels, head(hidden)))` computes, with its own gradient.
 *
 * Why: the head's `[tokens, vocab]` logits dominate a small GPT's step. Here they cost one matmul,
 * one softmax kernel and nothing else. Forward keeps only the probabilities `P` (`[N, V]`), and
 * the loss is `-log(P[label])` (a gather of N values). Backward never touches `[N, V]`
 * elementwise: with `G = (P - onehot) / N`,
 *
 *     dHidden = G @ table            = (P @ table - table[labels]) / N        ([N, V] @ [V, C])
 *     dTable  = G^T @ hidden         = (hidden / N)^T @ P, transposed, minus a scatter of hidden / N
 *
 * so the one-hot and the `1/N` scale are applied to `[N, C]` and `[V, C]` tensors, and the only
 * `[N, V]` work left is the two matmuls that read `P`. No matmul uses tfjs's transpose flags
 * (~10x slower on wasm): the small operands (`table`, `hidden`) are transposed explicitly, the
 * `[C, V]` weight gradient is transposed to `[V, C]` (cheap next to `[N, V]`).
 *
 * @param hidden float32 `[N, C]`: the final hidden states of N tokens.
 * @param table float32 `[V, C]`: the output head's weights, e.g. the tied token embedding table.
 * @param labels int32 `[N]`: each token's target id in `[0, V)`; other dtypes are cast.
 * @param implementation the kernel or tfjs ops (see {@link HeadImplementation}); default `"auto"`.
 * @param ignoreIndex labels equal to it (e.g. -100) are left out: the loss is the mean over the
 *   other tokens (0 when there are none), and ignored tokens get no gradient. Default: none.
 * @param chunkRows token rows per chunk of the `"chunked"` path. Default: as many as keep a
 *   chunk's logits under 16M (64 MiB).
 * @returns the mean loss, a scalar, differentiable with respect to `hidden` and `table`.
 * @throws LayerConfigError when the shapes disagree or a label is outside `[0, V)`.
 * @example
 * const loss = headCrossEntropy(tf.randomNormal([512, 64]), table.read(), labels); // scalar
 */
export function headCrossEntropy(
  hidden: tf.Tensor2D,
  table: tf.Tensor2D,
  labels: tf.Tensor,
  implementation: HeadImplementation = "auto",
  ignoreIndex?: number,
  chunkRows?: number,
): tf.Scalar {
  if (hidden.rank !== 2 || table.rank !== 2 || hidden.shape[1] !== table.shape[1]) {
    throw new LayerConfigError(
      `headCrossEntropy: hidden [${hidden.shape.join(", ")}] and table [${table.shape.join(", ")}] must be [N, C] and [V, C]`,
      "hidden",
    );
  }
  const [n, dim] = hidden.shape;
  const vocab = table.shape[0];
  if (labels.size !== n) {
    throw new LayerConfigError(`headCrossEntropy: ${labels.size} labels for ${n} hidden states`, "labels");
  }
  // On the labels as given (a range recorded for them on the host spares reading them back).
  checkIds(labels, vocab, "label", ignoreIndex);
  return tf.tidy(() => {
    const given = (labels.dtype === "int32" ? tf.reshape(labels, [n]) : tf.cast(tf.reshape(labels, [n]), "int32")) as tf.Tensor1D;
    const path = headPath(implementation, dim, n, vocab);
    if (path === "kernel") return kernelHeadCrossEntropy(hidden, table, given, ignoreIndex);
    // With an ignore index: ignored tokens take label 0 (any valid id) and weight 0; the others
    // weight 1 / (tokens kept), so the loss is their mean. All on the device: no read-back.
    let ids = given;
    let weights: tf.Tensor1D | null = null;
    if (ignoreIndex !== undefined) {
      const keep = tf.notEqual(given, tf.scalar(ignoreIndex, "int32"));
      ids = tf.where(keep, given, tf.zerosLike(given)) as tf.Tensor1D;
      const mask = tf.cast(keep, "float32");
      weights = tf.div(mask, tf.maximum(tf.sum(mask), 1)) as tf.Tensor1D;
    }
    if (path === "tfjs" && gpuCrossEntropyBackend() !== null) return gpuHeadCrossEntropy(hidden, table, ids, weights);
    if (path === "chunked") return chunkedHeadCrossEntropy(hidden, table, ids, weights, chunkRows ?? Math.max(1, Math.floor(CHUNK_LOGITS / vocab)));
    const flags = transposeFlagsAreFast();
    const loss = customGrad<[tf.Tensor, tf.Tensor]>(([h, w], save) => {
      const logits = headLogits(h as tf.Tensor2D, w as tf.Tensor2D, flags); // [N, V]
      const { probs, losses } = tokenLosses(logits, ids);
      logits.dispose(); // before the tidy ends: the [N, V] logits are not needed any longer
      // `save` would copy the [N, V] probabilities (wasm's Identity is a memcpy, ~25 ms for the
      // tiny preset); they are kept instead and handed to the gradient, which disposes them. Only
      // while a gradient tape records this call (otherwise no gradient will ever dispose them);
      // a kept tensor that no gradient consumed is dropped by the next call.
      pendingProbs?.dispose();
      pendingProbs = null;
      const state = tf.engine().state;
      const taped = state.gradientDepth > 0 && state.kernelDepth === 1;
      if (taped) pendingProbs = tf.keep(probs);
      const keptProbs = pendingProbs;
      save(weights === null ? [h, w, ids] : [h, w, ids, weights]);
      return {
        value: weights === null ? tf.mean(losses) : tf.sum(tf.mul(losses, weights)),
        gradFunc: (dy, saved) => {
          const [hs, ws, y, wt] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D | undefined];
          if (keptProbs === null || keptProbs.isDisposed) throw new Error("headCrossEntropy: gradient without the probabilities of its forward pass");
          const p = keptProbs as tf.Tensor2D;
          if (pendingProbs === keptProbs) pendingProbs = null;
          // d(mean)/d(loss_i) times the upstream gradient: 1/N each, or each token's weight [N, 1].
          const scale = wt === undefined ? tf.div(dy, n) : tf.reshape(tf.mul(wt, dy), [n, 1]);
          const hScaled = tf.mul(hs, scale); // [N, C]
          const dh = tf.mul(tf.sub(tf.matMul(p, ws), gatherRows(ws, y)), scale); // [N, C]
          const pTh = flags
            ? tf.matMul(p, hScaled, true, false) // [N, V]^T @ [N, C] -> [V, C]
            : tf.transpose(tf.matMul(tf.transpose(hScaled), p)); // ([C, N] @ [N, V])^T -> [V, C]
          const dw = tf.sub(pTh, tf.scatterND(tf.expandDims(y, 1), hScaled, [vocab, dim])); // [V, C]
          p.dispose();
          return [dh, dw];
        },
      };
    });
    return loss(hidden, table) as tf.Scalar;
  });
}

/**
 * `hidden @ table^T`. On TensorFlow and the GPU backends the matmul takes a transpose flag instead
 * of copying the `[V, C]` table (154 MB for GPT-2's vocabulary at width 768).
 */
function headLogits(hidden: tf.Tensor2D, table: tf.Tensor2D, flags: boolean): tf.Tensor2D {
  return flags ? tf.matMul(hidden, table, false, true) : tf.matMul(hidden, tf.transpose(table));
}

/** The probabilities of `[R, V]` logits and each row's loss `-log P[label]`, `[R]`. */
function tokenLosses(logits: tf.Tensor2D, ids: tf.Tensor1D): { probs: tf.Tensor2D; losses: tf.Tensor1D } {
  const [rows, vocab] = logits.shape;
  // Index of each label's probability in the flat [R * V] probabilities.
  const flatIndex = tf.add(ids, tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(vocab, "int32"))) as tf.Tensor1D;
  // One softmax kernel (max-subtract, exp, sum, divide; vectorised on wasm, where Exp is not).
  const probs = tf.softmax(logits); // [R, V]
  const picked = gatherRows(tf.reshape(probs, [-1]), flatIndex); // [R]
  // -log(P[label]), except where P[label] underflowed (a label so unlikely that the loss is
  // > ~69 nats): there the exact logsumexp(z) - z[label], with logsumexp(z) = max(z) -
  // log(max(P)) (the largest probability is >= 1/V, never 0). Chosen on the device with
  // `where`, never read back: no host synchronisation in a training step. Two row
  // reductions over [R, V] (cheap next to the matmuls).
  const exact = tf.sub(tf.sub(tf.max(logits, -1), tf.log(tf.max(probs, -1))), gatherRows(tf.reshape(logits, [-1]), flatIndex));
  const trusted = tf.greater(picked, SMALLEST_TRUSTED_PROBABILITY);
  const losses = tf.where(trusted, tf.neg(tf.log(tf.maximum(picked, SMALLEST_TRUSTED_PROBABILITY))), exact) as tf.Tensor1D;
  return { probs, losses };
}

/**
 * Each row's loss `lse - z[label]` from `[R, V]` logits and their row log-sum-exp (exact also
 * where the label's probability underflows).
 */
function lossesFromLogSumExp(logits: tf.Tensor2D, lse: tf.Tensor1D, ids: tf.Tensor1D): tf.Tensor1D {
  const [rows, vocab] = logits.shape;
  const flatIndex = tf.add(ids, tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(vocab, "int32"))) as tf.Tensor1D;
  return tf.sub(lse, gatherRows(tf.reshape(logits, [-1]), flatIndex)) as tf.Tensor1D;
}

/** Each token's factor in the gradient, `[N]`: `dy / N`, or its weight times `dy`. */
function tokenScale(dy: tf.Tensor, weights: tf.Tensor1D | undefined, n: number): tf.Tensor1D {
  return tf.mul(weights ?? tf.fill([n], 1 / n), dy) as tf.Tensor1D;
}

/**
 * The `"tfjs"` path on webgpu and webgl, with the custom kernels of gpu-cross-entropy.ts: the
 * forward pass keeps the `[N, V]` logits and each row's log-sum-exp (no probabilities), the
 * backward pass makes `G = (softmax - onehot) * scale` in one kernel and multiplies it out.
 */
function gpuHeadCrossEntropy(hidden: tf.Tensor2D, table: tf.Tensor2D, ids: tf.Tensor1D, weights: tf.Tensor1D | null): tf.Scalar {
  const n = hidden.shape[0];
  const loss = customGrad<[tf.Tensor, tf.Tensor]>(([h, w], save) => {
    const logits = headLogits(h as tf.Tensor2D, w as tf.Tensor2D, true); // [N, V]
    const lse = rowLogSumExp(logits);
    const losses = lossesFromLogSumExp(logits, lse, ids);
    // On these backends `save` shares the data (Identity adds a reference): no copy of the logits.
    save(weights === null ? [h, w, ids, logits, lse] : [h, w, ids, logits, lse, weights]);
    return {
      value: weights === null ? tf.mean(losses) : tf.sum(tf.mul(losses, weights)),
      gradFunc: (dy, saved) => {
        const [hs, ws, y, z, l, wt] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D | undefined];
        const g = crossEntropyGrad(z, l, y, tokenScale(dy, wt, n)); // [N, V]
        return [tf.matMul(g, ws), tf.matMul(g, hs, true, false)];
      },
    };
  });
  return loss(hidden, table) as tf.Scalar;
}

/**
 * `headCrossEntropy` over chunks of `rows` token rows: each chunk's logits are made, reduced to
 * their row log-sum-exp (kept, `[N]`) and dropped in turn; the backward pass computes each chunk's
 * logits again (one more `[N, C] @ [C, V]` matmul) and turns them into `G = (softmax - onehot) *
 * scale` (`crossEntropyGrad`: one custom kernel on webgpu and webgl, tfjs ops elsewhere), so at
 * most one chunk's `[rows, V]` matrices live at a time instead of the whole `[N, V]` logits and
 * probabilities. `ids` are valid labels (ignored ones already 0), `weights` each token's weight
 * in the loss (`null`: the mean).
 */
function chunkedHeadCrossEntropy(hidden: tf.Tensor2D, table: tf.Tensor2D, ids: tf.Tensor1D, weights: tf.Tensor1D | null, rows: number): tf.Scalar {
  if (!Number.isInteger(rows) || rows < 1) throw new LayerConfigError(`headCrossEntropy: \`chunkRows\` must be a positive integer, received ${rows}`, "chunkRows");
  const [n, dim] = hidden.shape;
  const flags = transposeFlagsAreFast();
  const chunks: Array<[number, number]> = [];
  for (let start = 0; start < n; start += rows) chunks.push([start, Math.min(rows, n - start)]);
  const loss = customGrad<[tf.Tensor, tf.Tensor]>(([h, w], save) => {
    const perChunk = chunks.map(([start, size]) =>
      tf.tidy(() => {
        const logits = headLogits(tf.slice(h as tf.Tensor2D, [start, 0], [size, dim]), w as tf.Tensor2D, flags);
        const lse = rowLogSumExp(logits);
        return [lse, lossesFromLogSumExp(logits, lse, tf.slice(ids, [start], [size]))];
      }),
    );
    const lse = tf.concat(perChunk.map(([l]) => l as tf.Tensor1D));
    const losses = tf.concat(perChunk.map(([, x]) => x as tf.Tensor1D));
    // The labels and weights are the caller's tidy's: saved, so that the gradient still has them.
    save(weights === null ? [h, w, ids, lse] : [h, w, ids, lse, weights]);
    return {
      value: weights === null ? tf.mean(losses) : tf.sum(tf.mul(losses, weights)),
      gradFunc: (dy, saved) => {
        const [hs, ws, y, l, wt] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D | undefined];
        const scale = tokenScale(dy, wt, n);
        const dh: tf.Tensor[] = [];
        let dw: tf.Tensor | null = null;
        for (const [start, size] of chunks) {
          const [dhChunk, dwSum] = tf.tidy(() => {
            const hc = tf.slice(hs, [start, 0], [size, dim]);
            const g = crossEntropyGrad(headLogits(hc, ws, flags), tf.slice(l, [start], [size]), tf.slice(y, [start], [size]), tf.slice(scale, [start], [size])); // [rows, V]
            const part = flags ? tf.matMul(g, hc, true, false) : tf.transpose(tf.matMul(tf.transpose(hc), g)); // [V, C]
            return [tf.matMul(g, ws), dw === null ? part : tf.add(dw, part)];
          });
          dw?.dispose();
          dw = dwSum as tf.Tensor;
          dh.push(dhChunk as tf.Tensor);
        }
        scale.dispose();
        return [tf.concat(dh), dw as tf.Tensor];
      },
    };
  });
  return loss(hidden, table) as tf.Scalar;
}

/**
 * `headCrossEntropy` on the kernel: the forward pass computes the per-token losses there, the
 * gradient asks the kernel for `dHidden` and `dTable` (recomputing the logits tile by tile). The
 * inputs' values are read once; if another call used the kernel in between, the gradient lays
 * them out again.
 */
function kernelHeadCrossEntropy(hidden: tf.Tensor2D, table: tf.Tensor2D, ids: tf.Tensor1D, ignoreIndex?: number): tf.Scalar {
  const [n, dim] = hidden.shape;
  const vocab = table.shape[0];
  const given = ids.dataSync() as Int32Array;
  // Each token's weight in the mean: 1/N, or with an ignore index 1/(tokens kept) and 0 for the
  // ignored ones, whose label becomes 0 (any valid id) for the kernel.
  const weights = new Float32Array(n);
  let labels = given;
  if (ignoreIndex !== undefined) {
    labels = given.slice();
    let kept = 0;
    for (let i = 0; i < n; i++) if (given[i] !== ignoreIndex) kept++;
    for (let i = 0; i < n; i++) {
      const ignored = given[i] === ignoreIndex;
      weights[i] = ignored ? 0 : 1 / Math.max(kept, 1);
      if (ignored) labels[i] = 0;
    }
  }
  const loss = customGrad<[tf.Tensor, tf.Tensor]>(([h, w]) => {
    const hData = h.dataSync() as Float32Array;
    const wData = w.dataSync() as Float32Array;
    const kernel = headKernel();
    const forward = kernel.forward(hData, wData, labels, n, vocab, dim);
    let sum = 0;
    if (ignoreIndex === undefined) {
      for (const value of forward.losses) sum += value;
      sum /= n;
    } else {
      for (let i = 0; i < n; i++) sum += (forward.losses[i] as number) * (weights[i] as number);
    }
    return {
      value: tf.scalar(sum),
      gradFunc: (dy) => {
        if (!kernel.holds(forward)) kernel.forward(hData, wData, labels, n, vocab, dim);
        const upstream = dy.dataSync()[0] as number;
        const perToken = ignoreIndex === undefined ? new Float32Array(n).fill(upstream / n) : weights.map((w) => w * upstream);
        const { dHidden, dTable } = kernel.backward(perToken);
        return [tf.tensor2d(dHidden, [n, dim]), tf.tensor2d(dTable, [vocab, dim])];
      },
    };
  });
  return loss(hidden, table) as tf.Scalar;
}

