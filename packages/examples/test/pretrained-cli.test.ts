import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferSource } from "@tfgpt/layers";
import { readSafetensorsHeader, readTensor } from "@tfgpt/layers/internal";
import { memoryIO } from "../src/io.js";
import { runTrain, TrainConfigSchema } from "../src/train.js";
import { DATA_DIR, errorLine, REPO_ROOT, runCli } from "./helpers.js";

// A random GPT-2 saved by transformers 5.18 with its tokenizer (packages/layers/scripts/make-gpt2-fixtures.py).
const FIXTURE = path.join(REPO_ROOT, "packages/layers/test/fixtures/hf-gpt2-tiny");
const expected = JSON.parse(await readFile(path.join(FIXTURE, "expected.json"), "utf8")) as {
  prompt: string;
  greedy_text: string;
  max_new_tokens: number;
};
const sampleArgs = (dir: string) => ["sample", "--checkpoint", dir, "--prompt", expected.prompt, "--max-new-tokens", String(expected.max_new_tokens), "--backend", "wasm"];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-pretrained-cli-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copyFixture(name: string, files: string[]): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  for (const f of files) await copyFile(path.join(FIXTURE, f), path.join(dir, f));
  return dir;
}

describe("tfgpt sample --checkpoint <Hugging Face directory>", () => {
  it("prints transformers' greedy continuation (tokenizer.json beside the weights)", () => {
    const result = runCli(sampleArgs(FIXTURE));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${expected.prompt}${expected.greedy_text}\n`);
    expect(result.stderr).toMatch(/pretrained GPT-2 directory .*; tokenizer: tokenizer\.json/);
  });

  it("reads vocab.json + merges.txt when there is no tokenizer.json; refuses a non-GPT-2 vocabulary without tokenizer files", async () => {
    const dir = await copyFixture("vocab-merges", ["config.json", "model.safetensors", "vocab.json", "merges.txt"]);
    const result = runCli(sampleArgs(dir));
    expect(result.stdout).toBe(`${expected.prompt}${expected.greedy_text}\n`);
    expect(result.stderr).toMatch(/tokenizer: vocab\.json \+ merges\.txt/);
    const bare = await copyFixture("bare", ["config.json", "model.safetensors"]);
    const refused = runCli(sampleArgs(bare));
    expect(refused.code).toBe(1);
    expect(errorLine(refused, "sample")).toMatch(/has no tokenizer\.json, vocab\.json \+ merges\.txt or encoder\.json \+ vocab\.bpe, and its vocabulary \(384\) is not GPT-2's 50,257/);
  });

  it("OpenAI's release layout of the same weights (hparams.json + TensorFlow checkpoint, encoder.json + vocab.bpe) prints the same continuation", () => {
    const openai = path.join(REPO_ROOT, "packages/layers/test/fixtures/openai-gpt2-tiny");
    const result = runCli(sampleArgs(openai));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${expected.prompt}${expected.greedy_text}\n`);
    expect(result.stderr).toMatch(/tokenizer: encoder\.json \+ vocab\.bpe/);
  });

  it("a broken safetensors file is one clear error line", async () => {
    const dir = await copyFixture("broken", ["config.json", "tokenizer.json"]);
    const bytes = await readFile(path.join(FIXTURE, "model.safetensors"));
    await writeFile(path.join(dir, "model.safetensors"), bytes.subarray(0, 1000));
    const result = runCli(sampleArgs(dir));
    expect(result.code).toBe(1);
    expect(errorLine(result, "sample")).toMatch(/broken\/model\.safetensors: not a valid safetensors file: .*truncated/);
  });
});

describe("tfgpt convert", () => {
  it("hf -> tfjs -> hf: each samples the same text; the tokenizer comes along", async () => {
    const tfjs = path.join(tmp, "conv-tfjs");
    const hf = path.join(tmp, "conv-hf");
    expect(runCli(["convert", "--from", FIXTURE, "--to", tfjs]).code).toBe(0);
    expect(await readdir(tfjs)).toContain("latest.json");
    expect(runCli(sampleArgs(tfjs)).stdout).toBe(`${expected.prompt}${expected.greedy_text}\n`);
    expect(runCli(["convert", "--from", tfjs, "--to", hf, "--format", "hf"]).code).toBe(0);
    expect((await readdir(hf)).sort()).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    expect(runCli(sampleArgs(hf)).stdout).toBe(`${expected.prompt}${expected.greedy_text}\n`);
    // The weights survive both trips bit for bit.
    const ours = bufferSource(await readFile(path.join(hf, "model.safetensors")));
    const theirs = bufferSource(await readFile(path.join(FIXTURE, "model.safetensors")));
    const oursHeader = await readSafetensorsHeader(ours, "ours");
    const theirsHeader = await readSafetensorsHeader(theirs, "theirs");
    expect([...oursHeader.entries.keys()].sort()).toEqual([...theirsHeader.entries.keys()].sort());
    for (const name of theirsHeader.entries.keys()) {
      const a = await readTensor(ours, oursHeader, name);
      const b = await readTensor(theirs, theirsHeader, name);
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    }
    const again = runCli(["convert", "--from", tfjs, "--to", hf]);
    expect(again.code).toBe(2);
    expect(errorLine(again, "convert")).toMatch(/`--to` .* already exists/);
    const bad = runCli(["convert", "--from", FIXTURE, "--to", path.join(tmp, "x"), "--format", "onnx"]);
    expect(bad.code).toBe(2);
  });
});

describe("tfgpt train --init-from", () => {
  it("fine-tunes from the pretrained weights: step 0's validation loss is the pretrained model's, and training lowers it", async () => {
    const text = path.join(tmp, "excerpt.txt");
    await writeFile(text, (await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8")).slice(0, 6000));
    const base = { initFrom: FIXTURE, text, context: "16", batchSize: "4", lr: "0.01", evalEvery: "4", backend: "wasm" };
    const run = await runTrain(TrainConfigSchema.parse({ ...base, steps: "8", out: path.join(tmp, "ft") }), memoryIO());
    const metrics = (await readFile(path.join(run.runDir, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; val_loss?: number });
    const val = metrics.filter((m) => m.val_loss !== undefined);
    // A fresh init of this shape would start near ln(384) = 5.95; the pretrained (std 0.6) weights start far above it.
    expect(val[0]?.step).toBe(0);
    expect(val[0]?.val_loss).toBeGreaterThan(8);
    expect(run.valLoss).toBeLessThan(val[0]?.val_loss as number);
    // The same step-0 loss twice: the weights come from the directory, not from the seed.
    const again = await runTrain(TrainConfigSchema.parse({ ...base, steps: "1", seed: "7", out: path.join(tmp, "ft2") }), memoryIO());
    const first = JSON.parse((await readFile(path.join(again.runDir, "metrics.jsonl"), "utf8")).split("\n")[0] as string) as { val_loss: number };
    expect(first.val_loss).toBeCloseTo(val[0]?.val_loss as number, 5);
    expect(() => TrainConfigSchema.parse({ initFrom: FIXTURE, preset: "tiny" })).toThrow(/`--init-from` cannot be used with `--preset`/);
  });
});
