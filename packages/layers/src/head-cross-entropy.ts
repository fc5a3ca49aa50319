import * as tf from "@tensorflow/tfjs";
import { customGrad } from "./custom-grad.js";
import { gatherRows } from "./gather-rows.js";
import { transposeFlagsAreFast } from "./matmul.js";
import { LayerConfigError } from "./errors.js";
import { HeadKernel, headKernel, headKernelSupported } from "./head-kernel.js";
import { checkIds } from "./token-embedding.js";

/**
 * How `headCrossEntropy` computes: `"kernel"`, our WebAssembly SIMD kernel (`head-kernel.ts`);
 * `"tfjs"`, tfjs ops (one matmul, one softmax, two matmuls back); `"auto"` (default), the kernel
 * on the CPU backends (`wasm`, `cpu`) when the width is a multiple of 8 and the engine runs
 * WebAssembly SIMD, tfjs ops elsewhere (GPU backends, TensorFlow C++).
 */
export type HeadImplementation = "auto" | "kernel" | "tfjs";

/** Every {@link HeadImplementation}. */
export const HEAD_IMPLEMENTATIONS: readonly HeadImplementation[] = ["auto", "kernel", "tfjs"];

/** Backends on which `"auto"` picks the kernel: the ones that compute on this thread's CPU. */
const KERNEL_BACKENDS = new Set(["wasm", "cpu"]);

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
  if (implementation === "tfjs") return false;
  const possible = HeadKernel.supports(dim) && headKernelSupported() && headKernel().fits(tokens, vocab, dim);
  if (implementation === "kernel" && !possible) {
    throw new LayerConfigError(
      `headCrossEntropy: implementation "kernel" needs WebAssembly SIMD, a width that is a multiple of 8 and at most 2 GiB of kernel memory, received width ${dim}, ${tokens} tokens, vocabulary ${vocab}`,
      "implementation",
    );
  }
  return possible && (implementation === "kernel" || KERNEL_BACKENDS.has(tf.getBackend()));
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
    if (usesHeadKernel(implementation, dim, n, vocab)) return kernelHeadCrossEntropy(hidden, table, given, ignoreIndex);
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
    // Index of each label's probability in the flat [N * V] probabilities.
    const flatIndex = tf.add(ids, tf.mul(tf.range(0, n, 1, "int32"), tf.scalar(vocab, "int32"))) as tf.Tensor1D;
    // On TensorFlow and the GPU backends the matmuls take transpose flags instead of copying the
    // [V, C] table and the [C, V] weight gradient (154 MB each for GPT-2's vocabulary at width 768).
    const flags = transposeFlagsAreFast();
    const loss = customGrad<[tf.Tensor, tf.Tensor]>(([h, w], save) => {
      const logits = flags ? tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D, false, true) : tf.matMul(h as tf.Tensor2D, tf.transpose(w as tf.Tensor2D)); // [N, V]
      // One softmax kernel (max-subtract, exp, sum, divide; vectorised on wasm, where Exp is not).
      const probs = tf.softmax(logits); // [N, V]
      const picked = gatherRows(tf.reshape(probs, [-1]), flatIndex); // [N]
      // -log(P[label]), except where P[label] underflowed (a label so unlikely that the loss is
      // > ~69 nats): there the exact logsumexp(z) - z[label], with logsumexp(z) = max(z) -
      // log(max(P)) (the largest probability is >= 1/V, never 0). Chosen on the device with
      // `where`, never read back: no host synchronisation in a training step. Two row
      // reductions over [N, V] (cheap next to the matmuls).
      const exact = tf.sub(tf.sub(tf.max(logits, -1), tf.log(tf.max(probs, -1))), gatherRows(tf.reshape(logits, [-1]), flatIndex));
      const trusted = tf.greater(picked, SMALLEST_TRUSTED_PROBABILITY);
      const losses = tf.where(trusted, tf.neg(tf.log(tf.maximum(picked, SMALLEST_TRUSTED_PROBABILITY))), exact);
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
