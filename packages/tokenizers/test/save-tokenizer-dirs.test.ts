/** `saveTokenizer` creates missing parent directories, for both file formats, and writes nothing else. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainBpe } from "../src/bpe-trainer.js";
import { loadTokenizer, saveTokenizer } from "../src/node.js";
import { createBpeTokenizer } from "../src/bpe-factory.js";

const dir = mkdtempSync(path.join(tmpdir(), "tfgpt-save-dirs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = "It was the best of times, it was the worst of times. ".repeat(20);
const model = trainBpe(text, { vocabSize: 280 });

describe("saveTokenizer into a directory that does not exist yet", () => {
  it("a rank file and its sidecar: the parents are created and the tokenizer loads back", () => {
    const file = path.join(dir, "a", "b", "tokens.tiktoken");
    expect(saveTokenizer(file, model)).toEqual([file, `${file}.meta.json`]);
    expect(readdirSync(path.join(dir, "a", "b")).sort()).toEqual(["tokens.tiktoken", "tokens.tiktoken.meta.json"]);
    expect(loadTokenizer(file).encode(text)).toEqual(createBpeTokenizer(model).encode(text));
  });

  it("a tokenizer.json: the parents are created and the tokenizer loads back", () => {
    const file = path.join(dir, "c", "d", "e", "tokenizer.json");
    expect(saveTokenizer(file, model)).toEqual([file]);
    expect(readdirSync(path.join(dir, "c", "d", "e"))).toEqual(["tokenizer.json"]);
    expect(loadTokenizer(file).encode(text)).toEqual(createBpeTokenizer(model).encode(text));
  });
});
