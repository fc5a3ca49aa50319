/** Ctrl-C during `tfgpt train`: it stops after the current step and leaves a complete checkpoint. */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, DATA_DIR, withTestBackend } from "./helpers.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-int-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("tfgpt train: SIGINT", () => {
  it("saves a checkpoint at the step it stopped after and exits 130", async () => {
    const text = path.join(tmp, "excerpt.txt");
    await writeFile(text, (await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8")).slice(0, 4000));
    const out = path.join(tmp, "run");
    const child = spawn(process.execPath, [
      CLI, ...withTestBackend(["train", "--text", text, "--encoding", "byte", "--context", "16", "--batch-size", "4",
      "--steps", "200", "--eval-every", "100000", "--out", out,
    ])]);
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        // Interrupt once steps have been taken: the first progress line (200 steps: one every 10).
        if (/step +\d+\/200 +loss/.test(stderr)) resolve();
      });
    });
    child.kill("SIGINT");
    const code = await exited;
    expect(code).toBe(130);
    const match = /interrupted at step (\d+); checkpoint (\S+)/.exec(stderr);
    expect(match).not.toBeNull();
    const step = Number(match?.[1]);
    expect(step).toBeGreaterThanOrEqual(10);
    expect(step).toBeLessThan(200);
    const entries = (await readdir(out)).sort();
    expect(entries).toEqual([`checkpoint-${String(step).padStart(6, "0")}`, "latest.json", "loss.svg", "metrics.jsonl"]);
    const state = JSON.parse(await readFile(path.join(match?.[2] as string, "state.json"), "utf8")) as { step: number };
    expect(state.step).toBe(step);
  });
});
