import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adamW } from "../src/adamw.js";
import { LayerConfigError } from "../src/errors.js";
import { countParams, createGPT, GPT_PRESETS } from "../src/gpt.js";
import { GPTModel, trainingStateBytes, WASM_TRAINING_STATE_LIMIT } from "../src/gpt-model.js";
import { KVCacheDecoder } from "../src/kv-cache.js";
import { frozenLinear } from "../src/lora-linear.js";
import { linear } from "../src/functional.js";
import { applyLoRA, baseIdentity, hasLoRA, loadAdapters, loraParamCounts, mergeLoRA, resolveLoRATargets, toAdapterFiles } from "../src/lora.js";
import { loadAdapters as loadAdaptersFromDir, saveAdapters } from "../src/lora-node.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { pretrainedTensors, weightsByPath } from "../src/pretrained.js";
import "../src/register.js";
import { BACKENDS, MAIN_BACKEND, maxAbsDiff, useBackend } from "./backends.js";

const small = { vocabSize: 97, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 2, qkvBias: true };
/** r (in + out) per block for C = 16: c_attn 16+48, attn c_proj 16+16, c_fc 16+64, mlp c_proj 64+16. */
const PER_BLOCK_SIDES = 64 + 32 + 80 + 80;

function batch(rows: number, length: number, seed: number) {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let r = 0; r < rows; r++) {
    let id = (r * 13 + seed) % 97;
    for (let t = 0; t < length; t++) {
      xs.push(id);
      id = (id * 3 + 1) % 97;
      ys.push(id);
    }
  }
  return { xs: tf.tensor2d(xs, [rows, length], "int32"), ys: tf.tensor2d(ys, [rows, length], "int32") };
}

/** A base model and an identical copy (same weights). */
function baseAndCopy(): { base: GPTModel; copy: GPTModel } {
  const base = createGPT(small);
  const copy = createGPT(small);
  copy.setWeights(base.getWeights());
  return { base, copy };
}

/** Sets every adapter B to small random values (as after training), so adapters change the output. */
function perturbAdapters(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const [p, v] of weightsByPath(model)) {
    if (p.endsWith("/lora_b")) v.write(tf.randomNormal(v.shape as number[], 0, 0.05, "float32", s++));
  }
}

