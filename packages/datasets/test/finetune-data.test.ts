import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { getTokenizer } from "@tfgpt/tokenizers";
import {
  ExampleLoader,
  InstructionDataset,
  LabelledTextDataset,
  balanceRows,
  collateInstructions,
  formatInput,
  parseInstructionJson,
  parseLabelledText,
} from "../src/index.js";
import { readInstructionFile, readLabelledFile } from "../src/node.js";

const DATA = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../examples/data/finetune");
const gpt2 = getTokenizer("gpt2");

describe("collateInstructions (the book's custom_collate_fn)", () => {
  // The book's chapter 7 example: inputs_1..3 = [0..4], [5, 6], [7, 8, 9]; expected arrays as
  // printed by custom_collate_fn there (pad 50256, ignore_index -100).
  const batch = [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9]];
  it("pads, shifts and masks every padding target but the first", () => {
    const out = collateInstructions(batch);
    expect(out.batchSize).toBe(3);
    expect(out.length).toBe(5);
    expect(Array.from(out.inputs)).toEqual([0, 1, 2, 3, 4, 5, 6, 50256, 50256, 50256, 7, 8, 9, 50256, 50256]);
    expect(Array.from(out.targets)).toEqual([1, 2, 3, 4, 50256, 6, 50256, -100, -100, -100, 8, 9, 50256, -100, -100]);
  });
  it("truncates to allowedMaxLength and masks the prompt when asked", () => {
    const out = collateInstructions(batch, { allowedMaxLength: 3, promptLengths: [2, 1, 3] });
    expect(out.length).toBe(3);
    expect(Array.from(out.inputs)).toEqual([0, 1, 2, 5, 6, 50256, 7, 8, 9]);
    expect(Array.from(out.targets)).toEqual([-100, 2, 3, 6, 50256, -100, -100, -100, 50256]);
  });
  it("rejects bad options naming them", () => {
    expect(() => collateInstructions(batch, { allowedMaxLength: 0 })).toThrow(/`allowedMaxLength` must be a positive integer, received 0/);
    expect(() => collateInstructions([])).toThrow(/at least one/);
  });
});

describe("instruction data", () => {
  it("formats prompts exactly as the book's format_input", () => {
    expect(formatInput({ instruction: "Identify the correct spelling of the following word.", input: "Ocassion" })).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nIdentify the correct spelling of the following word.\n\n### Input:\nOcassion",
    );
    expect(formatInput({ instruction: "Name a colour.", input: "" })).not.toMatch(/### Input/);
  });
  it("reads the example file and collates within the context", async () => {
    const entries = await readInstructionFile(path.join(DATA, "instructions.json"));
    expect(entries.length).toBeGreaterThan(30);
    const data = new InstructionDataset(entries, gpt2, { maxLength: 48 });
    const b = data.collate([0, 1]);
    expect(b.length).toBe(48);
    expect(b.inputs[0]).toBe(21106); // "Below"
    const masked = new InstructionDataset(entries, gpt2, { maskPrompt: true }).collate([2]);
    const prompt = gpt2.encode(formatInput(entries[2]!)).length;
    expect(Array.from(masked.targets.subarray(0, prompt - 1)).every((t) => t === -100)).toBe(true);
    expect(masked.targets[prompt - 1]).not.toBe(-100);
  });
  it("names the file, line, entry and field of bad input", () => {
    expect(() => parseInstructionJson('[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c", "output": 3}\n]', "x.json")).toThrow(
      /x\.json:3: entry 1: field `output` must be a string, received 3/,
    );
    expect(() => parseInstructionJson('[\n {"instruction": "a",\n "output": }]', "x.json")).toThrow(/x\.json:3: malformed JSON/);
    expect(() => parseInstructionJson("[]", "x.json")).toThrow(/no entries/);
    expect(() => parseInstructionJson('[{"instruction": " ", "output": "b"}]', "x.json")).toThrow(/field `instruction` is empty/);
  });
});

