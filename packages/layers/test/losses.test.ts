import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { perplexity, perplexityOf, sparseCrossEntropyFromLogits } from "../src/losses.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

/** Per-position cross-entropy written plainly with ops every backend has (a one-hot, for reference only). */
function reference(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const vocab = logits.shape[logits.rank - 1] as number;
  const max = tf.max(logits, -1, true);
  const logProbs = tf.sub(tf.sub(logits, max), tf.log(tf.sum(tf.exp(tf.sub(logits, max)), -1, true)));
  const oneHot = tf.oneHot(tf.cast(tf.reshape(labels, labels.shape.slice(0, logits.rank - 1)), "int32"), vocab);
  return tf.neg(tf.sum(tf.mul(oneHot, logProbs), -1));
}

describe.each(BACKENDS)("sparseCrossEntropyFromLogits on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  const logits = () => tf.randomNormal([2, 3, 7], 0, 2, "float32", 11);
  const labels = () => tf.tensor2d([[0, 6, 3], [3, 3, 1]], [2, 3], "int32");

  it("equals the reference per-position loss, for [b, T] and [b, T, 1] labels", () => {
    const z = logits();
    const loss = sparseCrossEntropyFromLogits(labels(), z);
    expect(loss.shape).toEqual([2, 3]);
    expect(maxAbsDiff(loss, reference(labels(), z))).toBeLessThan(1e-5);
    const loss3 = sparseCrossEntropyFromLogits(tf.expandDims(labels(), -1), z);
    expect(maxAbsDiff(loss3, loss)).toBe(0);
    // Float labels (tfjs passes targets as they come) are cast.
    expect(maxAbsDiff(sparseCrossEntropyFromLogits(tf.cast(labels(), "float32"), z), loss)).toBe(0);
  });

  it("has the reference gradient (softmax - onehot), with uniform and non-uniform upstream gradients", () => {
    const z = logits();
    const uniform = (f: typeof reference) => (x: tf.Tensor) => tf.mean(f(labels(), x));
    expect(maxAbsDiff(tf.grad(uniform(sparseCrossEntropyFromLogits))(z), tf.grad(uniform(reference))(z))).toBeLessThan(1e-5);
    const w = tf.tensor2d([[1, 2, 3], [-1, 0.5, 0]], [2, 3]);
    const weighted = (f: typeof reference) => (x: tf.Tensor) => tf.sum(tf.mul(f(labels(), x), w));
    expect(maxAbsDiff(tf.grad(weighted(sparseCrossEntropyFromLogits))(z), tf.grad(weighted(reference))(z))).toBeLessThan(1e-5);
  });

  it("stays finite and exact for logits far apart", () => {
    const z = tf.tensor2d([[1000, -1000, 0], [-500, 500, 499]], [2, 3]);
    const loss = sparseCrossEntropyFromLogits(tf.tensor1d([1, 2], "int32"), z).dataSync();
    expect(loss[0]).toBeCloseTo(2000, 2);
    expect(loss[1]).toBeCloseTo(1 + Math.log1p(Math.exp(-1)), 4);
  });

  it("gives log(V) and perplexity V for uniform logits", () => {
    const z = tf.zeros([4, 50]);
    const y = tf.tensor1d([0, 10, 20, 49], "int32");
    expect(tf.mean(sparseCrossEntropyFromLogits(y, z)).dataSync()[0]).toBeCloseTo(Math.log(50), 5);
    expect(perplexity(y, z).dataSync()[0]).toBeCloseTo(50, 3);
    expect(perplexityOf(Math.log(50257))).toBeCloseTo(50257, 3);
  });

  it("rejects labels outside [0, V) and mismatched shapes", () => {
    expect(() => sparseCrossEntropyFromLogits(tf.tensor1d([7], "int32"), tf.zeros([1, 7]))).toThrow(/label 7 .*\[0, 7\)/);
    expect(() => sparseCrossEntropyFromLogits(tf.tensor1d([1, 2], "int32"), tf.zeros([3, 7]))).toThrow(/do not match logits/);
  });

  it("does not leak tensors in forward and backward passes", () => {
    const z = logits();
    const y = labels();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.dispose(sparseCrossEntropyFromLogits(y, z));
      tf.dispose(tf.grad((x: tf.Tensor) => tf.mean(sparseCrossEntropyFromLogits(y, x)))(z));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
