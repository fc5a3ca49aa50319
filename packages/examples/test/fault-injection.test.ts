/**
 * Fault injection on the built CLI, as an operator meets faults: `kill -9` at random points of
 * checkpointing and of `prepare`, two writers on one run, SIGTERM, a step that hangs, stdout on
 * /dev/full, and ENOSPC on a tiny tmpfs (where this machine lets us mount one; skipped with a
 * message elsewhere). Delays come from a seeded generator (TFGPT_FAULT_SEED, printed), so a
 * failure can be replayed. The counts are printed at the end (CI shows them).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createRng } from "@tfgpt/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, DATA_DIR, runCli } from "./helpers.js";

const SEED = Number(process.env.TFGPT_FAULT_SEED ?? Date.now() % 100_000);
const rng = createRng(SEED);
/** Uniform in [lo, hi) (mulberry32, seeded by SEED). */
function random(lo: number, hi: number): number {
  return lo + rng.float() * (hi - lo);
}

const counts = { trainKills: 0, killedMidRun: 0, completeAfterKill: 0, prepareKills: 0, partialRefused: 0, resumedIdentical: 0, concurrentRefused: 0 };
let tmp: string;
let excerpt: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-fault-"));
  excerpt = path.join(tmp, "excerpt.txt");
  await writeFile(excerpt, (await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8")).slice(0, 4000));
});
afterAll(async () => {
  console.log(`fault injection (TFGPT_FAULT_SEED=${SEED}): ${JSON.stringify(counts)}`);
  await rm(tmp, { recursive: true, force: true });
});

const TRAIN = ["train", "--encoding", "byte", "--context", "16", "--batch-size", "4", "--eval-every", "100000"];

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stderr: () => string; exit: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  child.stdout?.resume();
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exit };
}

