import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { CausalSelfAttention } from "../src/attention.js";
import { LayerNorm } from "../src/layer-norm.js";
import { TransformerBlock } from "../src/transformer-block.js";
import "../src/register.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

describe.each(BACKENDS)("attention and blocks on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  for (const make of [
    () => new CausalSelfAttention({ embeddingDim: 8, numHeads: 2, qkvBias: true }),
    () => new TransformerBlock({ embeddingDim: 8, numHeads: 2 }),
  ]) {
    it(`${make().getClassName()}: [B, T, C] -> [B, T, C], causal (the future does not change the past)`, () => {
      const layer = make();
      const x = tf.randomNormal([2, 5, 8], 0, 1, "float32", 1);
      const y = layer.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 5, 8]);
      // Change only the last position: outputs at positions 0..3 must not move.
      const x2 = tf.concat([x.slice([0, 0, 0], [2, 4, 8]), tf.randomNormal([2, 1, 8], 0, 1, "float32", 2)], 1);
      const y2 = layer.apply(x2) as tf.Tensor;
      expect(maxAbsDiff(y.slice([0, 0, 0], [2, 4, 8]), y2.slice([0, 0, 0], [2, 4, 8]))).toBeLessThan(1e-5);
      expect(maxAbsDiff(y.slice([0, 4, 0], [2, 1, 8]), y2.slice([0, 4, 0], [2, 1, 8]))).toBeGreaterThan(1e-4);
    });
  }

  it("dropout applies in training only", () => {
    const block = new TransformerBlock({ embeddingDim: 8, numHeads: 2, dropout: 0.5 });
    const x = tf.randomNormal([1, 4, 8], 0, 1, "float32", 5);
    const a = block.apply(x) as tf.Tensor;
    expect(maxAbsDiff(a, block.apply(x) as tf.Tensor)).toBe(0);
    expect(maxAbsDiff(a, block.apply(x, { training: true }) as tf.Tensor)).toBeGreaterThan(0);
  });

  it("LayerNorm normalises the last axis and matches tfjs's layer", () => {
    const x = tf.randomNormal([2, 3, 6], 2, 3, "float32", 6);
    const ours = new LayerNorm().apply(x) as tf.Tensor;
    const stock = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(x) as tf.Tensor;
    expect(maxAbsDiff(ours, stock)).toBeLessThan(1e-4);
  });

  // Build, config round trip, save/load, a training step and leaks: layers.test.ts (the shared harness).
  it("validates options", () => {
    expect(() => new TransformerBlock({ embeddingDim: 8, numHeads: 3 })).toThrow(/`numHeads` must divide `embeddingDim` \(8\), received 3/);
    expect(() => new TransformerBlock({ embeddingDim: 8, numHeads: 2, dropout: 1 })).toThrow(/`dropout` must be a number in \[0, 1\), received 1/);
    expect(() => new CausalSelfAttention({ embeddingDim: 8, numHeads: 2, kernelInitializer: 3 as never })).toThrow(/`kernelInitializer` must be a tf.initializers instance/);
  });
});
