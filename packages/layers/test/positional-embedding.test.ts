import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { LayerConfigError } from "../src/errors.js";
import { PositionalEmbedding, sinusoidalTable } from "../src/positional-embedding.js";
import { TokenAndPositionEmbedding } from "../src/token-and-position-embedding.js";
import "../src/register.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

describe.each(BACKENDS)("PositionalEmbedding on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("returns the first T learned vectors, broadcast over the batch, for ids or token vectors", () => {
    const pos = new PositionalEmbedding({ maxLength: 8, embeddingDim: 3, initializer: "glorotUniform" });
    const out = pos.apply(tf.zeros([2, 5], "int32")) as tf.Tensor;
    expect(out.shape).toEqual([2, 5, 3]);
    const table = (pos.getWeights()[0] as tf.Tensor).slice([0, 0], [5, 3]);
    expect(maxAbsDiff(out.slice([0, 0, 0], [1, 5, 3]).reshape([5, 3]), table)).toBe(0);
    expect(maxAbsDiff(out.slice([1, 0, 0], [1, 5, 3]).reshape([5, 3]), table)).toBe(0);
    expect((pos.apply(tf.zeros([1, 4, 3])) as tf.Tensor).shape).toEqual([1, 4, 3]);
  });

  it("gradient of the table: batch-summed dy on the first T rows, zeros after", () => {
    const pos = new PositionalEmbedding({ maxLength: 6, embeddingDim: 2 });
    const ids = tf.zeros([3, 4], "int32");
    pos.apply(ids);
    const w = tf.randomNormal([3, 4, 2], 0, 1, "float32", 5);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(pos.apply(ids) as tf.Tensor, w)) as tf.Scalar);
    const g = Object.values(grads)[0] as tf.Tensor;
    expect(maxAbsDiff(g.slice([0, 0], [4, 2]), tf.sum(w, 0))).toBeLessThan(1e-5);
    expect(tf.sum(tf.abs(g.slice([4, 0], [2, 2]))).dataSync()[0]).toBe(0);
  });

  it("fails clearly for a sequence longer than maxLength, eagerly and symbolically", () => {
    const pos = new PositionalEmbedding({ maxLength: 256, embeddingDim: 4 });
    expect(() => pos.apply(tf.zeros([1, 300], "int32"))).toThrow(/cannot embed a sequence of 300 positions, maxLength is 256/);
    expect(() => pos.apply(tf.input({ shape: [300], dtype: "int32" }))).toThrow(LayerConfigError);
  });

  it("sinusoidal: sin on even, cos on odd columns, no weights", () => {
    const pos = new PositionalEmbedding({ maxLength: 50, embeddingDim: 4, kind: "sinusoidal" });
    const out = (pos.apply(tf.zeros([1, 50], "int32")) as tf.Tensor).dataSync();
    expect(pos.getWeights()).toHaveLength(0);
    const p = 7;
    expect(out[p * 4 + 0]).toBeCloseTo(Math.sin(p), 5);
    expect(out[p * 4 + 1]).toBeCloseTo(Math.cos(p), 5);
    expect(out[p * 4 + 2]).toBeCloseTo(Math.sin(p / 100), 5);
    expect(out[p * 4 + 3]).toBeCloseTo(Math.cos(p / 100), 5);
    expect(sinusoidalTable(2, 3)).toHaveLength(6);
  });

  // Build, config round trip, save/load, a training step and leaks: layers.test.ts (the shared harness).
  it("validates options", () => {
    expect(() => new PositionalEmbedding({ maxLength: 0, embeddingDim: 4 })).toThrow(/`maxLength` must be a positive integer, received 0/);
    expect(() => new PositionalEmbedding({ maxLength: 4, embeddingDim: 4, kind: "rotary" as never })).toThrow(
      /`kind` must be "learned" or "sinusoidal", received "rotary"/,
    );
  });
});

describe.each(BACKENDS)("TokenAndPositionEmbedding on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("is token vectors + position vectors, trains both tables, rejects bad ids and lengths", () => {
    const layer = new TokenAndPositionEmbedding({ vocabSize: 10, maxLength: 4, embeddingDim: 3 });
    const ids = tf.tensor2d([[1, 2, 1], [9, 0, 1]], [2, 3], "int32");
    const out = layer.apply(ids) as tf.Tensor;
    expect(out.shape).toEqual([2, 3, 3]);
    const [tok, pos] = layer.getWeights() as [tf.Tensor2D, tf.Tensor2D];
    const expected = tf.add(tf.gather(tok, ids), pos.slice([0, 0], [3, 3]));
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);
    const { grads } = tf.variableGrads(() => tf.sum(layer.apply(ids) as tf.Tensor) as tf.Scalar);
    const [gTok, gPos] = Object.values(grads) as [tf.Tensor, tf.Tensor];
    expect(gTok.slice([1, 0], [1, 3]).dataSync()[0]).toBe(3); // id 1 appears three times
    expect(gPos.slice([0, 0], [1, 3]).dataSync()[0]).toBe(2); // position 0 in two rows
    expect(() => layer.apply(tf.tensor2d([[10]], [1, 1], "int32"))).toThrow(/token id 10 .*\[0, 10\)/);
    expect(() => layer.apply(tf.zeros([1, 5], "int32"))).toThrow(/cannot embed a sequence of 5 positions, maxLength is 4/);
  });
});