describe("LoRA: counts, targets, options", () => {
  it("r (in + out) trainable parameters per adapted [in, out] kernel; GPT-2 124M rank 8 fits the wasm state limit, full fine-tuning does not", () => {
    expect(loraParamCounts(small, { rank: 4 }).trainable).toBe(2 * 4 * PER_BLOCK_SIDES);
    expect(loraParamCounts(small, { rank: 4, targets: ["c_attn"] }).trainable).toBe(2 * 4 * 64);
    expect(loraParamCounts(small, { rank: 2, targets: ["h1/mlp"] }).trainable).toBe(2 * 160);
    const gpt2 = loraParamCounts(GPT_PRESETS.gpt2, { rank: 8 });
    expect(gpt2.trainable).toBe(12 * 8 * (768 * 4 + 768 * 2 + 768 * 5 + 768 * 5)); // 1,179,648
    expect(gpt2.frozen).toBe(countParams(GPT_PRESETS.gpt2));
    expect(gpt2.total).toBe(125_619_456);
    expect(trainingStateBytes(gpt2)).toBeLessThan(WASM_TRAINING_STATE_LIMIT);
    expect(trainingStateBytes(gpt2.total)).toBeGreaterThan(WASM_TRAINING_STATE_LIMIT);
    expect(trainingStateBytes({ trainable: 10, frozen: 100 })).toBe(10 * 16 + 100 * 4);
  });

  it("targets by name or pattern; a target that names no layer is refused", () => {
    const kernels = (targets: string[]) => Object.fromEntries([...resolveLoRATargets(2, targets)].map(([i, k]) => [i, k]));
    expect(kernels(["attn"])).toEqual({ 0: ["attn/c_attn", "attn/c_proj"], 1: ["attn/c_attn", "attn/c_proj"] });
    expect(kernels(["c_proj"])).toEqual({ 0: ["attn/c_proj", "mlp/c_proj"], 1: ["attn/c_proj", "mlp/c_proj"] });
    expect(kernels(["h1/mlp/*", "h0/attn/c_attn"])).toEqual({ 0: ["attn/c_attn"], 1: ["mlp/c_fc", "mlp/c_proj"] });
    expect(kernels(["h*/mlp/c_fc"])).toEqual({ 0: ["mlp/c_fc"], 1: ["mlp/c_fc"] });
    expect(() => kernels(["h*/c_fc"])).toThrow(/names no layer/); // the parts must be consecutive
  });

  it("bad options are refused naming the option and the value", () => {
    expect(() => resolveLoRATargets(2, ["c_nothing"])).toThrow(/LoRA target "c_nothing" names no layer/);
    expect(() => loraParamCounts(small, { rank: 4, targets: ["h2"] })).toThrow(/names no layer: targets match the kernels h0\.\.h1/);
    expect(() => loraParamCounts(small, { rank: 0 })).toThrow(/`rank` must be a positive integer, received 0/);
    expect(() => loraParamCounts(small, { rank: 17 })).toThrow(/`rank` must be at most the smaller side of h0\/attn\/c_attn \[16, 48\] \(16\), received 17/);
    expect(() => loraParamCounts(small, { rank: 4, alpha: -1 })).toThrow(/`alpha` must be a positive number, received -1/);
    expect(() => loraParamCounts(small, { rank: 4, dropout: 1 })).toThrow(/`dropout` must be a number in \[0, 1\), received 1/);
    expect(() => loraParamCounts(small, { rank: 4, targets: [] })).toThrow(/`targets` must be a non-empty list/);
    expect(() => loraParamCounts(small, { rank: 4, rnak: 2 } as never)).toThrow(/LoRA has no option `rnak`/);
    expect(() => loraParamCounts(small, { rank: 4 })).not.toThrow(LayerConfigError);
  });
});

