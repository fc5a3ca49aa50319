/**
 * `tfgpt finetune` on the tiny GPT-2 fixture (random weights, vocabulary 384, context 64):
 * classification accuracy rises on a separable toy set, the instruction loss falls, a resumed run
 * equals an uninterrupted one bit for bit, and bad input fails with one line naming it.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import { FinetuneConfigSchema, runFinetune } from "../src/finetune.js";
import { BACKEND_OPTION, REPO_ROOT, runCli, useTestBackend } from "./helpers.js";
import { writeToyTasks } from "./toy-tasks.js";

const FIXTURE = path.join(REPO_ROOT, "packages/layers/test/fixtures/hf-gpt2-tiny");
let tmp: string;
let csv: string;
let json: string;

beforeAll(async () => {
  await useTestBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-finetune-"));
  ({ csv, json } = await writeToyTasks(tmp));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const classify = (out: string, extra: Record<string, unknown> = {}) =>
  FinetuneConfigSchema.parse({ task: "classify", data: csv, initFrom: FIXTURE, out, lr: "0.01", batchSize: "8", valFraction: "0", trainableBlocks: "all", samples: "0", ...BACKEND_OPTION, ...extra });

describe("tfgpt finetune", () => {
  it("classify: accuracy rises to >= 90% on a separable toy set in 12 steps", async () => {
    const io = memoryIO();
    const result = await runFinetune(classify(path.join(tmp, "cls"), { steps: "12" }), io);
    expect(result.step).toBe(12);
    expect(result.after.train_accuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.after.train_accuracy).toBeGreaterThan(result.before.train_accuracy as number);
    expect(result.after.train_loss).toBeLessThan(result.before.train_loss as number);
    expect(io.out()).toMatch(/accuracy before: train loss [\d.]+, train accuracy [\d.]+%\naccuracy after: {2}train loss/);
    const state = JSON.parse(await readFile(path.join(result.checkpoint, "state.json"), "utf8"));
    expect(state.train.labels).toEqual(["ham", "spam"]);
  }, 120_000);

  it("classify: a resumed run equals an uninterrupted one bit for bit", async () => {
    const straight = await runFinetune(classify(path.join(tmp, "straight"), { steps: "4" }), memoryIO());
    await runFinetune(classify(path.join(tmp, "split"), { steps: "2" }), memoryIO());
    const resumed = await runFinetune(FinetuneConfigSchema.parse({ resume: path.join(tmp, "split"), steps: "4", ...BACKEND_OPTION }), memoryIO());
    expect(resumed.step).toBe(4);
    const a = await readFile(path.join(straight.checkpoint, "weights.bin"));
    const b = await readFile(path.join(resumed.checkpoint, "weights.bin"));
    expect(b.equals(a)).toBe(true);
    const sa = JSON.parse(await readFile(path.join(straight.checkpoint, "state.json"), "utf8"));
    const sb = JSON.parse(await readFile(path.join(resumed.checkpoint, "state.json"), "utf8"));
    expect(sb.dataState).toEqual(sa.dataState);
    expect(sb.version).toBe(2);
  }, 120_000);

  it("classify with LoRA: only the adapters and the class head train; the split run resumes bit for bit", async () => {
    const io = memoryIO();
    const lora = { loraRank: "2", loraTargets: "c_attn,mlp" };
    const straight = await runFinetune(classify(path.join(tmp, "lora"), { steps: "4", ...lora }), io);
    expect(io.err()).toMatch(/LoRA rank 2, alpha 2 on c_attn, mlp: [\d,]+ trainable of [\d,]+ parameters/);
    const [, trainable, total] = /: ([\d,]+) trainable of ([\d,]+) parameters/.exec(io.err())!.map((x) => Number(x.replace(/,/g, "")));
    // The tiny fixture: 2 blocks x (c_attn [32, 96] + c_fc [32, 128] + mlp c_proj [128, 32]) adapters of rank 2, plus the [32, 2] head and its bias.
    expect(trainable).toBe(2 * 2 * (32 + 96 + 32 + 128 + 128 + 32) + 32 * 2 + 2);
    expect(total).toBeGreaterThan(trainable! * 10);
    expect(straight.after.train_loss).toBeLessThan(straight.before.train_loss as number);
    await runFinetune(classify(path.join(tmp, "lora-split"), { steps: "2", ...lora }), memoryIO());
    const resumed = await runFinetune(FinetuneConfigSchema.parse({ resume: path.join(tmp, "lora-split"), steps: "4", ...BACKEND_OPTION }), memoryIO());
    const a = await readFile(path.join(straight.checkpoint, "weights.bin"));
    const b = await readFile(path.join(resumed.checkpoint, "weights.bin"));
    expect(b.equals(a)).toBe(true);
    expect(() => FinetuneConfigSchema.parse({ task: "classify", data: csv, initFrom: FIXTURE, loraAlpha: "4" })).toThrow(/`--lora-alpha` needs `--lora-rank`/);
  }, 120_000);

  it("instruct: the masked loss falls; the checkpoint is a GPT that sample runs", async () => {
    const io = memoryIO();
    const out = path.join(tmp, "ins");
    const result = await runFinetune(
      FinetuneConfigSchema.parse({ task: "instruct", data: json, initFrom: FIXTURE, out, steps: "8", lr: "0.003", batchSize: "3", valFraction: "0", samples: "1", maxNewTokens: "3", ...BACKEND_OPTION }),
      io,
    );
    expect(result.after.train_loss).toBeLessThan((result.before.train_loss as number) - 1);
    expect(io.out()).toMatch(/### Response:\n[\s\S]*### Expected:\nIt is \w+\./);
    const sampled = runCli(["sample", "--checkpoint", out, "--prompt", "hello", "--max-new-tokens", "2", "--backend", "wasm"]);
    expect(sampled.code).toBe(0);
    expect(sampled.stdout.startsWith("hello")).toBe(true);
  }, 120_000);

  it("instruct --batch-by-length: less padding; a resumed run equals an uninterrupted one bit for bit (dropout 0.1 on, seeded by --seed)", async () => {
    const instruct = (out: string, steps: string) =>
      FinetuneConfigSchema.parse({ task: "instruct", data: json, initFrom: FIXTURE, out, steps, lr: "0.003", batchSize: "2", valFraction: "0", samples: "0", batchByLength: true, ...BACKEND_OPTION });
    const io = memoryIO();
    const straight = await runFinetune(instruct(path.join(tmp, "ins-straight"), "4"), io);
    // --batch-by-length: fewer pad positions than the random batches of the same seed.
    const [, bucketed, random] = /batches by length: (\d+) pad positions in the first epoch \(random batches: (\d+)\)/.exec(io.err())!.map(Number);
    expect(bucketed).toBeLessThan(random!);
    await runFinetune(instruct(path.join(tmp, "ins-split"), "2"), memoryIO());
    const resumed = await runFinetune(FinetuneConfigSchema.parse({ resume: path.join(tmp, "ins-split"), steps: "4", samples: "0", ...BACKEND_OPTION }), memoryIO());
    const a = await readFile(path.join(straight.checkpoint, "weights.bin"));
    const b = await readFile(path.join(resumed.checkpoint, "weights.bin"));
    expect(b.equals(a)).toBe(true);
    const state = JSON.parse(await readFile(path.join(resumed.checkpoint, "state.json"), "utf8"));
    expect(state).toMatchObject({ version: 2, step: 4, trainer: { dropoutSeed: 123, weightDecay: 0.1, gradClip: 0 }, train: { batchByLength: true }, dataState: { poolBatches: 100 } });
    expect(() => FinetuneConfigSchema.parse({ task: "classify", data: csv, initFrom: FIXTURE, batchByLength: true })).toThrow(/`--batch-by-length` is for `--task instruct`/);
  }, 120_000);

  it("bad input: one line naming the file, line and field; flags checked before loading", async () => {
    const bad = path.join(tmp, "bad.csv");
    await writeFile(bad, "text,label\nhello,ham\nno label here\n");
    const r = runCli(["finetune", "--task", "classify", "--data", bad, "--init-from", FIXTURE, "--out", path.join(tmp, "bad"), "--backend", "wasm"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tfgpt finetune: ${bad}:3: malformed row: 1 fields, the header has 2`);
    const noInit = runCli(["finetune", "--task", "classify", "--data", bad]);
    expect(noInit.code).toBe(2);
    expect(noInit.stderr).toMatch(/`--init-from` is required/);
    expect(runCli(["finetune", "--task", "sort", "--data", bad]).stderr).toMatch(/`--task` must be one of classify, instruct, received "sort"/);
    expect(runCli(["finetune", "--resume", tmp, "--task", "classify"]).stderr).toMatch(/`--resume` cannot be used with `--task`/);
    // A model whose vocabulary is smaller than its tokenizer's: refused before any run directory exists.
    const small = path.join(tmp, "small-vocab");
    await cp(FIXTURE, small, { recursive: true });
    const cfg = path.join(small, "config.json");
    await writeFile(cfg, (await readFile(cfg, "utf8")).replace('"vocab_size": 384', '"vocab_size": 300'));
    const v = runCli(["finetune", "--task", "classify", "--data", csv, "--init-from", small, "--out", path.join(tmp, "vm"), "--backend", "wasm"]);
    expect(v.code).toBe(1);
    expect(v.stderr.trim()).toMatch(/^tfgpt finetune: .*small-vocab: its tokenizer \(tokenizer\.json\) has 384 ids, more than the model's vocabulary of 300$/);
    await expect(readFile(path.join(tmp, "vm", "latest.json"))).rejects.toThrow();
  }, 60_000);
});
