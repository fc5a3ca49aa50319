import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { generate } from "../src/generate.js";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import "../src/register.js";
import { MAIN_BACKEND, useBackend } from "./backends.js";

describe("generate", () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await useBackend(MAIN_BACKEND);
    model = createGPT({ ...GPT_PRESETS.tiny, vocabSize: 50, contextLength: 8, embeddingDim: 16 });
  });

  it("greedy at temperature 0: deterministic, the argmax of the last position", () => {
    const a = generate(model, [1, 2, 3], { maxNewTokens: 5, temperature: 0 });
    expect(a).toHaveLength(8);
    expect(a.slice(0, 3)).toEqual([1, 2, 3]);
    expect(generate(model, [1, 2, 3], { maxNewTokens: 5, temperature: 0 })).toEqual(a);
    const logits = model.predict(tf.tensor2d([[1, 2, 3]], [1, 3], "int32")) as tf.Tensor;
    expect(a[3]).toBe(tf.argMax(logits.slice([0, 2, 0], [1, 1, 50]).reshape([50])).dataSync()[0]);
    expect(generate(model, [1, 2, 3], { maxNewTokens: 5, temperature: 1, topK: 1, seed: 9 })).toEqual(a);
  });

  it("seeded sampling is reproducible and the seed matters", () => {
    const opts = { maxNewTokens: 12, temperature: 5, seed: 42 };
    const a = generate(model, [7], opts);
    expect(generate(model, [7], opts)).toEqual(a);
    const others = [1, 2, 3, 4].map((seed) => generate(model, [7], { ...opts, seed }).join(","));
    expect(others.some((o) => o !== a.join(","))).toBe(true);
    expect(a.every((id) => Number.isInteger(id) && id >= 0 && id < 50)).toBe(true);
  });

  it("crops the input to the context length", () => {
    const long = Array.from({ length: 20 }, (_, i) => i % 50);
    const out = generate(model, long, { maxNewTokens: 3, temperature: 0 });
    expect(out).toHaveLength(23);
    expect(out.slice(20)).toEqual(generate(model, long.slice(-8), { maxNewTokens: 3, temperature: 0 }).slice(8));
  });

  it("validates its options", () => {
    expect(() => generate(model, [1], { maxNewTokens: -1 })).toThrow(/`maxNewTokens` must be a non-negative integer, received -1/);
    expect(() => generate(model, [1], { maxNewTokens: 1, topK: 0 })).toThrow(/`topK` must be a positive integer, received 0/);
    expect(() => generate(model, [], { maxNewTokens: 1 })).toThrow(/at least one id/);
  });
});
