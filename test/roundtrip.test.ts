/**
 * train -> save -> load -> sample across packages: the CLI trains and checkpoints, then the
 * checkpoint is loaded back with `@tfgpt/examples` and sampled with `@tfgpt/layers`' `generate`
 * and the tokenizer rebuilt from the checkpoint's spec by `@tfgpt/tokenizers`; the result must be
 * the CLI's own `tfgpt sample` output.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadCheckpoint } from "@tfgpt/examples";
import { generate } from "@tfgpt/layers";
import { getTokenizer } from "@tfgpt/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const DATA_DIR = process.env.TFGPT_DATA_DIR ?? path.resolve(REPO_ROOT, "../shared/data");
const CLI = path.join(REPO_ROOT, "packages/examples/dist/cli.js");

function tfgpt(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-roundtrip-"));
  tf.env().set("PROD", true);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("train -> save -> load -> sample", () => {
  it("a checkpoint written by `tfgpt train` samples the same text in-process and through `tfgpt sample`", async () => {
    const text = path.join(tmp, "excerpt.txt");
    await writeFile(text, (await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8")).slice(0, 4000));
    const run = path.join(tmp, "run");
    const train = tfgpt(["train", "--text", text, "--encoding", "byte", "--context", "16", "--batch-size", "4", "--steps", "4", "--eval-every", "100", "--out", run]);
    expect(train.status).toBe(0);
    expect(train.stderr).toMatch(/done: step 4/);

    const prompt = "I HAD always";
    const cli = tfgpt(["sample", "--checkpoint", run, "--prompt", prompt, "--max-new-tokens", "12", "--temperature", "0.8", "--top-k", "20", "--seed", "5", "--backend", "cpu"]);
    expect(cli.status).toBe(0);

    await tf.setBackend("cpu");
    const { model, state } = await loadCheckpoint(run);
    expect(state.step).toBe(4);
    expect(state.tokenizer.name).toBe("byte");
    const tokenizer = getTokenizer(state.tokenizer.name, state.tokenizer.options);
    const promptIds = tokenizer.encode(prompt);
    const ids = generate(model, promptIds, { maxNewTokens: 12, temperature: 0.8, topK: 20, seed: 5, contextLength: 16 });
    expect(`${prompt}${tokenizer.decode(ids.slice(promptIds.length))}\n`).toBe(cli.stdout);
    model.dispose();
  });
});