describe.each(BACKENDS)("LoRA on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("starts equal to the base (B = 0, A as the book: uniform within 1/sqrt(r)); base frozen; count printed by the model", () => {
    const { base, copy } = baseAndCopy();
    const { xs } = batch(2, 8, 1);
    const before = base.predict(xs) as tf.Tensor;
    const counts = applyLoRA(copy, { rank: 4, alpha: 8 });
    expect(counts).toEqual({ trainable: 2 * 4 * PER_BLOCK_SIDES, frozen: base.countParams(), total: base.countParams() + 2 * 4 * PER_BLOCK_SIDES });
    expect(copy.countParams()).toBe(counts.total);
    expect(copy.trainableWeights.map((w) => w.originalName).every((n) => /\/lora_[ab]$/.test(n))).toBe(true);
    expect(copy.trainableWeights).toHaveLength(2 * 4 * 2);
    expect(maxAbsDiff(copy.predict(xs) as tf.Tensor, before)).toBe(0);
    for (const [p, v] of weightsByPath(copy)) {
      if (p.endsWith("lora_b")) expect(tf.max(tf.abs(v.read())).dataSync()[0]).toBe(0);
      if (p.endsWith("lora_a")) {
        const a = v.read().dataSync();
        expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(0.5); // 1/sqrt(4)
        expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.3);
      }
    }
    expect(() => applyLoRA(copy, { rank: 2 })).toThrow(/has LoRA adapters already/);
    base.dispose();
    copy.dispose();
  });

  it("a training step on the fused head changes the adapters only; merge gives the same logits; the KV cache uses the adapters", async () => {
    const model = createGPT(small);
    applyLoRA(model, { rank: 4, alpha: 8, targets: ["attn", "mlp/c_fc", "h1/mlp/c_proj"] });
    model.compile({ optimizer: adamW({ learningRate: 1e-2 }), loss: sparseCrossEntropyFromLogits });
    expect(model.usesFusedTraining).toBe(true);
    const before = new Map([...weightsByPath(model)].map(([p, v]) => [p, v.read().clone()]));
    const { xs, ys } = batch(4, 8, 2);
    const labels = tf.expandDims(ys, -1);
    const first = (await model.trainOnBatch(xs, labels)) as number;
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, labels);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(model.fusedSteps).toBe(4);
    expect((await model.trainOnBatch(xs, labels)) as number).toBeLessThan(first);
    let adapters = 0;
    for (const [p, v] of weightsByPath(model)) {
      const diff = maxAbsDiff(v.read(), before.get(p) as tf.Tensor);
      if (/\/lora_[ab]$/.test(p)) {
        adapters++;
        expect(diff, p).toBeGreaterThan(0);
      } else expect(diff, p).toBe(0);
    }
    expect(adapters).toBe(2 * 2 * 3 + 2 * 1);
    tf.dispose([...before.values()]);

    const adapted = model.predict(xs) as tf.Tensor3D;
    // KV-cache decoding (generate's path) computes the adapted model too.
    const decoder = new KVCacheDecoder(model);
    const row = Array.from(xs.slice([0, 0], [1, 8]).dataSync());
    const last = decoder.step(row);
    expect(maxAbsDiff(last, tf.reshape(adapted.slice([0, 7, 0], [1, 1, 97]), [97]))).toBeLessThan(1e-4);
    decoder.dispose();

    expect(() => pretrainedTensors(model)).toThrow(/has LoRA adapters.*mergeLoRA\(model\) first/);
    mergeLoRA(model);
    expect(hasLoRA(model)).toBe(false);
    expect(model.weights.some((w) => w.originalName.includes("lora"))).toBe(false);
    expect(model.countParams()).toBe(countParams(small));
    expect(model.trainableWeights.length).toBe(model.weights.length);
    expect(maxAbsDiff(model.predict(xs) as tf.Tensor, adapted)).toBeLessThan(1e-4);
    expect(pretrainedTensors(model).tensors.length).toBeGreaterThan(0); // savePretrained's input: a plain GPT-2
    model.dispose();
  });
});

