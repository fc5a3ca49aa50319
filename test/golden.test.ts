/**
 * Golden parity across packages: what the CLI prints equals what the packages compute directly
 * and what the chapter-2 notebook printed (`../shared/data/README.md`).
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createDataLoader } from "@tfgpt/datasets";
import { chapter2 } from "@tfgpt/examples";
import { getTokenizer } from "@tfgpt/tokenizers";
import { readText } from "@tfgpt/tokenizers/node";
import { describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const DATA_DIR = process.env.TFGPT_DATA_DIR ?? path.resolve(REPO_ROOT, "../shared/data");
const CLI = path.join(REPO_ROOT, "packages/examples/dist/cli.js");

function batchesJson(file: string, args: string[]): { inputs: number[][]; targets: number[][] } {
  const r = spawnSync(process.execPath, [CLI, "batches", path.join(DATA_DIR, file), ...args, "--json"], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { inputs: number[][]; targets: number[][] };
}

function rows(flat: Int32Array, width: number): number[][] {
  return Array.from({ length: flat.length / width }, (_, r) => Array.from(flat.subarray(r * width, (r + 1) * width)));
}

describe("tfgpt batches == the notebook == @tfgpt/datasets", () => {
  // The notebook's values of this batch are asserted once, in packages/datasets/test/golden.test.ts.
  it("pg84, max_length 4, stride 4, batch 8: the CLI prints @tfgpt/datasets' first batch", async () => {
    const cli = batchesJson("pg84.txt", ["--max-length", "4", "--stride", "4", "--batch-size", "8"]);
    const text = await readText(path.join(DATA_DIR, "pg84.txt"), { newline: "lf" });
    const loader = createDataLoader(text, { maxLength: 4, stride: 4, batchSize: 8, shuffle: false });
    const direct = loader.nextBatch();
    expect(cli.inputs).toEqual(rows(direct.inputs, 4));
    expect(cli.targets).toEqual(rows(direct.targets, 4));
  });

  it("the-verdict: the CLI's batches equal the walkthrough's notebook cells", async () => {
    const text = await readFile(path.join(DATA_DIR, "the-verdict.txt"), "utf8");
    const notebook = chapter2(text, getTokenizer("gpt2"));
    expect(notebook.tokenCount).toBe(5145);
    expect(notebook.stride1Batches[0]).toEqual({ inputs: [[40, 367, 2885, 1464]], targets: [[367, 2885, 1464, 1807]] });
    expect(notebook.stride1Batches[1].inputs).toEqual([[367, 2885, 1464, 1807]]);
    expect(batchesJson("the-verdict.txt", ["--max-length", "4", "--stride", "1", "--batch-size", "1"])).toEqual(notebook.stride1Batches[0]);
    expect(batchesJson("the-verdict.txt", ["--max-length", "4", "--stride", "4", "--batch-size", "8"])).toEqual(notebook.batch8x4);
    expect(notebook.tokenEmbeddingShape).toEqual([8, 4, 256]);
    expect(notebook.positionEmbeddingShape).toEqual([4, 256]);
    expect(notebook.inputEmbeddingShape).toEqual([8, 4, 256]);
  });
});
