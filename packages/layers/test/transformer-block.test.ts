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

  it("TransformerBlock: one training step changes every weight and lowers the loss; no leaks", () => {
    const block = new TransformerBlock({ embeddingDim: 8, numHeads: 2, qkvBias: true });
    const x = tf.randomNormal([2, 4, 8], 0, 1, "float32", 3);
    const target = tf.randomNormal([2, 4, 8], 0, 1, "float32", 4);
    block.apply(x);
    expect(block.trainableWeights).toHaveLength(12);
    const optimizer = tf.train.adam(0.01);
    const loss = () => tf.mean(tf.square(tf.sub(block.apply(x) as tf.Tensor, target))) as tf.Scalar;
    const first = loss().dataSync()[0] as number;
    const before = block.getWeights().map((w) => w.clone());
    tf.dispose(optimizer.minimize(loss, true) ?? []); // creates Adam's moments
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) tf.dispose(optimizer.minimize(loss, true) ?? []);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = block.getWeights();
    for (let i = 0; i < after.length; i++) expect(maxAbsDiff(after[i] as tf.Tensor, before[i] as tf.Tensor)).toBeGreaterThan(0);
    expect(loss().dataSync()[0]).toBeLessThan(first);
  });

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

  it("validates options and round-trips configs", () => {
    expect(() => new TransformerBlock({ embeddingDim: 8, numHeads: 3 })).toThrow(/`numHeads` must divide `embeddingDim` \(8\), received 3/);
    expect(() => new TransformerBlock({ embeddingDim: 8, numHeads: 2, dropout: 1 })).toThrow(/`dropout` must be a number in \[0, 1\), received 1/);
    const block = new TransformerBlock({ embeddingDim: 8, numHeads: 2, dropout: 0.1, qkvBias: true, projectionInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01 }) });
    const copy = TransformerBlock.fromConfig(TransformerBlock, block.getConfig()) as TransformerBlock;
    expect(copy.getConfig()).toEqual(block.getConfig());
    const attn = new CausalSelfAttention({ embeddingDim: 8, numHeads: 4 });
    expect((CausalSelfAttention.fromConfig(CausalSelfAttention, attn.getConfig()) as CausalSelfAttention).getConfig()).toEqual(attn.getConfig());
  });
});
