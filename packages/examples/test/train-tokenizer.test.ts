/**
 * `tfgpt train-tokenizer` and the `--tokenizer FILE` option of tokenize / batches / train, through
 * the built CLI: a 512-token vocabulary learned from a slice of The Verdict, used to tokenize,
 * batch, train, and sampled from a checkpoint once the file is gone (the checkpoint carries it).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATA_DIR, errorLine, runCli } from "./helpers.js";

const verdict = path.join(DATA_DIR, "the-verdict.txt");
let tmp: string;
let slice: string;
let rankFile: string;
let jsonFile: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tfgpt-tok-"));
  slice = path.join(tmp, "slice.txt");
  await writeFile(slice, (await readFile(verdict, "utf8")).slice(0, 8000));
  rankFile = path.join(tmp, "tok", "verdict.tiktoken");
  jsonFile = path.join(tmp, "tok", "tokenizer.json");
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The ids printed by `tfgpt tokenize --json`. */
function tokenizeIds(args: string[]): number[] {
  const r = runCli(["tokenize", slice, ...args, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { ids: number[] }).ids;
}

describe("tfgpt train-tokenizer", () => {
  it("trains a 512-token vocabulary, saves a rank file with its sidecar, and tokenize uses it", async () => {
    const r = runCli(["train-tokenizer", slice, "--vocab-size", "512", "--out", rankFile]);
    expect(r.code).toBe(0);
    const trained = /trained a 512-token vocabulary .*-> ([\d,]+) tokens/.exec(r.stdout);
    expect(trained).not.toBeNull();
    expect(r.stdout).toContain(`saved ${rankFile} and ${rankFile}.meta.json`);
    // Not a terminal: plain progress lines, the last one at the target (512 - 256 - 1 merges).
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^merge 255\/255/);
    const meta = JSON.parse(await readFile(`${rankFile}.meta.json`, "utf8")) as { specialTokens: Record<string, number> };
    expect(meta.specialTokens).toEqual({ "<|endoftext|>": 511 });

    const ids = tokenizeIds(["--tokenizer", rankFile]);
    // Encoding the training text reproduces the training's token count, with merged tokens in use.
    expect(ids.length).toBe(Number(trained?.[1]?.replace(/,/g, "")));
    expect(Math.max(...ids)).toBeLessThan(512);
    expect(ids.filter((id) => id >= 256).length).toBeGreaterThan(ids.length / 2);
    expect(ids.length).toBeLessThan(8000 / 2);
  });

  it("saves a tokenizer.json when --out ends in .json, giving the same ids, and takes --special tokens", async () => {
    const r = runCli(["train-tokenizer", slice, "--vocab-size", "512", "--out", jsonFile]);
    expect(r.code).toBe(0);
    expect(tokenizeIds(["--tokenizer", jsonFile])).toEqual(tokenizeIds(["--tokenizer", rankFile]));
    const hf = JSON.parse(await readFile(jsonFile, "utf8")) as { model: { type: string } };
    expect(hf.model.type).toBe("BPE");

    const special = path.join(tmp, "special.tiktoken");
    const s = runCli(["train-tokenizer", slice, "--vocab-size", "300", "--out", special, "--special", "<|a|>", "--special", "<|b|>"]);
    expect(s.code).toBe(0);
    const meta = JSON.parse(await readFile(`${special}.meta.json`, "utf8")) as { specialTokens: Record<string, number> };
    expect(meta.specialTokens).toEqual({ "<|a|>": 298, "<|b|>": 299 });
  });

  it("batches and train use --tokenizer; the checkpoint rebuilds the tokenizer for sample without the file", async () => {
    const b = runCli(["batches", slice, "--tokenizer", rankFile, "--max-length", "4", "--stride", "4", "--batch-size", "2", "--json"]);
    expect(b.code).toBe(0);
    const first = tokenizeIds(["--tokenizer", rankFile]).slice(0, 4);
    expect((JSON.parse(b.stdout) as { inputs: number[][] }).inputs[0]).toEqual(first);

    const copy = path.join(tmp, "copy.tiktoken");
    await writeFile(copy, await readFile(rankFile));
    await writeFile(`${copy}.meta.json`, await readFile(`${rankFile}.meta.json`));
    const out = path.join(tmp, "run");
    const t = runCli(["train", "--text", slice, "--tokenizer", copy, "--context", "16", "--batch-size", "4", "--steps", "2", "--eval-every", "100", "--out", out]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/bpe vocab 512/);
    await rm(copy);
    await rm(`${copy}.meta.json`);
    const s = runCli(["sample", "--checkpoint", out, "--prompt", "I had", "--max-new-tokens", "5"]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.startsWith("I had")).toBe(true);
    expect(s.stdout.length).toBeGreaterThan("I had\n".length);
  });
});

describe("tfgpt train-tokenizer: bad input", () => {
  it("a vocabulary smaller than 256 bytes + the special tokens", () => {
    const out = path.join(tmp, "small.tiktoken");
    const r = runCli(["train-tokenizer", slice, "--vocab-size", "257", "--out", out, "--special", "<|a|>", "--special", "<|b|>"]);
    expect(r.code).toBe(2);
    expect(errorLine(r, "train-tokenizer")).toMatch(/`--vocab-size` must be at least 258 \(256 byte tokens \+ 2 special tokens\), received 257$/);
    expect(existsSync(out)).toBe(false);
    const bad = runCli(["train-tokenizer", slice, "--vocab-size", "lots", "--out", out]);
    expect(errorLine(bad, "train-tokenizer")).toMatch(/`--vocab-size` must be an integer >= 1, received "lots"/);
  });

  it("a missing text file, a missing --out, a missing tokenizer file, --encoding with --tokenizer", () => {
    const missing = runCli(["train-tokenizer", path.join(tmp, "nope.txt"), "--vocab-size", "300", "--out", path.join(tmp, "x.tiktoken")]);
    expect(missing.code).toBe(1);
    expect(errorLine(missing, "train-tokenizer")).toMatch(/nope\.txt: no such file$/);
    const noOut = runCli(["train-tokenizer", slice, "--vocab-size", "300"]);
    expect(noOut.code).toBe(2);
    expect(errorLine(noOut, "train-tokenizer")).toMatch(/out/);
    const noTokenizer = runCli(["tokenize", slice, "--tokenizer", path.join(tmp, "none.tiktoken")]);
    expect(noTokenizer.code).toBe(1);
    expect(errorLine(noTokenizer, "tokenize")).toMatch(/`--tokenizer` .*none\.tiktoken: .*no such file$/);
    const both = runCli(["tokenize", slice, "--tokenizer", rankFile, "--encoding", "gpt2"]);
    expect(both.code).toBe(2);
    expect(errorLine(both, "tokenize")).toMatch(/`--encoding` and `--tokenizer` cannot be used together$/);
  });
});
