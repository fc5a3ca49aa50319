/**
 * Issue 4 item 7: bad input to `train` and `sample`, each through the built CLI: one stderr
 * line, a non-zero exit, no stack trace, and no output directory or half checkpoint left behind.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { DATA_DIR, errorLine, runCli } from "./helpers.js";

/** Whether @tensorflow/tfjs-node is installed here (npm run setup:tensorflow); CI's first pass has none. */
const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-node/package.json");
    return true;
  } catch {
    return false;
  }
})();

const verdict = path.join(DATA_DIR, "the-verdict.txt");
let tmp: string;
/** Flags of a train run small enough for a test (byte tokens, a 16-token context, a 4 KB text). */
let small: string[];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-bad-"));
  await writeFile(path.join(tmp, "empty.txt"), "");
  await writeFile(path.join(tmp, "short.txt"), "Too short for a window.");
  await writeFile(path.join(tmp, "excerpt.txt"), (await readFile(verdict, "utf8")).slice(0, 4000));
  small = ["--text", path.join(tmp, "excerpt.txt"), "--encoding", "byte", "--context", "16", "--batch-size", "4", "--eval-every", "100"];
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function trainFails(args: string[], code: number, message: RegExp): void {
  const out = path.join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  const r = runCli(["train", ...args, "--out", out, "--steps", "2"]);
  expect(r.code).toBe(code);
  expect(errorLine(r, "train")).toMatch(message);
  expect(existsSync(out)).toBe(false);
}

describe("tfgpt train: bad input", () => {
  it("missing text file", () => trainFails(["--text", path.join(tmp, "nope.txt")], 1, /nope\.txt: no such file$/));
  it("a directory as text", () => trainFails(["--text", tmp], 1, /is a directory, expected a text file$/));
  it("an empty text", () => trainFails(["--text", path.join(tmp, "empty.txt")], 1, /empty\.txt is empty$/));
  it("a text shorter than one window", () =>
    trainFails(["--text", path.join(tmp, "short.txt"), "--context", "64"], 1, /has \d+ tokens.*, shorter than one window: --context 64 needs at least 65/));
  it("unknown preset", () => trainFails(["--preset", "huge"], 2, /`--preset` must be one of tiny, gpt2-small, gpt2, gpt2-medium, gpt2-large, gpt2-xl, received "huge"/));
  it("a model too large for the wasm backend (gpt2-small) is refused before it hangs tfjs", () =>
    trainFails(["--preset", "gpt2-small", "--backend", "wasm"], 2, /model gpt2-small has 123,674,880 parameters: training it needs 1\.8 GiB .* use --backend tensorflow/));
  it.skipIf(tfjsNodeInstalled)(
    `--backend tensorflow without @tensorflow/tfjs-node: how to install it, exit 2${tfjsNodeInstalled ? " [skipped: it is installed]" : ""}`,
    () =>
      trainFails(
        ["--backend", "tensorflow"],
        2,
        /`--backend tensorflow`: @tensorflow\/tfjs-node is not installed; install it with `npm install @tensorflow\/tfjs-node` \(offline, from a tfgpt checkout: `npm run setup:tensorflow`\)$/,
      ),
  );
  it("unknown backend", () => trainFails(["--backend", "gpu"], 2, /`--backend` must be one of auto, tensorflow, wasm, cpu, received "gpu"/));
  it("unknown encoding", () => trainFails(["--encoding", "nope"], 1, /unknown tokenizer "nope"/));
  it("non-numeric option", () => trainFails(["--batch-size", "eight"], 2, /`--batch-size` must be an integer in \[1, 65536\], received "eight"/));
  it("out-of-range options", () => {
    trainFails(["--lr", "0"], 2, /`--lr` must be a number > 0 and <= 1, received "0"/);
    trainFails(["--val-fraction", "0.9"], 2, /`--val-fraction` must be a number >= 0 and <= 0.5, received "0.9"/);
  });
  it("--steps with --epochs", () => trainFails(["--epochs", "1"], 2, /`--steps` and `--epochs` cannot be used together/));
  it("missing checkpoint to resume", () => {
    const r = runCli(["train", "--resume", path.join(tmp, "no-run")]);
    expect(r.code).toBe(1);
    expect(errorLine(r, "train")).toMatch(/checkpoint .*no-run does not exist/);
  });
});

