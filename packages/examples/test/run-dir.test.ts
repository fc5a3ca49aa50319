/**
 * One run directory, one owner, no mixing: --overwrite really starts afresh, --resume A --out B
 * never touches A (nor a non-empty B), a live lock refuses a second writer, a stale one is taken
 * over, and leftovers of an interrupted save are cleaned.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import { LOCK_FILE } from "../src/run-dir.js";
import { runTrain, TrainConfigSchema } from "../src/train.js";
import { DATA_DIR } from "./helpers.js";

let tmp: string;
let excerpt: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-rundir-"));
  excerpt = path.join(tmp, "excerpt.txt");
  await writeFile(excerpt, (await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8")).slice(0, 4000));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const tiny = (extra: Record<string, unknown>) =>
  TrainConfigSchema.parse({
    text: excerpt,
    encoding: "byte",
    context: 16,
    batchSize: 4,
    lr: 0.01,
    evalEvery: 100,
    model: { embeddingDim: 16, numHeads: 2, numLayers: 1 },
    ...extra,
  });

async function state(runDir: string): Promise<{ step: number; train: { seed: number; lr: number } }> {
  const latest = JSON.parse(await readFile(path.join(runDir, "latest.json"), "utf8")) as { checkpoint: string };
  return JSON.parse(await readFile(path.join(runDir, latest.checkpoint, "state.json"), "utf8"));
}

/** Every file under `dir` with its bytes, to prove a directory was not touched. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      out[path.relative(dir, file)] = (await readFile(file)).toString("base64");
    }
  }
  return out;
}

describe("run directories", () => {
  it("--overwrite replaces the previous run at the same step (new seed and lr in state.json and weights)", async () => {
    const run = path.join(tmp, "over");
    await runTrain(tiny({ steps: 3, out: run }), memoryIO());
    const before = await readFile(path.join(run, "checkpoint-000003", "weights.bin"));
    const io = memoryIO();
    await runTrain(tiny({ steps: 3, out: run, overwrite: true, seed: 5, lr: 0.02 }), io);
    expect(io.err()).toContain(`--overwrite: removed the previous run in ${run}`);
    const s = await state(run);
    expect([s.step, s.train.seed, s.train.lr]).toEqual([3, 5, 0.02]);
    expect((await readFile(path.join(run, "checkpoint-000003", "weights.bin"))).equals(before)).toBe(false);
    expect((await readdir(run)).sort()).toEqual(["checkpoint-000003", "latest.json", "loss.svg", "metrics.jsonl"]);
    const metrics = (await readFile(path.join(run, "metrics.jsonl"), "utf8")).trim().split("\n");
    expect(metrics.filter((l) => l.includes('"loss"'))).toHaveLength(3); // the new run's steps only
  });

  it("--resume A --out B copies A into a new B and leaves A byte for byte as it was; a non-empty B is refused", async () => {
    const a = path.join(tmp, "A");
    await runTrain(tiny({ steps: 3, out: a }), memoryIO());
    const before = await snapshot(a);
    const b = path.join(tmp, "B");
    const resumed = await runTrain(tiny({ resume: a, out: b, steps: 5 }), memoryIO());
    expect(resumed.runDir).toBe(b);
    expect(await snapshot(a)).toEqual(before);
    expect((await readdir(b)).sort()).toEqual(["checkpoint-000005", "latest.json", "loss.svg", "metrics.jsonl"]);
    const steps = (await readFile(path.join(b, "metrics.jsonl"), "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps.filter((s, i) => steps.indexOf(s) === i)).toEqual([0, 1, 2, 3, 4, 5]); // A's history, then B's steps
    const c = path.join(tmp, "C");
    await mkdir(c);
    await writeFile(path.join(c, "notes.txt"), "mine");
    await expect(runTrain(tiny({ resume: a, out: c, steps: 5 }), memoryIO())).rejects.toThrow(`\`--out\` ${c} is not empty`);
    expect(await readdir(c)).toEqual(["notes.txt"]);
    expect(await snapshot(a)).toEqual(before);
  });

  it("a live lock refuses a second writer naming it; a stale one is taken over; leftover temps are cleaned", async () => {
    const run = path.join(tmp, "locked");
    await mkdir(run);
    // The holder is this very process: alive, on this host.
    await writeFile(path.join(run, LOCK_FILE), JSON.stringify({ pid: process.pid, host: os.hostname(), started: "2026-01-01T00:00:00Z" }));
    await expect(runTrain(tiny({ steps: 2, out: run }), memoryIO())).rejects.toThrow(
      `\`--out\` ${run} is in use by pid ${process.pid} on ${os.hostname()} (since 2026-01-01T00:00:00Z)`,
    );
    expect(await readdir(run)).toEqual([LOCK_FILE]);
    // A pid that cannot exist (above Linux's pid_max): stale.
    await writeFile(path.join(run, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), started: "x" }));
    await mkdir(path.join(run, ".checkpoint-000009.tmp-0badc0de"));
    await writeFile(path.join(run, "latest.json.tmp-12345678"), "{");
    const io = memoryIO();
    await runTrain(tiny({ steps: 2, out: run }), io);
    expect(io.err()).toContain("removed 2 leftover temp file(s)");
    expect((await readdir(run)).sort()).toEqual(["checkpoint-000002", "latest.json", "loss.svg", "metrics.jsonl"]); // lock released
  });
});
