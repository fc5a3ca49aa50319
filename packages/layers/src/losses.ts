import * as tf from "@tensorflow/tfjs";
import { customGrad } from "./custom-grad.js";
import { gatherRows } from "./gather-rows.js";
import { LayerConfigError } from "./errors.js";
import { checkIds } from "./token-embedding.js";

/**
 * Cross-entropy of integer labels against unnormalised logits, per position: for logits
 * `[..., V]` and labels `[...]` (or `[..., 1]`, as Keras passes them) it returns `[...]` losses
 * `logsumexp(logits) - logits[label]`. Usable directly in `model.compile({loss})`, where tfjs
 * averages it.
 *
 * Why not tfjs's `sparseCategoricalCrossentropy`: it wants probabilities and one-hots the
 * vocabulary. Here the forward pass is one softmax kernel and two row maxima over `[tokens, V]`
 * (wasm has no LogSoftmax kernel, and its Exp is unvectorised), the label logit is a gather, and
 * the gradient `softmax - onehot` is formed from the saved softmax with the labels written in by
 * a scatter, never as a one-hot.
 *
 * A `GPTModel` compiled with this loss does not call it while training: it computes the head and
 * this loss together with `headCrossEntropy` (same values and gradients, faster).
 *
 * @param yTrue int ids in `[0, V)`, shape `[...]` or `[..., 1]`; float labels are cast.
 * @param yPred logits `[..., V]`.
 * @param options `ignoreIndex`: labels equal to it (e.g. -100, PyTorch's default) get loss 0 and
 *   no gradient; `maskedCrossEntropy` averages over the others.
 * @example
 * model.compile({ optimizer: tf.train.adam(3e-4), loss: sparseCrossEntropyFromLogits });
 */
export function sparseCrossEntropyFromLogits(yTrue: tf.Tensor, yPred: tf.Tensor, options: CrossEntropyOptions = {}): tf.Tensor {
  const { ignoreIndex } = options;
  const vocab = yPred.shape[yPred.rank - 1] as number;
  const outShape = yPred.shape.slice(0, -1);
  const count = outShape.reduce((a, b) => a * b, 1);
  if (yTrue.size !== count) {
    throw new LayerConfigError(
      `sparseCrossEntropyFromLogits: labels of shape [${yTrue.shape.join(", ")}] do not match logits of shape [${yPred.shape.join(", ")}]`,
      "yTrue",
    );
  }
  checkIds(yTrue, vocab, "label", ignoreIndex); // as given: a range recorded for it spares reading it back
  return tf.tidy(() => {
    const given = yTrue.dtype === "int32" ? tf.reshape(yTrue, [count]) : tf.cast(tf.reshape(yTrue, [count]), "int32");
    // Ignored positions take label 0 (any valid id) and are zeroed below, value and gradient.
    const keep = ignoreIndex === undefined ? null : tf.notEqual(given, tf.scalar(ignoreIndex, "int32"));
    const labels = keep === null ? given : tf.where(keep, given, tf.zerosLike(given));
    // Index of each label logit in the flat [count * V] logits.
    const flatIndex = tf.add(labels, tf.mul(tf.range(0, count, 1, "int32"), tf.scalar(vocab, "int32"))) as tf.Tensor1D;
    const rowAndLabel = tf.stack([tf.range(0, count, 1, "int32"), labels], 1) as tf.Tensor2D; // [N, 2]
    const loss = customGrad<[tf.Tensor]>(([logits], save) => {
      // One softmax kernel (fused max-subtract, exp, sum, divide; vectorised on wasm, where a
      // bare Exp is several times slower). The loss is logsumexp(z) - z[label], with
      // logsumexp(z) = max(z) + log(sum(exp(z - max))) and sum(exp(z - max)) = 1 / max(p):
      // the largest probability is exp(0) / sum, and it is >= 1/V, so the log never sees 0.
      const probs = tf.softmax(logits); // [N, V]
      const maxLogit = tf.max(logits, -1); // [N]
      const logSum = tf.neg(tf.log(tf.max(probs, -1))); // [N]
      const picked = gatherRows(tf.reshape(logits, [-1]), flatIndex); // [N]
      save([probs, flatIndex, rowAndLabel]);
      return {
        value: tf.add(tf.sub(maxLogit, picked), logSum),
        gradFunc: (dy, saved) => {
          const [p, index, where] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
          // (softmax - onehot) * dy: scale the probabilities, then write (p - 1) * dy at the labels.
          // On the CPU backends, where reading dy is a copy, a uniform dy (the usual case: tfjs's
          // mean) scales by a scalar (wasm broadcasts [N, 1] slowly); elsewhere dy is not read back.
          const dyValues = CPU_BACKENDS.has(tf.getBackend()) ? dy.dataSync() : null;
          const uniform = dyValues !== null && dyValues.every((v) => v === dyValues[0]);
          const grad = uniform ? tf.mul(p, tf.scalar(dyValues[0] ?? 0)) : tf.mul(p, tf.reshape(dy, [count, 1]));
          const atLabel = tf.sub(gatherRows(tf.reshape(grad, [-1]), index), tf.reshape(dy, [count])); // (p - 1) * dy
          return tf.tensorScatterUpdate(grad, where, atLabel);
        },
      };
    });
    const losses = loss(tf.reshape(yPred, [count, vocab]));
    return tf.reshape(keep === null ? losses : tf.mul(losses, tf.cast(keep, "float32")), outShape);
  });
}

/** Options of the cross-entropy losses. */
export interface CrossEntropyOptions {
  /** Targets equal to this id are left out (loss 0, no gradient). Default: none. */
  readonly ignoreIndex?: number;
}

/**
 * The mean cross-entropy over the targets that are not `ignoreIndex` (PyTorch's
 * `cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)`), a scalar; 0 when
 * every target is ignored. Computed on the device: no read-back.
 *
 * @param yTrue int ids `[...]`, `ignoreIndex` where masked.
 * @param yPred logits `[..., V]`.
 * @param ignoreIndex default -100.
 * @example
 * const loss = maskedCrossEntropy(targetsTensor(ys, [B, T]), logits); // the book's calc_loss_batch
 */
export function maskedCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor, ignoreIndex = -100): tf.Scalar {
  return tf.tidy(() => {
    const losses = sparseCrossEntropyFromLogits(yTrue, yPred, { ignoreIndex });
    const kept = tf.sum(tf.cast(tf.notEqual(tf.reshape(yTrue, losses.shape), tf.scalar(ignoreIndex, yTrue.dtype)), "float32"));
    return tf.div(tf.sum(losses), tf.maximum(kept, 1)) as tf.Scalar;
  });
}

/** Backends that compute on this process's CPU: reading a tensor back is a copy, not a device stall. */
const CPU_BACKENDS = new Set(["cpu", "wasm"]);

/**
 * Perplexity as a Keras metric: `exp(mean cross-entropy)` of integer labels against logits.
 * Pass it in `model.compile({metrics: [perplexity]})`; for a loss already known, use `perplexityOf`.
 */
export function perplexity(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.exp(tf.mean(sparseCrossEntropyFromLogits(yTrue, yPred))));
}

/** `exp(loss)`: the perplexity of a mean cross-entropy in nats (e.g. 10.82 -> ~50,000: uniform over GPT-2's vocabulary). */
export function perplexityOf(loss: number): number {
  return Math.exp(loss);
}
