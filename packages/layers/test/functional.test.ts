import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { gelu } from "../src/functional.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

/** GPT-2's GELU written with plain tfjs ops (autodiff gradient through `pow`), the reference. */
function geluReference(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

describe.each(BACKENDS)("gelu on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // Wide range: both tails (where tanh saturates) and the curved middle.
  const x = () => tf.mul(tf.randomNormal([64, 48], 0, 1, "float32", 7), 3);

  it("equals the tanh formula, value and gradient (with an upstream gradient)", () => {
    const xs = x();
    const dy = tf.randomUniform([64, 48], -1, 1, "float32", 8);
    expect(maxAbsDiff(gelu(xs), geluReference(xs))).toBeLessThan(1e-5);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gelu(a), dy)))(xs);
    const ref = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(geluReference(a), dy)))(xs);
    expect(maxAbsDiff(g, ref)).toBeLessThan(1e-5);
    // Known values: gelu(0) = 0, gelu'(0) = 0.5, gelu(x) ~ x for large x.
    const k = tf.tensor1d([0, 10, -10]);
    expect(Array.from(gelu(k).dataSync())).toEqual([0, expect.closeTo(10, 5), expect.closeTo(0, 5)]);
    expect(tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(tf.tensor1d([0])).dataSync()[0]).toBeCloseTo(0.5, 6);
  });

  it("does not leak tensors, forward or backward", () => {
    const xs = x();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      gelu(xs);
    });
    const g = tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(xs);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
