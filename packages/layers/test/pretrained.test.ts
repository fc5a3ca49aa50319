import * as tf from "@tensorflow/tfjs";
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countParams, createGPT, GPT_PRESETS, parseGPTConfig } from "../src/gpt.js";
import { fromPretrained, savePretrained } from "../src/pretrained-node.js";
import { fromPretrained as fromPretrainedBrowser, gpt2WeightTable, gptConfigFromHF, toPretrainedFiles, weightsByPath } from "../src/pretrained.js";
import "../src/register.js";
import { bufferSource, encodeSafetensors, readSafetensorsHeader, readTensor, type NamedTensorData } from "../src/safetensors.js";
import { MAIN_BACKEND, maxAbsDiff, offTensorflow, ON_TENSORFLOW, useBackend } from "./backends.js";

// Made by scripts/make-gpt2-fixtures.py (transformers 5.18, torch 2.13): see its docstring.
const FIXTURE = path.join(import.meta.dirname, "fixtures", "hf-gpt2-tiny");
const expected = JSON.parse(await readFile(path.join(FIXTURE, "expected.json"), "utf8")) as {
  prompt_ids: number[];
  greedy_ids: number[];
  eos_token_id: number;
};
const expectedBytes = await readFile(path.join(FIXTURE, "expected.safetensors"));
const expectedSource = bufferSource(expectedBytes);
const expectedHeader = await readSafetensorsHeader(expectedSource, "expected.safetensors");
const hfLogits = await readTensor(expectedSource, expectedHeader, "logits"); // [T, 384]

let tmp: string;
beforeAll(async () => {
  await useBackend(MAIN_BACKEND);
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-pretrained-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of the fixture directory (config + weights only) that a test may break. */
async function copyFixture(name: string, files = ["config.json", "model.safetensors"]): Promise<string> {
  const dir = path.join(tmp, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const f of files) await copyFile(path.join(FIXTURE, f), path.join(dir, f));
  return dir;
}

function logitsOf(model: tf.LayersModel, ids: number[]): tf.Tensor2D {
  return tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], "int32")) as tf.Tensor).reshape([ids.length, -1]) as tf.Tensor2D);
}

describe("presets", () => {
  it("gpt2* equal OpenAI's releases (parameter counts as transformers reports them); gpt2-small keeps no qkv bias", () => {
    expect(countParams(GPT_PRESETS.gpt2)).toBe(124_439_808);
    expect(countParams(GPT_PRESETS["gpt2-medium"])).toBe(354_823_168);
    expect(countParams(GPT_PRESETS["gpt2-large"])).toBe(774_030_080);
    expect(countParams(GPT_PRESETS["gpt2-xl"])).toBe(1_557_611_200);
    expect(GPT_PRESETS["gpt2-small"].qkvBias).toBe(false);
    expect(countParams(GPT_PRESETS["gpt2-small"])).toBe(124_412_160);
  });
});

describe("fromPretrained (an HF directory made by transformers)", () => {
  it("gives HF's logits within 1e-4", async () => {
    const model = await fromPretrained(FIXTURE);
    const ours = logitsOf(model, expected.greedy_ids);
    const theirs = tf.tensor2d(hfLogits, ours.shape);
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-4);
    tf.dispose([ours, theirs]);
    model.dispose();
  });

  it("maps by layer path even when tfjs suffixed the variable names (second model in the process)", async () => {
    const first = await fromPretrained(FIXTURE);
    const second = await fromPretrained(FIXTURE);
    expect(second.weights.some((w) => /_\d+$/.test(w.name))).toBe(true);
    expect([...weightsByPath(second).keys()]).toEqual([...weightsByPath(first).keys()]);
    const a = logitsOf(first, expected.prompt_ids);
    const b = logitsOf(second, expected.prompt_ids);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b]);
    first.dispose();
    second.dispose();
  });

  it("the browser entry loads the same files from an ArrayBuffer and from a Blob", async () => {
    const config = await readFile(path.join(FIXTURE, "config.json"), "utf8");
    const weights = await readFile(path.join(FIXTURE, "model.safetensors"));
    const fromBuffer = await fromPretrainedBrowser({ config, weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) });
    const fromBlob = await fromPretrainedBrowser({ config: new Blob([config]), weights: new Blob([weights]) });
    for (const model of [fromBuffer, fromBlob]) {
      const ours = logitsOf(model, expected.greedy_ids);
      const theirs = tf.tensor2d(hfLogits, ours.shape);
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-4);
      tf.dispose([ours, theirs]);
      model.dispose();
    }
  });
});