function waitFor(get: () => string, pattern: RegExp, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (pattern.test(get())) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${pattern}: ${get()}`));
      }
    }, 10);
  });
}

/** The checkpoint `latest.json` names must be complete: every file, weights as long as their manifest says. */
function assertCompleteCheckpoint(runDir: string): number {
  const latest = JSON.parse(readFileSync(path.join(runDir, "latest.json"), "utf8")) as { checkpoint: string };
  const dir = path.join(runDir, latest.checkpoint);
  expect(readdirSync(dir).sort()).toEqual(["model.json", "optimizer.bin", "optimizer.json", "state.json", "weights.bin"]);
  const model = JSON.parse(readFileSync(path.join(dir, "model.json"), "utf8")) as { weightsManifest: { weights: { shape: number[] }[] }[] };
  const floats = model.weightsManifest.flatMap((g) => g.weights).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  expect(statSync(path.join(dir, "weights.bin")).size).toBe(4 * floats);
  const state = JSON.parse(readFileSync(path.join(dir, "state.json"), "utf8")) as { step: number };
  expect(latest.checkpoint).toBe(`checkpoint-${String(state.step).padStart(6, "0")}`);
  return state.step;
}

describe("fault injection", () => {
  it("kill -9 at random points of checkpointing (every step) always leaves latest.json on a complete checkpoint, and --resume goes on", async () => {
    const run = path.join(tmp, "kill");
    let lastStep = 0;
    for (let i = 0; i < 3; i++) {
      const args = i === 0 ? [...TRAIN, "--text", excerpt, "--out", run] : ["train", "--resume", run];
      const p = start([...args, "--steps", "100000", "--checkpoint-every", "1"]);
      await waitFor(p.stderr, /checkpoint \S+checkpoint-\d+/);
      await new Promise((r) => setTimeout(r, random(0, 400)));
      p.child.kill("SIGKILL");
      const { signal } = await p.exit;
      counts.trainKills++;
      if (signal === "SIGKILL") counts.killedMidRun++;
      const step = assertCompleteCheckpoint(run);
      expect(step).toBeGreaterThanOrEqual(lastStep);
      lastStep = step;
      counts.completeAfterKill++;
      expect(existsSync(path.join(run, ".lock"))).toBe(true); // left by the killed owner: stale, taken over next
    }
    const end = runCli(["train", "--resume", run, "--steps", String(lastStep + 2)]);
    expect(end.code).toBe(0);
    expect(end.stderr).not.toMatch(/tfgpt train:/);
    expect(assertCompleteCheckpoint(run)).toBe(lastStep + 2);
    expect(readdirSync(run).filter((n) => n.includes(".tmp-") || n === ".lock")).toEqual([]);
  });

  it("SIGTERM saves like Ctrl-C: exit 143, a checkpoint at the step it stopped, the resume command printed", async () => {
    const run = path.join(tmp, "term");
    const p = start([...TRAIN, "--text", excerpt, "--out", run, "--steps", "200"]);
    await waitFor(p.stderr, /step +\d+\/200 +loss/); // steps taken: the first progress line (one every 10)
    p.child.kill("SIGTERM");
    expect((await p.exit).code).toBe(143);
    expect(p.stderr()).toMatch(new RegExp(`interrupted at step \\d+; checkpoint \\S+ \\(SIGTERM: continue with: tfgpt train --resume ${run}\\)`));
    assertCompleteCheckpoint(run);
  });

  it("two writers on one --out: one trains, the other is refused with one line naming the holder (or the finished run)", async () => {
    const run = path.join(tmp, "two");
    const a = start([...TRAIN, "--text", excerpt, "--out", run, "--steps", "10", "--seed", "1"]);
    const b = start([...TRAIN, "--text", excerpt, "--out", run, "--steps", "10", "--seed", "2"]);
    const [ea, eb] = await Promise.all([a.exit, b.exit]);
    const codes = [ea.code, eb.code].sort();
    expect(codes[0]).toBe(0);
    expect(codes[1]).not.toBe(0);
    const loser = ea.code === 0 ? b : a;
    const winnerSeed = ea.code === 0 ? 1 : 2;
    const line = loser.stderr().trim().split("\n").at(-1) as string;
    expect(line).toMatch(/^tfgpt train: `--out` \S+ (is in use by pid \d+ on \S+ \(since [^)]+\); wait for it|already holds a run)/);
    const latest = JSON.parse(readFileSync(path.join(run, "latest.json"), "utf8")) as { checkpoint: string };
    const state = JSON.parse(readFileSync(path.join(run, latest.checkpoint, "state.json"), "utf8")) as { train: { seed: number } };
    expect(state.train.seed).toBe(winnerSeed);
    counts.concurrentRefused++;
  });

  it("a step that hangs (as tfjs-wasm does out of heap) ends the process with one line instead of spinning", async () => {
    const run = path.join(tmp, "hang");
    const p = start([...TRAIN, "--text", excerpt, "--out", run, "--steps", "100", "--checkpoint-every", "2"], {
      TFGPT_STEP_TIMEOUT: "2",
      TFGPT_TEST_HANG_AT_STEP: "3",
    });
    const { signal } = await p.exit;
    expect(signal).toBe("SIGKILL");
    expect(p.stderr()).toMatch(/tfgpt train: step 4 has run \d+ s without finishing \(limit \d+ s\): the backend is stuck/);
    expect(assertCompleteCheckpoint(run)).toBe(2);
  });

  it("kill -9 at random points of prepare: readers refuse the partial set, prepare --resume finishes it byte-identical", async () => {
    const corpus = path.join(tmp, "corpus.txt");
    const pg84 = await readFile(path.join(DATA_DIR, "pg84.txt"), "utf8");
    await writeFile(corpus, pg84);
    const reference = path.join(tmp, "prep-ref");
    expect(runCli(["prepare", corpus, "--out", reference, "--shard-tokens", "10000"]).code).toBe(0);
    const shards = (dir: string) =>
      readdirSync(dir)
        .filter((n) => n.endsWith(".bin"))
        .sort()
        .map((n) => [n, readFileSync(path.join(dir, n)).toString("base64")]);
    for (let i = 0; i < 3; i++) {
      const out = path.join(tmp, `prep-${i}`);
      const p = start(["prepare", corpus, "--out", out, "--shard-tokens", "10000"]);
      // Once the job has begun writing (its journal exists), at a random point of it.
      let running = true;
      void p.exit.then(() => (running = false));
      while (running && !existsSync(path.join(out, "corpus.prepare-partial.json"))) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, random(0, 300)));
      p.child.kill("SIGKILL");
      await p.exit;
      counts.prepareKills++;
      const names = existsSync(out) ? readdirSync(out) : [];
      const complete = names.includes("corpus.manifest.json") && !names.some((n) => n.endsWith(".prepare-partial.json"));
      const read = runCli(["batches", out, "--max-length", "4", "--stride", "4", "--batch-size", "2"]);
      if (!complete && names.length > 0) {
        expect(read.code).not.toBe(0);
        expect(read.stderr).toMatch(/^tfgpt batches: \S+ (holds an unfinished tfgpt prepare|has no \*\.manifest\.json)/);
        counts.partialRefused++;
      }
      if (!complete) {
        const journal = names.some((n) => n.endsWith(".prepare-partial.json"));
        const again = runCli(["prepare", corpus, "--out", out, "--shard-tokens", "10000", ...(journal ? ["--resume"] : [])]);
        expect(again.code, again.stderr).toBe(0);
      }
      expect(shards(out)).toEqual(shards(reference));
      expect(runCli(["batches", out, "--max-length", "4", "--stride", "4", "--batch-size", "2"]).code).toBe(0);
      counts.resumedIdentical++;
    }
  });

  it("stdout on /dev/full: one error line and exit 1 (not 0 with the output lost)", () => {
    if (!existsSync("/dev/full")) {
      console.log("skipped: this machine has no /dev/full");
      return;
    }
    const fd = openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [CLI, "tokenize", excerpt, "--json"], { stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe("tfgpt tokenize: cannot write to stdout: ENOSPC (no space left on device)\n");
    } finally {
      closeSync(fd);
    }
  });

  it("ENOSPC on a tiny tmpfs: a failed checkpoint or tokenizer save leaves the previous one intact", async () => {
    const mnt = path.join(tmp, "tmpfs");
    await mkdir(mnt);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2560k", "tmpfs", mnt], { encoding: "utf8" });
    if (mounted.status !== 0) {
      console.log(`skipped: cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || "").trim()})`);
      return;
    }
    try {
      // The first checkpoint (~1.4 MB) fits; the second cannot be written beside it.
      const run = path.join(mnt, "run");
      const r = runCli([...TRAIN, "--text", excerpt, "--out", run, "--steps", "6", "--checkpoint-every", "2"]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^tfgpt train: .*ENOSPC/);
      expect(assertCompleteCheckpoint(run)).toBe(2);
      expect(readdirSync(run).filter((n) => n.includes(".tmp-") || n === ".lock")).toEqual([]);
      await rm(run, { recursive: true, force: true });
      // A tokenizer: the first save fits; a bigger one on a nearly full disk fails and keeps it.
      const tok = path.join(mnt, "t.tiktoken");
      expect(runCli(["train-tokenizer", excerpt, "--vocab-size", "300", "--out", tok]).code).toBe(0);
      const before = readFileSync(tok, "utf8");
      const fill = spawnSync("dd", ["if=/dev/zero", `of=${path.join(mnt, "fill")}`, "bs=1k", "count=100000"], { encoding: "utf8" });
      expect(fill.status).not.toBe(0); // ran out of space, as intended
      const big = runCli(["train-tokenizer", path.join(DATA_DIR, "pg84.txt"), "--vocab-size", "2000", "--out", tok]);
      expect(big.code).toBe(1);
      expect(big.stderr.trim().split("\n").at(-1)).toBe(`tfgpt train-tokenizer: cannot write the tokenizer to ${tok}: ENOSPC`);
      expect(readFileSync(tok, "utf8")).toBe(before);
      expect(readdirSync(mnt).filter((n) => n.includes(".tmp-"))).toEqual([]);
      // stdout redirected to a file on the full disk: Node's file stream drops a short write silently.
      const fd = openSync(path.join(mnt, "ids.json"), "w");
      try {
        const r = spawnSync(process.execPath, [CLI, "tokenize", path.join(DATA_DIR, "pg84.txt"), "--json"], { stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
        expect(r.status).toBe(1);
        expect(r.stderr).toBe("tfgpt tokenize: cannot write to stdout: ENOSPC (no space left on device)\n");
      } finally {
        closeSync(fd);
      }
    } finally {
      spawnSync("umount", [mnt]);
    }
  });
});
