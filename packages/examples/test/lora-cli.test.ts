import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gptConfigOfModel, hasLoRA, loraParamCounts } from "@tfgpt/layers";
import { weightsByPath } from "@tfgpt/layers/internal";
import { fromPretrained, loadAdapters } from "@tfgpt/layers/node";
import { loadCheckpoint } from "../src/checkpoint.js";
import { memoryIO } from "../src/io.js";
import { runTrain, TrainConfigSchema } from "../src/train.js";
import { BACKEND_OPTION, DATA_DIR, errorLine, REPO_ROOT, runCli, useTestBackend } from "./helpers.js";

// A random GPT-2 saved by transformers (packages/layers/scripts/make-gpt2-fixtures.py).
const FIXTURE = path.join(REPO_ROOT, "packages/layers/test/fixtures/hf-gpt2-tiny");

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-lora-cli-"));
  await useTestBackend();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("tfgpt train --init-from DIR --lora-rank R", () => {
  it("trains the adapters only, prints trainable/total, writes the adapters alone; they load back onto the base with the checkpoint's logits", async () => {
    const text = path.join(tmp, "excerpt.txt");
    await writeFile(text, (await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8")).slice(0, 6000));
    const config = TrainConfigSchema.parse({
      initFrom: FIXTURE,
      text,
      context: "16",
      batchSize: "4",
      lr: "0.05",
      evalEvery: "6",
      steps: "6",
      loraRank: "2",
      loraAlpha: "4",
      loraTargets: "c_attn,mlp",
      out: path.join(tmp, "lora"),
      ...BACKEND_OPTION,
    });
    const io = memoryIO();
    const run = await runTrain(config, io);
    const base = await fromPretrained(FIXTURE);
    const counts = loraParamCounts(gptConfigOfModel(base), { rank: 2, targets: ["c_attn", "mlp"] });
    expect(io.err()).toContain(
      `LoRA rank 2, alpha 4 on c_attn, mlp: ${counts.trainable.toLocaleString("en-US")} trainable of ${counts.total.toLocaleString("en-US")} parameters`,
    );
    const metrics = (await readFile(path.join(run.runDir, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; val_loss?: number });
    const val = metrics.filter((m) => m.val_loss !== undefined);
    expect(val[0]?.step).toBe(0);
    expect(run.valLoss).toBeLessThan(val[0]?.val_loss as number);

    // The checkpoint: base weights exactly the pretrained ones, adapters trained.
    const { model } = await loadCheckpoint(run.checkpoint);
    expect(hasLoRA(model)).toBe(true);
    const baseWeights = weightsByPath(base);
    let adapters = 0;
    for (const [p, v] of weightsByPath(model)) {
      if (/lora_[ab]$/.test(p)) {
        adapters++;
        continue;
      }
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(v.read(), (baseWeights.get(p) as tf.LayerVariable).read()))).dataSync()[0]);
      expect(d, p).toBe(0);
    }
    expect(adapters).toBeGreaterThan(0);

    // The adapters alone, loaded onto a fresh base: the checkpoint's logits.
    expect((await readdir(path.join(run.runDir, "adapters"))).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    await loadAdapters(base, path.join(run.runDir, "adapters"));
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], "int32");
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(base.predict(ids) as tf.Tensor, model.predict(ids) as tf.Tensor))).dataSync()[0]);
    expect(d).toBeLessThan(1e-5);
    base.dispose();
    model.dispose();

    // convert --format hf folds them in: a plain GPT-2 directory.
    const hf = path.join(tmp, "lora-hf");
    const converted = runCli(["convert", "--from", run.runDir, "--to", hf, "--format", "hf"]);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toContain("merged the checkpoint's LoRA adapters into its weights");
    expect(await readdir(hf)).toContain("model.safetensors");
  });
});

describe("tfgpt train LoRA flags: bad input", () => {
  const parse = (flags: Record<string, unknown>) => () => TrainConfigSchema.parse(flags);
  it("bad values and combinations are refused naming the flag", () => {
    expect(parse({ loraRank: "0" })).toThrow(/`--lora-rank` must be an integer in \[1, 4096\]/);
    expect(parse({ loraRank: "2", loraAlpha: "0" })).toThrow(/`--lora-alpha` must be a number > 0/);
    expect(parse({ loraAlpha: "8" })).toThrow(/`--lora-alpha` needs `--lora-rank`/);
    expect(parse({ loraTargets: "attn" })).toThrow(/`--lora-targets` needs `--lora-rank`/);
    expect(parse({ loraRank: "2", loraTargets: "attn,,mlp" })).toThrow(/`--lora-targets` must be a comma-separated list/);
    expect(parse({ resume: "x", loraRank: "2" })).toThrow(/`--lora-rank` cannot be used with `--resume`/);
    expect(parse({ loraRank: "2", loraTargets: "attn, mlp/c_fc" })()).toMatchObject({ loraRank: 2, loraTargets: ["attn", "mlp/c_fc"] });
  });

  it("a target that names no layer and a rank above the smallest side are refused before anything is written", async () => {
    const out = path.join(tmp, "never");
    const train = (flags: Record<string, unknown>) => runTrain(TrainConfigSchema.parse({ steps: "1", out, ...BACKEND_OPTION, ...flags }), memoryIO());
    await expect(train({ loraRank: "2", loraTargets: "c_attn,qkv" })).rejects.toThrow(/`--lora-targets`: LoRA target "qkv" names no layer/);
    await expect(train({ loraRank: "65" })).rejects.toThrow(/`--lora-rank`: LoRA `rank` must be at most the smaller side of h0\/attn\/c_attn \[64, 192\] \(64\), received 65/);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it("on wasm, full training of gpt2 (124M) is refused with its numbers and LoRA suggested", () => {
    const full = runCli(["train", "--preset", "gpt2", "--backend", "wasm", "--steps", "1", "--out", path.join(tmp, "never2")]);
    expect(full.code).toBe(2);
    expect(errorLine(full, "train")).toMatch(/model gpt2 has 123,702,528 parameters: training it needs 1\.8 GiB .*use --backend tensorflow .*LoRA \(--lora-rank 8\)/);
  });
});
