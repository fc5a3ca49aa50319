/**
 * Cross-entropy with an ignore index (the book's chapter 7 targets, -100 where masked): the fused
 * head (kernel and tfjs ops) and `sparseCrossEntropyFromLogits` / `maskedCrossEntropy` equal a
 * plain-ops reference that averages over the kept tokens only, in value and gradients; targets
 * made by `targetsTensor` are checked without a read-back.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { headCrossEntropy } from "../src/head-cross-entropy.js";
import { targetsTensor } from "../src/id-range.js";
import { maskedCrossEntropy, sparseCrossEntropyFromLogits } from "../src/losses.js";
import { matMulTransposedB } from "../src/matmul.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

const N = 10, C = 8, V = 29;
const LABELS = [3, -100, 28, 28, 0, -100, -100, 5, 3, 11];
const KEPT = LABELS.filter((l) => l !== -100).length;

/** Plain tfjs ops: log-softmax, one-hot of the kept labels, summed and divided by the kept count. */
function reference(h: tf.Tensor2D, w: tf.Tensor2D): tf.Scalar {
  const logProbs = tf.logSoftmax(tf.matMul(h, w, false, true));
  const oneHot = tf.oneHot(tf.tensor1d(LABELS.map((l) => Math.max(l, 0)), "int32"), V);
  const mask = tf.tensor2d(LABELS.map((l) => [l === -100 ? 0 : 1]));
  return tf.div(tf.neg(tf.sum(tf.mul(tf.mul(oneHot, logProbs), mask))), KEPT) as tf.Scalar;
}

const CASES = BACKENDS.flatMap((backend) => (["kernel", "tfjs", "chunked"] as const).map((implementation) => [backend, implementation] as const));

describe.each(CASES)("ignore index on %s, %s head", (backend, implementation) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  const h = () => tf.randomNormal([N, C], 0, 1, "float32", 5) as tf.Tensor2D;
  const w = () => tf.randomNormal([V, C], 0, 0.5, "float32", 6) as tf.Tensor2D;
  const y = () => targetsTensor(Int32Array.from(LABELS), [N]);

  it("the fused head averages over kept tokens, value and gradients equal to the reference", () => {
    const [hs, ws, ys] = [h(), w(), y()];
    const fused = (a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, ys, implementation, -100, 3);
    expect(maxAbsDiff(fused(hs, ws), reference(hs, ws))).toBeLessThan(1e-5);
    const g = tf.grads(fused)([hs, ws]);
    const r = tf.grads((a: tf.Tensor, b: tf.Tensor) => reference(a as tf.Tensor2D, b as tf.Tensor2D))([hs, ws]);
    expect(maxAbsDiff(g[0] as tf.Tensor, r[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(maxAbsDiff(g[1] as tf.Tensor, r[1] as tf.Tensor)).toBeLessThan(1e-6);
    // Ignored tokens get no gradient at all.
    const dh = (g[0] as tf.Tensor2D).arraySync();
    for (const i of [1, 5, 6]) expect(Math.max(...dh[i]!.map(Math.abs))).toBe(0);
  });

  it("a finite-difference check of the table gradient", () => {
    const [hs, ws, ys] = [h(), w(), y()];
    const f = (b: tf.Tensor) => headCrossEntropy(hs, b as tf.Tensor2D, ys, implementation, -100, 3);
    const analytic = tf.grad(f)(ws).arraySync() as number[][];
    const base = ws.arraySync();
    const eps = 1e-2;
    for (const [row, col] of [[3, 0], [28, 5], [0, 7], [20, 1]] as const) {
      const at = (d: number) => {
        const copy = base.map((r) => r.slice());
        copy[row]![col]! += d;
        return f(tf.tensor2d(copy)).arraySync() as number;
      };
      expect(Math.abs((at(eps) - at(-eps)) / (2 * eps) - analytic[row]![col]!)).toBeLessThan(2e-3);
    }
  });

  it("sparseCrossEntropyFromLogits + maskedCrossEntropy equal the reference", () => {
    const [hs, ws, ys] = [h(), w(), y()];
    const unfused = (a: tf.Tensor, b: tf.Tensor) => maskedCrossEntropy(ys, matMulTransposedB(a as tf.Tensor2D, b as tf.Tensor2D));
    expect(maxAbsDiff(unfused(hs, ws), reference(hs, ws))).toBeLessThan(1e-5);
    const g = tf.grads(unfused)([hs, ws]);
    const r = tf.grads((a: tf.Tensor, b: tf.Tensor) => reference(a as tf.Tensor2D, b as tf.Tensor2D))([hs, ws]);
    expect(maxAbsDiff(g[0] as tf.Tensor, r[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(maxAbsDiff(g[1] as tf.Tensor, r[1] as tf.Tensor)).toBeLessThan(1e-6);
    const perToken = sparseCrossEntropyFromLogits(ys, matMulTransposedB(hs, ws), { ignoreIndex: -100 }).arraySync() as number[];
    expect([perToken[1], perToken[5], perToken[6]]).toEqual([0, 0, 0]);
  });

  it("all ignored: loss 0; a bad label is still refused; without the ignore index -100 is refused", () => {
    const [hs, ws] = [h(), w()];
    const none = targetsTensor(new Int32Array(N).fill(-100), [N]);
    expect(headCrossEntropy(hs, ws, none, implementation, -100).arraySync()).toBe(0);
    expect(() => headCrossEntropy(hs, ws, targetsTensor(Int32Array.from([...LABELS.slice(1), 29]), [N]), implementation, -100)).toThrow(/label 29 .* out of range/);
    expect(() => headCrossEntropy(hs, ws, tf.tensor1d(LABELS, "int32"), implementation, -100).dispose()).not.toThrow();
    expect(() => headCrossEntropy(hs, ws, tf.tensor1d(LABELS, "int32"), implementation)).toThrow(/label -100 .* out of range/);
  });

  if (implementation === "tfjs") {
    it("reads nothing back with targets from targetsTensor", () => {
      const [hs, ws, ys] = [h(), w(), y()];
      const spies = (["dataSync", "data", "arraySync", "array"] as const).map((m) => vi.spyOn(tf.Tensor.prototype, m));
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => headCrossEntropy(a as tf.Tensor2D, b as tf.Tensor2D, ys, "tfjs", -100))([hs, ws]);
      const reads = spies.reduce((sum, s) => sum + s.mock.calls.length, 0);
      spies.forEach((s) => s.mockRestore());
      expect(g).toHaveLength(2);
      expect(reads).toBe(0);
    });
  }
});
