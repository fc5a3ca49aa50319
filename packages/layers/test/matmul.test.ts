import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { matMul, matMulTransposedB } from "../src/matmul.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

describe.each(BACKENDS)("explicit-transpose matmul gradients on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("matMul (2-D) has tfjs's value and gradients", () => {
    const a = tf.randomNormal([5, 3], 0, 1, "float32", 1) as tf.Tensor2D;
    const b = tf.randomNormal([3, 4], 0, 1, "float32", 2) as tf.Tensor2D;
    const w = tf.randomNormal([5, 4], 0, 1, "float32", 3);
    expect(maxAbsDiff(matMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-5);
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x as tf.Tensor2D, y as tf.Tensor2D), w)))([a, b]);
    const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), w)))([a, b]);
    expect(maxAbsDiff(ours[0] as tf.Tensor, ref[0] as tf.Tensor)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours[1] as tf.Tensor, ref[1] as tf.Tensor)).toBeLessThan(1e-4);
  });

  it("matMul (batched 3-D) has tfjs's value and gradients", () => {
    const a = tf.randomNormal([2, 5, 3], 0, 1, "float32", 4) as tf.Tensor3D;
    const b = tf.randomNormal([2, 3, 4], 0, 1, "float32", 5) as tf.Tensor3D;
    const w = tf.randomNormal([2, 5, 4], 0, 1, "float32", 6);
    expect(maxAbsDiff(matMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-5);
    const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x as tf.Tensor3D, y as tf.Tensor3D), w)))([a, b]);
    const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D), w)))([a, b]);
    expect(maxAbsDiff(ours[0] as tf.Tensor, ref[0] as tf.Tensor)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours[1] as tf.Tensor, ref[1] as tf.Tensor)).toBeLessThan(1e-4);
  });

  it("matMulTransposedB equals x @ w^T with the reference gradients", () => {
    const x = tf.randomNormal([6, 3], 0, 1, "float32", 7) as tf.Tensor2D;
    const v = tf.randomNormal([9, 3], 0, 1, "float32", 8) as tf.Tensor2D;
    const w = tf.randomNormal([6, 9], 0, 1, "float32", 9);
    expect(maxAbsDiff(matMulTransposedB(x, v), tf.matMul(x, v, false, true))).toBeLessThan(1e-5);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(matMulTransposedB(a as tf.Tensor2D, b as tf.Tensor2D), w)))([x, v]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true), w)))([x, v]);
    expect(maxAbsDiff(ours[0] as tf.Tensor, ref[0] as tf.Tensor)).toBeLessThan(1e-4);
    expect(maxAbsDiff(ours[1] as tf.Tensor, ref[1] as tf.Tensor)).toBeLessThan(1e-4);
  });
});