describe("labelled texts", () => {
  it("reads CSV (quoted fields), TSV and JSONL alike", () => {
    const rows = parseLabelledText('label,text\nham,"hi, you"\r\nspam,"say ""win"""\n', "csv", "a.csv");
    expect(rows).toEqual([
      { text: "hi, you", label: "ham", line: 2 },
      { text: 'say "win"', label: "spam", line: 3 },
    ]);
    expect(parseLabelledText("text\tlabel\nhi, you\tham\n\n", "tsv", "a.tsv")).toEqual([{ text: "hi, you", label: "ham", line: 2 }]);
    expect(parseLabelledText('{"text": "hi", "label": 1}\n\n{"text": "yo", "label": 0}\n', "jsonl", "a.jsonl")).toEqual([
      { text: "hi", label: "1", line: 1 },
      { text: "yo", label: "0", line: 3 },
    ]);
  });
  it("names the file, line and field of bad rows", () => {
    expect(() => parseLabelledText("text,label\nhi,ham\nyo\n", "csv", "a.csv")).toThrow(/a\.csv:3: malformed row: 1 fields, the header has 2/);
    expect(() => parseLabelledText("text,label\nhi,\n", "csv", "a.csv")).toThrow(/a\.csv:2: field `label` is empty/);
    expect(() => parseLabelledText("words,label\nhi,ham\n", "csv", "a.csv")).toThrow(/a\.csv:1: the header has no column `text`/);
    expect(() => parseLabelledText('text,label\n"hi,ham\n', "csv", "a.csv")).toThrow(/a\.csv:2: malformed CSV: a quoted field is never closed/);
    expect(() => parseLabelledText('{"text": "hi"}\n', "jsonl", "a.jsonl")).toThrow(/a\.jsonl:1: field `label` must be a string, received undefined/);
    expect(() => parseLabelledText("{oops\n", "jsonl", "a.jsonl")).toThrow(/a\.jsonl:1: malformed JSON/);
    expect(() => parseLabelledText("", "csv", "a.csv")).toThrow(/no rows/);
    const rows = parseLabelledText("text,label\nhi,ham\nyo,spam\nhey,eggs\n", "csv", "a.csv");
    expect(() => new LabelledTextDataset(rows, gpt2, { labels: ["ham", "spam"] })).toThrow(/line 4: label "eggs" is not in the label set \["ham","spam"\]/);
  });
  it("pads with <|endoftext|> to the dataset's longest or the batch's longest, labels sorted", async () => {
    const rows = await readLabelledFile(path.join(DATA, "messages.csv"));
    expect(rows.length).toBe(300);
    const fixed = new LabelledTextDataset(rows, gpt2);
    expect(fixed.labels).toEqual(["ham", "spam"]);
    const b = fixed.collate([0, 1]);
    expect(b.length).toBe(fixed.maxTokens);
    expect(Array.from(b.labels)).toEqual([fixed.labelOf(0), fixed.labelOf(1)]);
    const ids1 = gpt2.encode(rows[1]!.text);
    expect(Array.from(b.inputs.subarray(b.length, b.length + ids1.length))).toEqual(ids1);
    expect(b.inputs[2 * b.length - 1]).toBe(50256);
    const longest = new LabelledTextDataset(rows, gpt2, { padding: "longest" }).collate([1]);
    expect(longest.length).toBe(ids1.length);
    expect(new LabelledTextDataset(rows, gpt2, { maxLength: 5, padding: "longest" }).collate([0, 1]).length).toBe(5);
  });
  it("balances by undersampling to the rarest label (seeded)", async () => {
    const rows = await readLabelledFile(path.join(DATA, "messages.csv"));
    const spam = rows.filter((r) => r.label === "spam").length;
    const balanced = balanceRows(rows);
    expect(balanced.length).toBe(2 * spam);
    expect(balanced.filter((r) => r.label === "ham").length).toBe(spam);
    expect(balanceRows(rows)).toEqual(balanced);
    expect(new LabelledTextDataset(rows, gpt2, { balance: true }).length).toBe(2 * spam);
  });
  it("reads files by extension and refuses an unknown one", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tfgpt-labelled-"));
    await writeFile(path.join(dir, "x.txt"), "text,label\n");
    await expect(readLabelledFile(path.join(dir, "x.txt"))).rejects.toThrow(/name it \.csv, \.tsv or \.jsonl/);
  });
});

describe("ExampleLoader", () => {
  it("covers every example each epoch and resumes bit-exactly", () => {
    const a = new ExampleLoader(10, { batchSize: 4, seed: 3 });
    const epoch = [...a.nextIndices(), ...a.nextIndices(), ...a.nextIndices()];
    expect([...epoch].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const saved = a.state();
    const next = [a.nextIndices(), a.nextIndices()];
    const b = new ExampleLoader(10, { batchSize: 4, seed: 3 });
    b.restore(JSON.parse(JSON.stringify(saved)));
    expect([b.nextIndices(), b.nextIndices()]).toEqual(next);
    expect(a.epoch).toBe(1);
    expect(() => new ExampleLoader(10, { batchSize: 5, seed: 3 }).restore(saved)).toThrow(/saved with `batchSize` 4, this loader has 5/);
    expect(() => new ExampleLoader(10, { batchSize: 0 })).toThrow(/`batchSize` must be a positive integer, received 0/);
  });
});
