/** A rank file is validated on load: dense ranks, the sidecar's count, special ids outside the ranks. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainBpe } from "../src/index.js";
import { loadTokenizer, saveTokenizer } from "../src/node.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tfgpt-ranks-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const text = "the cat sat on the mat; the cat ate the rat. ".repeat(40);
const model = trainBpe(text, { vocabSize: 280, specialTokens: ["<|endoftext|>"] });

function saved(name: string): string {
  const file = path.join(tmp, name);
  saveTokenizer(file, model);
  return file;
}

describe("rank files are validated on load", () => {
  it("the sidecar records the number of ranks, and a saved file loads", () => {
    const file = saved("ok.tiktoken");
    const meta = JSON.parse(readFileSync(`${file}.meta.json`, "utf8")) as { numRanks: number };
    expect(meta.numRanks).toBe(model.ranks.size);
    expect(loadTokenizer(file).vocabSize).toBe(model.ranks.size + 1);
  });

  it("refuses a rank file cut at a line boundary (fewer ranks than its sidecar says)", () => {
    const file = saved("cut.tiktoken");
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
    writeFileSync(file, `${lines.slice(0, lines.length - 5).join("\n")}\n`);
    expect(() => loadTokenizer(file)).toThrow(`has ${model.ranks.size - 5} ranks, its sidecar says ${model.ranks.size}: the file is cut`);
  });

  it("without a count (older sidecars), a cut file is still refused when a special id falls among the ranks or a rank is missing", () => {
    const file = saved("gap.tiktoken");
    const metaFile = `${file}.meta.json`;
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as Record<string, unknown>;
    delete meta.numRanks;
    meta.specialTokens = { "<|endoftext|>": 5 };
    writeFileSync(metaFile, JSON.stringify(meta));
    expect(() => loadTokenizer(file)).toThrow('special token "<|endoftext|>" has id 5, which is a rank');
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
    meta.specialTokens = { "<|endoftext|>": 1000 };
    writeFileSync(metaFile, JSON.stringify(meta));
    writeFileSync(file, `${lines.filter((_, i) => i !== 3).join("\n")}\n`);
    expect(() => loadTokenizer(file)).toThrow("ranks must be 0..");
  });

  it("refuses two special tokens with one id", () => {
    const file = saved("dup.tiktoken");
    const metaFile = `${file}.meta.json`;
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as Record<string, unknown>;
    meta.specialTokens = { "<|a|>": 900, "<|b|>": 900 };
    writeFileSync(metaFile, JSON.stringify(meta));
    expect(() => loadTokenizer(file)).toThrow('special tokens "<|a|>" and "<|b|>" share id 900');
  });
});
