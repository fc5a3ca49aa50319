import path from "node:path";
import { describe, expect, it } from "vitest";
import { DATA_DIR, errorLine, runCli } from "./helpers.js";

const verdict = path.join(DATA_DIR, "the-verdict.txt");
const pg84 = path.join(DATA_DIR, "pg84.txt");

describe("tfgpt batches", () => {
  // The batch's values are asserted once, in @tfgpt/datasets' golden test (and the CLI's equality
  // with the packages in test/golden.test.ts); here: the flags and the JSON layout.
  it("--json prints {inputs, targets}: --batch-size rows of --max-length ids, windows --stride apart, targets shifted by one", () => {
    const r = runCli(["batches", pg84, "--max-length", "4", "--stride", "4", "--batch-size", "8", "--json"]);
    expect(r.code).toBe(0);
    const batch = JSON.parse(r.stdout) as { inputs: number[][]; targets: number[][] };
    expect(Object.keys(batch).sort()).toEqual(["inputs", "targets"]);
    expect(batch.inputs.map((row) => row.length)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
    expect(batch.targets.map((row) => row.length)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
    // stride == max-length, no shuffle: the rows are consecutive, so the targets are the ids one further.
    const ids = batch.inputs.flat();
    expect(batch.targets.flat().slice(0, -1)).toEqual(ids.slice(1));
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 50257)).toBe(true);
  });

  it("keeps CRLF with --newline keep (row 4 then ends in 201, the \\r)", () => {
    const r = runCli(["batches", pg84, "--max-length", "4", "--stride", "4", "--batch-size", "8", "--newline", "keep", "--json"]);
    expect(r.code).toBe(0);
    const batch = JSON.parse(r.stdout) as { inputs: number[][] };
    expect(batch.inputs[3]?.at(-1)).toBe(201);
  });

  it("prints the stride-1 batch of the-verdict as text without --json", () => {
    const r = runCli(["batches", verdict, "--max-length", "4", "--stride", "1", "--batch-size", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("inputs:\n  [40, 367, 2885, 1464]");
    expect(r.stdout).toContain("targets:\n  [367, 2885, 1464, 1807]");
  });

  it("drops a partial batch by default and keeps it with --no-drop-last", () => {
    // 5,145 tokens, 1,024-token windows with stride 1,024: 5 windows, fewer than a batch of 8.
    const args = ["batches", verdict, "--max-length", "1024", "--stride", "1024", "--batch-size", "8", "--json"];
    const dropped = runCli(args);
    expect(dropped.code).toBe(1);
    expect(errorLine(dropped, "batches")).toMatch(/5 windows, fewer than `batchSize` 8 with `dropLast` true/);
    const kept = runCli([...args, "--no-drop-last"]);
    expect(kept.code).toBe(0);
    expect((JSON.parse(kept.stdout) as { inputs: number[][] }).inputs).toHaveLength(5);
  });

  it("shuffles reproducibly with --shuffle --seed", () => {
    const args = ["batches", verdict, "--max-length", "4", "--stride", "4", "--batch-size", "2", "--shuffle", "--json"];
    const a = runCli([...args, "--seed", "7"]);
    const b = runCli([...args, "--seed", "7"]);
    const c = runCli([...args, "--seed", "8"]);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
  });
});

describe("tfgpt tokenize", () => {
  it("counts the-verdict's gpt2 tokens", () => {
    const r = runCli(["tokenize", verdict, "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { count: number; ids: number[] };
    expect(out.count).toBe(5145);
    expect(out.ids.slice(0, 9)).toEqual([40, 367, 2885, 1464, 1807, 3619, 402, 271, 10899]);
  });

  it("counts pg84 both ways: 106,390 tokens read as Python does, 114,255 with CRLF kept", () => {
    expect(runCli(["tokenize", pg84]).stdout.split("\n")[0]).toBe("106390 tokens (gpt2)");
    expect(runCli(["tokenize", pg84, "--newline", "keep"]).stdout.split("\n")[0]).toBe("114255 tokens (gpt2)");
  });
});

describe("tfgpt walkthrough", () => {
  it("prints the notebook's cells: token count, stride-1 batches, the 8 x 4 batch, the shapes", () => {
    const r = runCli(["walkthrough"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Total number of characters: 20479");
    expect(r.stdout).toContain("Total number of tokens: 5145");
    expect(r.stdout).toContain("Inputs:\n[[40,367,2885,1464]]\nTargets:\n[[367,2885,1464,1807]]");
    expect(r.stdout).toContain("Inputs:\n[[367,2885,1464,1807]]");
    expect(r.stdout).toContain("[[40,367,2885,1464],[1807,3619,402,271],");
    expect(r.stdout).toContain("token embeddings: [8, 4, 256]");
    expect(r.stdout).toContain("position embeddings: [4, 256]");
    expect(r.stdout).toContain("input embeddings (token + position): [8, 4, 256]");
  });
});

describe("usage", () => {
  it("prints help per command and overall", () => {
    const help = runCli(["batches", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: tfgpt batches FILE --max-length N/);
    expect(runCli(["--help"]).stdout).toMatch(/commands:\n {2}tokenize/);
    const none = runCli([]);
    expect(none.code).toBe(2);
  });

  it("rejects unknown commands, unknown flags and missing arguments with exit code 2", () => {
    const unknown = runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tfgpt: unknown command "frobnicate"/);
    const flag = runCli(["tokenize", verdict, "--bogus"]);
    expect(flag.code).toBe(2);
    expect(errorLine(flag, "tokenize")).toBe("tfgpt tokenize: unknown option --bogus");
    const missing = runCli(["tokenize"]);
    expect(missing.code).toBe(2);
    expect(errorLine(missing, "tokenize")).toBe("tfgpt tokenize: missing FILE");
  });
});