describe("safetensors dtypes", () => {
  it("F16 and BF16 decode to torch's float32 upcast exactly", async () => {
    for (const dtype of ["f16", "bf16"]) {
      const decoded = await readTensor(expectedSource, expectedHeader, dtype);
      const reference = await readTensor(expectedSource, expectedHeader, `${dtype}_as_f32`);
      expect(expectedHeader.entries.get(dtype)?.dtype).toBe(dtype.toUpperCase());
      expect(Array.from(decoded)).toEqual(Array.from(reference));
    }
  });

  it("a checkpoint stored in F16 loads (weights = the F16 values)", async () => {
    // Rewrite the fixture's weights as F16 by hand: header dtype F16, data halved.
    const bytes = await readFile(path.join(FIXTURE, "model.safetensors"));
    const src = bufferSource(bytes);
    const header = await readSafetensorsHeader(src, "model.safetensors");
    const tensors: NamedTensorData[] = [];
    for (const e of header.entries.values()) tensors.push({ name: e.name, shape: e.shape, data: await readTensor(src, header, e.name) });
    const f32Chunks = encodeSafetensors(tensors);
    const json = JSON.parse(new TextDecoder().decode(f32Chunks[1])) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const halves: Uint8Array[] = [];
    let offset = 0;
    for (const t of tensors) {
      const h = new Uint16Array(t.data.length);
      for (let i = 0; i < h.length; i++) h[i] = toHalf(t.data[i] as number);
      const entry = json[t.name] as { dtype: string; data_offsets: [number, number] };
      entry.dtype = "F16";
      entry.data_offsets = [offset, offset + 2 * h.length];
      offset += 2 * h.length;
      halves.push(new Uint8Array(h.buffer));
    }
    const headerBytes = new TextEncoder().encode(JSON.stringify(json));
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    const dir = await copyFixture("f16", ["config.json"]);
    await writeFile(path.join(dir, "model.safetensors"), Buffer.concat([prefix, headerBytes, ...halves]));
    const model = await fromPretrained(dir);
    const ours = logitsOf(model, expected.prompt_ids);
    const theirs = tf.tensor2d(hfLogits.subarray(0, ours.size), ours.shape);
    const diff = maxAbsDiff(ours, theirs);
    expect(diff).toBeGreaterThan(0); // it is F16, not the F32 file
    expect(diff).toBeLessThan(0.5);
    tf.dispose([ours, theirs]);
    model.dispose();
  });
});

/** float32 -> float16 bits, round to nearest (normal range only; enough for weights of size ~1). */
function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const bits = new Uint32Array(f.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  const mantissa = bits & 0x7fffff;
  let half = sign | (exponent << 10) | (mantissa >>> 13);
  if (mantissa & 0x1000) half++;
  return half;
}

