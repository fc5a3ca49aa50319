// Every layer class the package exports, through the shared harness (layer-harness.ts).
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as layers from "../src/index.js";
import { BACKENDS, useBackend } from "./backends.js";
import { layerTests, type LayerCase } from "./layer-harness.js";

const ids = () => tf.tensor2d([[1, 2, 1], [9, 0, 1]], [2, 3], "int32");
const activations = () => tf.randomNormal([2, 4, 8], 0, 1, "float32", 1);

const CASES: LayerCase[] = [
  {
    name: "TokenEmbedding",
    make: () => new layers.TokenEmbedding({ vocabSize: 10, embeddingDim: 4, maskZero: true, embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: 7 }) }),
    input: ids,
    outputShape: [2, 3, 4],
    weights: 1,
  },
  { name: "PositionalEmbedding learned", make: () => new layers.PositionalEmbedding({ maxLength: 5, embeddingDim: 4 }), input: ids, outputShape: [2, 3, 4], weights: 1 },
  { name: "PositionalEmbedding sinusoidal", make: () => new layers.PositionalEmbedding({ maxLength: 5, embeddingDim: 4, kind: "sinusoidal" }), input: ids, outputShape: [2, 3, 4], weights: 0 },
  {
    name: "TokenAndPositionEmbedding",
    make: () => new layers.TokenAndPositionEmbedding({ vocabSize: 10, maxLength: 4, embeddingDim: 3, positionInitializer: "ones" }),
    input: ids,
    outputShape: [2, 3, 3],
    weights: 2,
  },
  { name: "LayerNorm", make: () => new layers.LayerNorm({ epsilon: 1e-3 }), input: activations, outputShape: [2, 4, 8], weights: 2 },
  { name: "CausalSelfAttention", make: () => new layers.CausalSelfAttention({ embeddingDim: 8, numHeads: 2, qkvBias: true }), input: activations, outputShape: [2, 4, 8], weights: 4 },
  {
    name: "TransformerBlock",
    make: () => new layers.TransformerBlock({ embeddingDim: 8, numHeads: 2, dropout: 0.1, projectionInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01 }) }),
    input: activations,
    outputShape: [2, 4, 8],
    weights: 11,
  },
  {
    name: "TransformerBlock with LoRA",
    make: () => new layers.TransformerBlock({ embeddingDim: 8, numHeads: 2, qkvBias: true, lora: { rank: 2, alpha: 4, dropout: 0, kernels: ["attn/c_attn", "mlp/c_fc"] } }),
    input: activations,
    outputShape: [2, 4, 8],
    weights: 16,
    everyWeightTrains: false,
  },
  { name: "LastToken", make: () => new layers.LastToken(), input: activations, outputShape: [2, 8], weights: 0 },
];

describe("the harness", () => {
  it("covers every layer class the package exports", () => {
    const exported = (Object.values(layers) as unknown[]).filter(
      (v): v is { className: string; prototype: unknown } =>
        typeof v === "function" && v.prototype instanceof tf.layers.Layer && !(v.prototype instanceof tf.LayersModel),
    );
    const covered = new Set(CASES.map((c) => c.make().getClassName()));
    expect(exported.map((cls) => cls.className).sort()).toEqual([...covered].sort());
  });
});

describe.each(BACKENDS)("layers on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  for (const c of CASES) layerTests(c);
});
