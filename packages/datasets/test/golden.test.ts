/**
 * The notebook's golden values (../shared/data/README.md) with the real gpt2 tokenizer.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getTokenizer } from "@tfgpt/tokenizers";
import { readText } from "@tfgpt/tokenizers/node";
import { describe, expect, it } from "vitest";
import { createDataLoader } from "../src/create-data-loader.js";
import { DataLoader } from "../src/data-loader.js";
import { GPTDataset } from "../src/gpt-dataset.js";
import { createDataLoaderFromFile } from "../src/node.js";
import { rows } from "./python-reference.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(repoRoot, "../shared/data");
const verdictPath = path.join(dataDir, "the-verdict.txt");
const pg84Path = path.join(dataDir, "pg84.txt");

/** The notebook's first 8 x 4 batch of pg84: asserted here only (the CLI and test/golden.test.ts compare against this package). */
const PG84_FIRST_BATCH = [
  [171, 119, 123, 464],
  [4935, 20336, 46566, 286],
  [45738, 26, 1471, 11],
  [383, 12495, 42696, 198],
  [220, 220, 220, 220],
  [198, 1212, 47179, 318],
  [329, 262, 779, 286],
  [2687, 6609, 287, 262],
];

describe("golden values with gpt2", () => {
  it("the-verdict: 5,145 tokens and the notebook's stride-1 batches", async () => {
    const text = await readText(verdictPath);
    const loader = createDataLoader(text, { batchSize: 1, maxLength: 4, stride: 1, shuffle: false });
    expect(loader.dataset.tokens.length).toBe(5145);
    expect(Array.from(loader.dataset.tokens.slice(0, 9))).toEqual([40, 367, 2885, 1464, 1807, 3619, 402, 271, 10899]);
    const first = loader.nextBatch();
    expect(rows(first.inputs, 4)).toEqual([[40, 367, 2885, 1464]]);
    expect(rows(first.targets, 4)).toEqual([[367, 2885, 1464, 1807]]);
    expect(rows(loader.nextBatch().inputs, 4)).toEqual([[367, 2885, 1464, 1807]]);
  });

  it("pg84 read like Python: 106,390 tokens and the notebook's 8 x 4 batch", async () => {
    const loader = await createDataLoaderFromFile(pg84Path, { batchSize: 8, maxLength: 4, stride: 4, shuffle: false });
    expect(loader.dataset.tokens.length).toBe(106_390);
    const { inputs, targets, batchSize } = loader.nextBatch();
    expect(batchSize).toBe(8);
    expect(rows(inputs, 4)).toEqual(PG84_FIRST_BATCH);
    const lastTargetRow = rows(targets, 4)[7]!;
    expect(lastTargetRow).toEqual([...PG84_FIRST_BATCH[7]!.slice(1), 1578]);
  });

  it("pg84 read raw (newline keep): 114,255 tokens, row 4 ends in 201 (\\r)", async () => {
    const loader = await createDataLoaderFromFile(pg84Path, {
      batchSize: 8, maxLength: 4, stride: 4, shuffle: false, newline: "keep",
    });
    expect(loader.dataset.tokens.length).toBe(114_255);
    const inputs = rows(loader.nextBatch().inputs, 4);
    expect(inputs.slice(0, 3)).toEqual(PG84_FIRST_BATCH.slice(0, 3));
    expect(inputs[3]).toEqual([383, 12495, 42696, 201]);
  });

  it("stores gpt2 ids in a Uint16Array and agrees with the Python loop at every window count", async () => {
    const tokenizer = getTokenizer("gpt2");
    const text = await readText(verdictPath);
    const ids = tokenizer.encode(text, { allowedSpecial: ["<|endoftext|>"] });
    const ds = GPTDataset.fromText(text, tokenizer, { maxLength: 256, stride: 128 });
    expect(ds.tokens.ids).toBeInstanceOf(Uint16Array);
    expect(ds.length).toBe(Math.ceil((ids.length - 256) / 128)); // len(range(0, n - 256, 128))
    // The book's create_dataloader_v1 defaults: batch 4, shuffle and drop_last on.
    const loader = createDataLoader(text);
    expect(loader.numBatches).toBe(Math.floor(ds.length / 4));
    expect(loader.shuffle && loader.dropLast).toBe(true);
    const seen = [...loader].flatMap((b) => rows(b.inputs, 256).map((r) => r.join(",")));
    const all = new Set([...ds].map((w) => Array.from(w.input).join(",")));
    expect(seen.every((r) => all.has(r))).toBe(true);
    expect(new DataLoader(ds, { batchSize: 4 }).numBatches).toBe(Math.ceil(ds.length / 4));
  });

  it("encodes <|endoftext|> as its id by default, as GPTDatasetV1 does, and rejects bad input", async () => {
    const loader = createDataLoader("Hello.<|endoftext|>In the sunlit terraces", { maxLength: 3, stride: 1, batchSize: 1, shuffle: false });
    expect(Array.from(loader.dataset.tokens.ids)).toContain(50256);
    expect(() => createDataLoader("", { maxLength: 3 })).toThrow(/`text` is empty/);
    expect(() => createDataLoader("Hello", { maxLength: 3 })).toThrow(/the text has 1 token, but `maxLength` 3 needs at least 4/);
    expect(() => createDataLoader("Hello world", { tokenizer: 42 as never })).toThrow(
      /`tokenizer` must be a Tokenizer or a registry name such as "gpt2", received 42/,
    );
    expect(() => createDataLoader("Hello world", { tokenizer: "nope" })).toThrow(/unknown tokenizer "nope"/);
    const byInstance = createDataLoader("Hello world, again", { tokenizer: getTokenizer("gpt2"), maxLength: 2, stride: 2, batchSize: 1, shuffle: false });
    const byName = createDataLoader("Hello world, again", { tokenizer: "gpt2", maxLength: 2, stride: 2, batchSize: 1, shuffle: false });
    expect(byInstance.nextBatch()).toEqual(byName.nextBatch());
    expect(() => createDataLoader("Hello world", { maxLength: 1, stride: 0 })).toThrow(/`stride` must be a positive integer, received 0/);
    expect(() => createDataLoader("Hello world", { allowedSpecial: 3 as never })).toThrow(/`allowedSpecial` must be "all" or an array/);
    await expect(createDataLoaderFromFile(verdictPath, { newline: "crlf" as never })).rejects.toThrow(
      /`newline` must be "lf" or "keep", received "crlf"/,
    );
  });
});