describe("savePretrained", () => {
  it("export -> import is bit-exact, and the file holds transformers' names and metadata", async () => {
    const model = await fromPretrained(FIXTURE);
    const out = path.join(tmp, "saved");
    await savePretrained(model, out);
    expect((await readdir(out)).sort()).toEqual(["config.json", "model.safetensors"]);
    const again = await fromPretrained(out);
    const a = model.getWeights();
    const b = again.getWeights();
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(maxAbsDiff(a[i] as tf.Tensor, b[i] as tf.Tensor)).toBe(0);
    const theirs = await readSafetensorsHeader(bufferSource(await readFile(path.join(FIXTURE, "model.safetensors"))), "hf");
    const ours = await readSafetensorsHeader(bufferSource(await readFile(path.join(out, "model.safetensors"))), "ours");
    expect([...ours.entries.keys()].sort()).toEqual([...theirs.entries.keys()].sort());
    expect(ours.metadata).toEqual({ format: "pt" });
    const config = JSON.parse(await readFile(path.join(out, "config.json"), "utf8"));
    expect(gptConfigFromHF(config).config).toEqual(gptConfigFromHF(JSON.parse(await readFile(path.join(FIXTURE, "config.json"), "utf8"))).config);
    expect((await readdir(tmp)).some((f) => f.includes(".tmp-"))).toBe(false);
    model.dispose();
    again.dispose();
  });

  it("shards past maxShardBytes (with an index) and loads them back", async () => {
    const model = await fromPretrained(FIXTURE);
    const out = path.join(tmp, "sharded");
    await savePretrained(model, out, { maxShardBytes: 60_000 });
    const files = (await readdir(out)).sort();
    expect(files).toContain("model.safetensors.index.json");
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
    const again = await fromPretrained(out);
    const a = logitsOf(model, expected.prompt_ids);
    const b = logitsOf(again, expected.prompt_ids);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([a, b]);
    model.dispose();
    again.dispose();
  });

  it("a model without qkv bias (gpt2-small style) saves a zero bias and loads back with the same logits", async () => {
    const model = createGPT({ vocabSize: 50, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 1, qkvBias: false });
    const { weights } = toPretrainedFiles(model);
    const bytes = Buffer.concat(weights);
    const again = await fromPretrainedBrowser({ config: toPretrainedFiles(model).config, weights: bytes });
    const a = logitsOf(model, [1, 2, 3]);
    const b = logitsOf(again, [1, 2, 3]);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
    tf.dispose([a, b]);
    model.dispose();
    again.dispose();
  });
});

