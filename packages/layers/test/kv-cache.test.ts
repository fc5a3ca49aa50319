import * as tf from "@tensorflow/tfjs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, generateAsync } from "../src/generate.js";
import { createGPT } from "../src/gpt.js";
import type { GPTModel } from "../src/gpt-model.js";
import { KVCacheDecoder } from "../src/kv-cache.js";
import { fromPretrained } from "../src/pretrained-node.js";
import "../src/register.js";
import { MAIN_BACKEND, maxAbsDiff, useBackend } from "./backends.js";

// Made by scripts/make-gpt2-fixtures.py (transformers 5.18, torch 2.13).
const FIXTURE = path.join(import.meta.dirname, "fixtures", "hf-gpt2-tiny");
const expected = JSON.parse(await readFile(path.join(FIXTURE, "expected.json"), "utf8")) as {
  prompt_ids: number[];
  greedy_ids: number[];
  eos_token_id: number;
  max_new_tokens: number;
};

let hf: GPTModel;
let small: GPTModel;
beforeAll(async () => {
  await useBackend(MAIN_BACKEND);
  hf = await fromPretrained(FIXTURE);
  tf.randomNormal([1]).dispose();
  small = createGPT({ vocabSize: 61, contextLength: 12, embeddingDim: 16, numHeads: 2, numLayers: 2, qkvBias: true });
});
afterAll(() => {
  hf.dispose();
  small.dispose();
});

describe("KV cache", () => {
  it("each cached step's logits equal the last position of a full forward pass", () => {
    const ids = expected.greedy_ids.slice(0, 30);
    const full = tf.tidy(() => (hf.predict(tf.tensor2d(ids, [1, ids.length], "int32")) as tf.Tensor).reshape([ids.length, -1]));
    const decoder = new KVCacheDecoder(hf);
    const before = tf.memory().numTensors;
    const prefill = decoder.step(ids.slice(0, 10));
    const first = tf.tidy(() => full.slice([9, 0], [1, -1]).reshape([-1]));
    expect(maxAbsDiff(prefill, first)).toBeLessThan(1e-4);
    tf.dispose([prefill, first]);
    for (let t = 10; t < ids.length; t++) {
      const logits = decoder.step([ids[t] as number]);
      expect(decoder.length).toBe(t + 1);
      const row = tf.tidy(() => full.slice([t, 0], [1, -1]).reshape([-1]));
      expect(maxAbsDiff(logits, row)).toBeLessThan(1e-4);
      tf.dispose([logits, row]);
    }
    // Only the cache stays (keys and values of 2 layers) and, off the CPU backends (where the
    // head runs on the batch-1 kernel), the transposed head table.
    const headTable = ["cpu", "wasm"].includes(tf.getBackend()) ? 0 : 1;
    expect(tf.memory().numTensors - before).toBe(2 * 2 + headTable);
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    full.dispose();
    expect(() => decoder.step([])).toThrow(/at least one id/);
    expect(() => decoder.step([384])).toThrow(/token id 384 is out of range/);
  });

  it("greedy generation equals transformers' generate (with and without the cache), stopping at eos", () => {
    const options = { maxNewTokens: expected.max_new_tokens, temperature: 0, stop: expected.eos_token_id };
    expect(generate(hf, expected.prompt_ids, options)).toEqual(expected.greedy_ids);
    expect(generate(hf, expected.prompt_ids, { ...options, cache: false })).toEqual(expected.greedy_ids);
  });

  it("same ids with and without the cache: sampling with temperature, top-k, top-p, and a sliding window", () => {
    const before = tf.memory().numTensors;
    for (const opts of [
      { temperature: 1, seed: 3 },
      { temperature: 0.7, topK: 20, seed: 4 },
      { temperature: 1.3, topP: 0.9, seed: 5 },
      { temperature: 1, topK: 50, topP: 0.8, seed: 6 },
    ]) {
      const a = generate(hf, expected.prompt_ids, { maxNewTokens: 20, stop: null, ...opts });
      expect(generate(hf, expected.prompt_ids, { maxNewTokens: 20, stop: null, cache: false, ...opts })).toEqual(a);
      expect(a).toHaveLength(expected.prompt_ids.length + 20);
    }
    // A 12-position model generating 25 ids past a 5-id prompt: the window slides.
    const a = generate(small, [1, 2, 3, 4, 5], { maxNewTokens: 25, temperature: 1, seed: 1 });
    expect(generate(small, [1, 2, 3, 4, 5], { maxNewTokens: 25, temperature: 1, seed: 1, cache: false })).toEqual(a);
    expect(a).toHaveLength(30);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("top-p: a tiny p is greedy; p = 1 is plain sampling", () => {
    const greedy = generate(hf, expected.prompt_ids, { maxNewTokens: 10, temperature: 0, stop: null });
    expect(generate(hf, expected.prompt_ids, { maxNewTokens: 10, temperature: 1, topP: 1e-6, seed: 9, stop: null })).toEqual(greedy);
    expect(generate(hf, expected.prompt_ids, { maxNewTokens: 10, temperature: 1, topP: 1, seed: 9, stop: null })).toEqual(
      generate(hf, expected.prompt_ids, { maxNewTokens: 10, temperature: 1, seed: 9, stop: null }),
    );
    expect(() => generate(hf, [1], { maxNewTokens: 1, topP: 0 })).toThrow(/`topP` must be a number in \(0, 1\], received 0/);
  });

  it("streams each id to onToken; generateAsync gives the same ids", async () => {
    const seen: [number, number][] = [];
    const ids = generate(hf, expected.prompt_ids, { maxNewTokens: 8, temperature: 1, seed: 2, stop: null, onToken: (id, i) => seen.push([id, i]) });
    expect(seen).toEqual(ids.slice(expected.prompt_ids.length).map((id, i) => [id, i]));
    expect(await generateAsync(hf, expected.prompt_ids, { maxNewTokens: 8, temperature: 1, seed: 2, stop: null })).toEqual(ids);
  });

  it("stops at <|endoftext|> (50,256) by default for GPT-2's vocabulary, and at a given id", () => {
    // Find an id greedy generation produces, then stop on it.
    const free = generate(small, [1, 2], { maxNewTokens: 6, temperature: 0 });
    const stopAt = free[4] as number;
    const stopped = generate(small, [1, 2], { maxNewTokens: 6, temperature: 0, stop: [stopAt] });
    expect(stopped[stopped.length - 1]).toBe(stopAt);
    expect(stopped.length).toBeLessThanOrEqual(5);
    const gpt = createGPT({ vocabSize: 50257, contextLength: 8, embeddingDim: 8, numHeads: 1, numLayers: 1 });
    // Make 50,256 the most likely id: ln_f outputs all ones, and only row 50,256 of the table is non-zero (positive).
    const weight = (name: string) => gpt.weights.find((w) => w.originalName === name) as tf.LayerVariable;
    tf.tidy(() => {
      weight("wte/embeddings").write(tf.oneHot([50256], 50257).reshape([50257, 1]).tile([1, 8]).toFloat());
      weight("ln_f/gamma").write(tf.zeros([8]));
      weight("ln_f/beta").write(tf.ones([8]));
    });
    expect(generate(gpt, [1], { maxNewTokens: 5, temperature: 0 })).toEqual([1, 50256]);
    expect(generate(gpt, [1], { maxNewTokens: 3, temperature: 0, stop: null })).toEqual([1, 50256, 50256, 50256]);
    gpt.dispose();
  });
});