describe("tfgpt sample: bad input", () => {
  let runDir: string;
  beforeAll(() => {
    runDir = path.join(tmp, "run");
    const r = runCli(["train", ...small, "--steps", "2", "--out", runDir]);
    expect(r.code).toBe(0);
  });

  it("missing options and a missing checkpoint", () => {
    const none = runCli(["sample", "--prompt", "I HAD"]);
    expect(none.code).toBe(2);
    expect(errorLine(none, "sample")).toMatch(/`--checkpoint` is required/);
    const missing = runCli(["sample", "--checkpoint", path.join(tmp, "nope"), "--prompt", "I HAD"]);
    expect(missing.code).toBe(1);
    expect(errorLine(missing, "sample")).toMatch(/checkpoint .*nope does not exist/);
    const notCheckpoint = runCli(["sample", "--checkpoint", tmp, "--prompt", "I HAD"]);
    expect(errorLine(notCheckpoint, "sample")).toMatch(/is not a checkpoint/);
  });

  it("a corrupt checkpoint, for sample and for resume, leaving the run as it was", async () => {
    const checkpoint = path.join(runDir, "checkpoint-000002");
    await writeFile(path.join(checkpoint, "weights.bin"), "truncated");
    const before = (await readdir(runDir)).sort();
    const sample = runCli(["sample", "--checkpoint", runDir, "--prompt", "I HAD"]);
    expect(sample.code).toBe(1);
    expect(errorLine(sample, "sample")).toMatch(/checkpoint .*checkpoint-000002 is corrupt: weights\.bin has 9 bytes/);
    const resume = runCli(["train", "--resume", runDir, "--steps", "4"]);
    expect(resume.code).toBe(1);
    expect(errorLine(resume, "train")).toMatch(/is corrupt: weights\.bin/);
    expect((await readdir(runDir)).sort()).toEqual(before);

    await writeFile(path.join(checkpoint, "state.json"), "{");
    const state = runCli(["sample", "--checkpoint", checkpoint, "--prompt", "I HAD"]);
    expect(errorLine(state, "sample")).toMatch(/is corrupt: state\.json is not valid JSON/);
  });

  it("a text changed under a run is refused on resume", async () => {
    const text = path.join(tmp, "changing.txt");
    await writeFile(text, "abcdefghij".repeat(200));
    const dir = path.join(tmp, "changing-run");
    expect(runCli(["train", ...small, "--text", text, "--val-fraction", "0", "--steps", "1", "--out", dir]).code).toBe(0);
    await writeFile(text, "klmnopqrst".repeat(200));
    const r = runCli(["train", "--resume", dir, "--steps", "2"]);
    expect(r.code).toBe(1);
    expect(errorLine(r, "train")).toMatch(/is not the text checkpoint .* was trained on/);
  });
});

describe("tfgpt train: the happy path through the CLI", () => {
  it("prints the backend, writes checkpoint, metrics and plot, and samples", async () => {
    const out = path.join(tmp, "happy");
    await mkdir(tmp, { recursive: true });
    const r = runCli(["train", ...small, "--steps", "3", "--out", out, "--sample"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^backend: \w+/m);
    expect(r.stderr).toMatch(/done: step 3, train loss \d+\.\d+, val loss \d+\.\d+/);
    expect(r.stdout).toMatch(/^Every effort moves you/);
    expect((await readdir(out)).sort()).toEqual(["checkpoint-000003", "latest.json", "loss.svg", "metrics.jsonl"]);
    const sample = runCli(["sample", "--checkpoint", out, "--prompt", "I HAD always", "--max-new-tokens", "10", "--seed", "1"]);
    expect(sample.code).toBe(0);
    expect(sample.stdout).toMatch(/^I HAD always/);
  });
});