describe(`LoRA adapter files on ${MAIN_BACKEND}`, () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend(MAIN_BACKEND);
    dir = await mkdtemp(path.join(os.tmpdir(), "tfgpt-lora-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("save/load round trip: the adapters alone, loaded onto the same base, give the same logits", async () => {
    const { base, copy } = baseAndCopy();
    const identity = baseIdentity(base);
    applyLoRA(base, { rank: 2, alpha: 4, targets: ["c_attn", "h1/mlp"] });
    perturbAdapters(base, 10);
    expect(baseIdentity(base)).toEqual(identity); // adapters are not part of the base
    const { xs } = batch(2, 8, 3);
    const adapted = base.predict(xs) as tf.Tensor;

    const files = toAdapterFiles(base);
    expect(JSON.parse(files.config)).toMatchObject({ format: "tfgpt-lora", rank: 2, alpha: 4, targets: ["c_attn", "h1/mlp"], base: { weights: identity.weights } });
    expect(JSON.parse(files.config).kernels).toEqual(["h0/attn/c_attn", "h1/attn/c_attn", "h1/mlp/c_fc", "h1/mlp/c_proj"]);
    await saveAdapters(base, path.join(dir, "adapters"));
    expect((await readdir(path.join(dir, "adapters"))).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    const bytes = (await stat(path.join(dir, "adapters", "adapter_model.safetensors"))).size;
    expect(bytes).toBeLessThan(4 * 2 * (64 + 64 + 80 + 80) + 1024); // the adapters' floats + a header

    const counts = await loadAdaptersFromDir(copy, path.join(dir, "adapters"));
    expect(counts.trainable).toBe(2 * (64 + 64 + 80 + 80));
    expect(maxAbsDiff(copy.predict(xs) as tf.Tensor, adapted)).toBe(0);
    // And they train (only they) after loading: compile freezes the base.
    copy.compile({ optimizer: tf.train.sgd(0.1), loss: sparseCrossEntropyFromLogits });
    expect(copy.trainableWeights.length).toBe(8);
    await expect(loadAdapters(copy, { config: files.config, weights: Buffer.concat(files.weights) })).rejects.toThrow(/has LoRA adapters already/);
    base.dispose();
    copy.dispose();
  });

  it("adapters are refused on another base (both identities named), and on a bad directory", async () => {
    const model = createGPT(small);
    applyLoRA(model, { rank: 2 });
    const files = toAdapterFiles(model);
    const other = createGPT(small); // other random weights
    await expect(loadAdapters(other, { config: files.config, weights: Buffer.concat(files.weights) })).rejects.toThrow(
      /trained on another base model: theirs is 2 layers x 16 wide, 2 heads, vocab 97, context 8, qkv bias, weights [0-9a-f]{16}; this model is 2 layers x 16 wide.*weights [0-9a-f]{16}/,
    );
    const wider = createGPT({ ...small, contextLength: 16 });
    await expect(loadAdapters(wider, { config: files.config, weights: Buffer.concat(files.weights) })).rejects.toThrow(/context 8, .*this model is .*context 16/);
    expect(hasLoRA(other)).toBe(false);
    await expect(loadAdaptersFromDir(other, path.join(dir, "missing"))).rejects.toThrow(/adapter_config\.json: cannot read the LoRA adapters \(ENOENT\)/);
    await expect(loadAdapters(other, { config: "{}", weights: new Uint8Array(8) })).rejects.toThrow(/not a tfgpt LoRA adapter config/);
    expect(() => toAdapterFiles(other)).toThrow(/has no LoRA adapters to save/);
    for (const m of [model, other, wider]) m.dispose();
  });

  it("a model with adapters saves and loads as a tfjs model (checkpoints) with its adapters, base frozen after compile", async () => {
    const model = createGPT(small);
    applyLoRA(model, { rank: 2, alpha: 2, dropout: 0.1, targets: ["mlp"] });
    perturbAdapters(model, 20);
    const { xs } = batch(2, 8, 4);
    const want = model.predict(xs) as tf.Tensor;
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    const loaded = (await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts))) as GPTModel;
    expect(hasLoRA(loaded)).toBe(true);
    expect(maxAbsDiff(loaded.predict(xs) as tf.Tensor, want)).toBe(0);
    loaded.compile({ optimizer: tf.train.sgd(0.1), loss: sparseCrossEntropyFromLogits });
    expect(loaded.trainableWeights.map((w) => w.originalName).sort()).toEqual(
      ["h0/mlp/c_fc/lora_a", "h0/mlp/c_fc/lora_b", "h0/mlp/c_proj/lora_a", "h0/mlp/c_proj/lora_b", "h1/mlp/c_fc/lora_a", "h1/mlp/c_fc/lora_b", "h1/mlp/c_proj/lora_a", "h1/mlp/c_proj/lora_b"],
    );
    model.dispose();
    loaded.dispose();
  });

  it("frozenLinear computes linear's value and input gradient", () => {
    const x = tf.randomNormal([5, 4], 0, 1, "float32", 1) as tf.Tensor2D;
    const w = tf.randomNormal([4, 3], 0, 1, "float32", 2) as tf.Tensor2D;
    const b = tf.randomNormal([3], 0, 1, "float32", 3) as tf.Tensor1D;
    const dy = tf.randomNormal([5, 3], 0, 1, "float32", 4);
    const [g1] = tf.grads((xi: tf.Tensor) => frozenLinear(xi as tf.Tensor2D, w, b))([x], dy);
    const [g2] = tf.grads((xi: tf.Tensor) => linear(xi as tf.Tensor2D, w, b))([x], dy);
    expect(maxAbsDiff(frozenLinear(x, w, b), linear(x, w, b))).toBeLessThan(1e-6);
    expect(maxAbsDiff(g1 as tf.Tensor, g2 as tf.Tensor)).toBeLessThan(1e-5);
  });
});