describe("bad input: a clear error naming the file, nothing half-loaded", () => {
  async function expectRefused(dir: string, pattern: RegExp): Promise<void> {
    const before = tf.memory().numTensors;
    await expect(fromPretrained(dir)).rejects.toThrow(pattern);
    expect(tf.memory().numTensors).toBe(before);
  }

  it("a directory without config.json or without weights", async () => {
    const noConfig = await copyFixture("no-config", ["model.safetensors"]);
    await expectRefused(noConfig, /no-config\/config\.json: no such file/);
    const noWeights = await copyFixture("no-weights", ["config.json"]);
    await expectRefused(noWeights, /no model\.safetensors or model\.safetensors\.index\.json/);
  });

  it("a config that is not GPT-2 or that tfgpt cannot express", async () => {
    const base = JSON.parse(await readFile(path.join(FIXTURE, "config.json"), "utf8"));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model_type: "llama" }, /config\.json: `model_type` is "llama"; .*"gpt2"/],
      [{ scale_attn_by_inverse_layer_idx: true }, /`scale_attn_by_inverse_layer_idx` is true; tfgpt's GPT can only express false/],
      [{ activation_function: "relu" }, /`activation_function` is "relu"/],
      [{ n_inner: 100 }, /`n_inner` is 100; .*null or 4 \* n_embd \(128\)/],
      [{ layer_norm_epsilon: 1e-6 }, /`layer_norm_epsilon` is 0\.000001/],
      [{ n_head: 5 }, /config\.json: `numHeads` must divide `embeddingDim` \(32\), received 5/],
      [{ n_embd: "big" }, /config\.json: `n_embd` .*received "big"/],
    ];
    for (const [patch, pattern] of cases) {
      const dir = await copyFixture("bad-config");
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ ...base, ...patch }));
      await expectRefused(dir, pattern);
    }
  });

  it("a missing, extra or wrongly shaped tensor (named, with both shapes)", async () => {
    const bytes = await readFile(path.join(FIXTURE, "model.safetensors"));
    const src = bufferSource(bytes);
    const header = await readSafetensorsHeader(src, "model.safetensors");
    const all: NamedTensorData[] = [];
    for (const e of header.entries.values()) all.push({ name: e.name, shape: e.shape, data: await readTensor(src, header, e.name) });
    const write = async (name: string, tensors: typeof all) => {
      const dir = await copyFixture(name, ["config.json"]);
      await writeFile(path.join(dir, "model.safetensors"), Buffer.concat(encodeSafetensors(tensors)));
      return dir;
    };
    await expectRefused(
      await write("missing", all.filter((t) => t.name !== "transformer.h.1.mlp.c_fc.bias")),
      /missing tensor "h\.1\.mlp\.c_fc\.bias" \(expected shape \[128\]\)/,
    );
    await expectRefused(
      await write("extra", [...all, { name: "transformer.h.2.ln_1.weight", shape: [32], data: new Float32Array(32) }]),
      /extra\/model\.safetensors: unexpected tensor "transformer\.h\.2\.ln_1\.weight" \[32\]/,
    );
    const reshaped = all.map((t) => (t.name === "transformer.h.0.attn.c_attn.weight" ? { ...t, shape: [96, 32] } : t));
    await expectRefused(
      await write("shape", reshaped),
      /shape\/model\.safetensors: tensor "transformer\.h\.0\.attn\.c_attn\.weight" has shape \[96, 32\], expected \[32, 96\]/,
    );
  });

  it("a truncated file, offsets past the end, an unsupported dtype", async () => {
    const bytes = await readFile(path.join(FIXTURE, "model.safetensors"));
    const truncated = await copyFixture("truncated", ["config.json"]);
    await writeFile(path.join(truncated, "model.safetensors"), bytes.subarray(0, bytes.length - 100));
    await expectRefused(truncated, /truncated\/model\.safetensors: not a valid safetensors file: tensor ".*" ends at byte \d+ of the data but the file holds only \d+/);
    const headerOnly = await copyFixture("header-cut", ["config.json"]);
    await writeFile(path.join(headerOnly, "model.safetensors"), bytes.subarray(0, 50));
    await expectRefused(headerOnly, /header-cut\/model\.safetensors: not a valid safetensors file: the header claims \d+ bytes but the file has only 42/);
    const n = Number(bytes.readBigUInt64LE(0));
    const json = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
    json["transformer.wte.weight"].dtype = "I32";
    const text = Buffer.from(JSON.stringify(json).padEnd(n, " "));
    expect(text.length).toBe(n);
    const int = await copyFixture("dtype", ["config.json"]);
    await writeFile(path.join(int, "model.safetensors"), Buffer.concat([bytes.subarray(0, 8), text, bytes.subarray(8 + n)]));
    await expectRefused(int, /dtype\/model\.safetensors: tensor "transformer\.wte\.weight" has dtype I32; only F32, F16, BF16 can be loaded/);
  });

  it.skipIf(ON_TENSORFLOW)(offTensorflow("a model too large for the backend is refused before allocating", "the 2 GiB limit is wasm's; tensorflow has none"), async () => {
    const dir = await copyFixture("too-large");
    await expect(fromPretrained(dir, { maxWeightBytes: 1000 })).rejects.toThrow(/39,808 parameters needs 0\.2 MiB of float32 weights, more than the wasm backend holds \(0\.0 MiB\)/);
    const xl = await copyFixture("xl", []);
    const config = { model_type: "gpt2", vocab_size: 50257, n_positions: 1024, n_embd: 1600, n_layer: 48, n_head: 25 };
    await writeFile(path.join(xl, "config.json"), JSON.stringify(config));
    // A header naming every tensor of gpt2-xl over a sparse file: the size check comes before any read.
    const table = gpt2WeightTable(parseGPTConfig({ ...GPT_PRESETS["gpt2-xl"] }));
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const row of table) {
      const size = 4 * row.shape.reduce((a, b) => a * b, 1);
      header[`transformer.${row.hf}`] = { dtype: "F32", shape: row.shape, data_offsets: [offset, offset + size] };
      offset += size;
    }
    const headerBytes = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(headerBytes.length));
    // A sparse file: the right size, no data written.
    const handle = await open(path.join(xl, "model.safetensors"), "w");
    await handle.write(Buffer.concat([prefix, headerBytes]));
    await handle.truncate(8 + headerBytes.length + offset);
    await handle.close();
    await expectRefused(xl, /1,557,611,200 parameters needs 5\.8 GiB of float32 weights, more than the wasm backend holds \(2\.0 GiB\)/);
  });
});
