/**
 * `tfgpt evaluate` on tiny runs of the GPT-2 fixture: a classifier's accuracy, loss and
 * per-label counts equal what `finetune` measured on the same examples (its validation split by
 * default, or a file); an instruct run's per-token loss equals finetune's on one batch; a
 * pretrained directory's perplexity is exp(loss) over whole windows; errors are one line.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import { EvaluateConfigSchema, runEvaluate } from "../src/evaluate.js";
import { FinetuneConfigSchema, runFinetune } from "../src/finetune.js";
import { BACKEND_OPTION, REPO_ROOT, runCli, useTestBackend } from "./helpers.js";
import { writeToyTasks } from "./toy-tasks.js";

const FIXTURE = path.join(REPO_ROOT, "packages/layers/test/fixtures/hf-gpt2-tiny");
let tmp: string;
let csv: string;
let json: string;

beforeAll(async () => {
  await useTestBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-evaluate-"));
  ({ csv, json } = await writeToyTasks(tmp));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const evaluate = (extra: Record<string, unknown>) => runEvaluate(EvaluateConfigSchema.parse({ ...BACKEND_OPTION, ...extra }), memoryIO());

describe("tfgpt evaluate", () => {
  it("classify: the validation split by default (= finetune's val accuracy and loss), a file with per-label counts", async () => {
    const out = path.join(tmp, "cls");
    const run = await runFinetune(
      FinetuneConfigSchema.parse({ task: "classify", data: csv, initFrom: FIXTURE, out, steps: "3", lr: "0.01", batchSize: "8", valFraction: "0.25", trainableBlocks: "all", ...BACKEND_OPTION }),
      memoryIO(),
    );
    const val = await evaluate({ checkpoint: out });
    expect(val).toMatchObject({ kind: "classify", split: "validation", examples: 6 });
    expect(val.accuracy).toBeCloseTo(run.after.val_accuracy as number, 6); // finetune's is a float32 mean
    expect(val.loss).toBeCloseTo(run.after.val_loss as number, 5);

    const io = memoryIO();
    const all = await runEvaluate(EvaluateConfigSchema.parse({ checkpoint: out, data: csv, batchSize: "5", ...BACKEND_OPTION }), io);
    expect(all.examples).toBe(24);
    expect(all.classes?.map((c) => [c.label, c.examples])).toEqual([["ham", 12], ["spam", 12]]);
    const confusion = all.confusion as number[][];
    expect(all.correct).toBe((confusion[0]?.[0] ?? 0) + (confusion[1]?.[1] ?? 0));
    expect(all.classes?.map((c) => c.predicted)).toEqual([(confusion[0]?.[0] ?? 0) + (confusion[1]?.[0] ?? 0), (confusion[0]?.[1] ?? 0) + (confusion[1]?.[1] ?? 0)]);
    expect(all.accuracy).toBeCloseTo((all.correct as number) / 24, 12);
    expect(io.out()).toMatch(/^classify .* on .*toy\.csv: 24 examples\naccuracy [\d.]+% \(\d+ of 24\), loss [\d.]+\nlabel {2}examples {2}correct {2}predicted\nham {4}\s+12\s+\d+\s+\d+\nspam \s+12\s+\d+\s+\d+\n$/);

    // A label outside the run's set: one line naming it (CLI), exit 1; --json prints one object.
    const bad = path.join(tmp, "bad.csv");
    await writeFile(bad, "text,label\nhello,ham\nbuy now,eggs\n");
    const r = runCli(["evaluate", "--checkpoint", out, "--data", bad, "--backend", "wasm"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tfgpt evaluate: ${bad}: line 3: label "eggs" is not in the label set ["ham","spam"]`);
    const j = runCli(["evaluate", "--checkpoint", out, "--json", "--backend", "wasm"]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ kind: "classify", split: "validation", examples: 6, accuracy: val.accuracy, correct: val.correct });
  }, 120_000);

  it("instruct: the masked loss per target token and its perplexity (= finetune's loss on one batch)", async () => {
    const out = path.join(tmp, "ins");
    const run = await runFinetune(
      FinetuneConfigSchema.parse({ task: "instruct", data: json, initFrom: FIXTURE, out, steps: "2", lr: "0.003", batchSize: "6", valFraction: "0", samples: "0", ...BACKEND_OPTION }),
      memoryIO(),
    );
    const r = await evaluate({ checkpoint: out, data: json, batchSize: "6" });
    expect(r).toMatchObject({ kind: "instruct", split: "file", examples: 6 });
    expect(r.loss).toBeCloseTo(run.after.train_loss as number, 5);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 10);
    expect(r.tokens).toBeGreaterThan(6 * 10);
    // Smaller batches: the same per-token mean (a mean over tokens, not of batch means).
    expect((await evaluate({ checkpoint: out, data: json, batchSize: "4" })).loss).toBeCloseTo(r.loss, 5);
    // The run held out nothing: --data is required (exit 2, one line).
    const noData = runCli(["evaluate", "--checkpoint", out]);
    expect(noData.code).toBe(2);
    expect(noData.stderr.trim()).toBe("tfgpt evaluate: `--data` is required: the run held out no validation examples (--val-fraction 0)");
  }, 120_000);

  it("a language model (a pretrained directory): loss per token over whole windows, perplexity = exp(loss)", async () => {
    const text = path.join(tmp, "text.txt");
    await writeFile(text, "the park is nice and the book is red. ".repeat(12));
    const one = await evaluate({ checkpoint: FIXTURE, data: text, batchSize: "1" });
    expect(one.kind).toBe("text");
    expect(one.tokens).toBe((one.examples as number) * Math.min(64, (one.tokens as number) / one.examples));
    expect(one.perplexity).toBeCloseTo(Math.exp(one.loss), 8);
    const batched = await evaluate({ checkpoint: FIXTURE, data: text, batchSize: "8" });
    expect(batched.loss).toBeCloseTo(one.loss, 4);
    // A tfgpt train checkpoint (the committed version-1 fixture) on its own text.
    const fixture = path.join(REPO_ROOT, "packages/examples/test/fixtures/checkpoint-v1");
    const trained = await evaluate({ checkpoint: path.join(fixture, "run"), data: path.join(fixture, "text.txt") });
    expect(trained).toMatchObject({ kind: "text", split: "file" });
    expect(trained.examples).toBeGreaterThan(0);
    expect(Number.isFinite(trained.loss) && trained.loss > 0).toBe(true);
    const r = runCli(["evaluate", "--checkpoint", FIXTURE, "--backend", "wasm"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^tfgpt evaluate: `--data` is required for a language model \(.*hf-gpt2-tiny\): a text file$/);
    expect(runCli(["evaluate"]).stderr.trim()).toBe("tfgpt evaluate: `--checkpoint` is required");
    const missing = runCli(["evaluate", "--checkpoint", path.join(tmp, "nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
  }, 120_000);
});
