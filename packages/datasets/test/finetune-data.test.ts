import { readFileSync } from "node:fs";
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
  lengthBucketedBatches,
  paddingOf,
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

describe("batching by length (ExampleLoader with lengths)", () => {
  // 42 instruction examples of the committed set: lengths from ~40 to ~90 tokens.
  const entries = parseInstructionJson(readFileSync(path.join(DATA, "instructions.json"), "utf8"), "instructions.json");
  const data = new InstructionDataset(entries, gpt2, { maxLength: 1024 });
  const lengths = Array.from({ length: data.length }, (_, i) => data.idsOf(i).length);

  it("sorts within pools and puts the batches in a seeded order (hand-checked small case)", () => {
    // lengths by index: 0:5 1:1 2:4 3:2 4:3 5:6; order 3,0,2,1,5,4; pools of 2 batches of 2.
    const ls = [5, 1, 4, 2, 3, 6];
    const plain = lengthBucketedBatches([3, 0, 2, 1, 5, 4], ls, { batchSize: 2, poolBatches: 2, dropLast: false, shuffle: false, seed: 0, epoch: 0 });
    expect(plain).toEqual([[1, 3], [2, 0], [4, 5]]);
    expect(paddingOf(plain, ls)).toBe(1 + 1 + 3);
    expect(lengthBucketedBatches([3, 0, 2, 1, 5, 4], ls, { batchSize: 4, poolBatches: 1, dropLast: true, shuffle: false, seed: 0, epoch: 0 })).toEqual([[1, 3, 2, 0]]);
  });

  it("every example once per epoch, fewer pad tokens than random batches, padding and -100 targets still right", () => {
    const plain = new ExampleLoader(data.length, { batchSize: 8, seed: 5 });
    const bucketed = new ExampleLoader(data.length, { batchSize: 8, seed: 5, lengths });
    expect(bucketed.numBatches).toBe(plain.numBatches);
    const epoch = (l: ExampleLoader) => Array.from({ length: l.numBatches }, () => l.nextIndices());
    const p = epoch(plain);
    const b = epoch(bucketed);
    expect(b.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: data.length }, (_, i) => i));
    // Pad tokens processed: each batch padded to its longest example (the collate's length).
    const padded = (batches: number[][]) => batches.reduce((n, idx) => n + idx.length * data.collate(idx).length, 0);
    const real = lengths.reduce((x, y) => x + y, 0);
    expect(padded(b) - real).toBe(paddingOf(b, lengths));
    expect(paddingOf(b, lengths)).toBeLessThan(paddingOf(p, lengths) / 2);
    // Measured on this set (seed 5): 203 pad positions in random batches, 19 bucketed (all 42 in one pool).
    expect([paddingOf(p, lengths), paddingOf(b, lengths)]).toEqual([203, 19]);
    // The book's collate on a bucketed batch: inputs = ids then <|endoftext|> (50256); targets = ids[1:], one 50256, then -100.
    for (const idx of b) {
      const out = data.collate(idx);
      idx.forEach((example, r) => {
        const ids = Array.from(data.idsOf(example));
        const row = Array.from(out.inputs.subarray(r * out.length, (r + 1) * out.length));
        const target = Array.from(out.targets.subarray(r * out.length, (r + 1) * out.length));
        const pad = out.length - ids.length;
        expect(row).toEqual([...ids, ...new Array(pad).fill(50256)]);
        expect(target).toEqual([...ids.slice(1), 50256, ...new Array(pad).fill(-100)]);
      });
    }
    // Batch order is shuffled (not rising lengths), and another epoch gives other batches.
    const longest = b.map((idx) => Math.max(...idx.map((i) => lengths[i] as number)));
    expect(longest).not.toEqual([...longest].sort((x, y) => x - y));
    expect(epoch(bucketed)).not.toEqual(b);
  });

  it("state()/restore() continue the bucketed order; the settings must match", () => {
    const a = new ExampleLoader(data.length, { batchSize: 4, seed: 2, lengths, poolBatches: 3 });
    for (let i = 0; i < 7; i++) a.nextIndices();
    const saved = a.state();
    expect(saved.poolBatches).toBe(3);
    const next = [a.nextIndices(), a.nextIndices(), a.nextIndices(), a.nextIndices(), a.nextIndices()];
    const b = new ExampleLoader(data.length, { batchSize: 4, seed: 2, lengths, poolBatches: 3 });
    b.restore(saved);
    expect([b.nextIndices(), b.nextIndices(), b.nextIndices(), b.nextIndices(), b.nextIndices()]).toEqual(next);
    expect(() => new ExampleLoader(data.length, { batchSize: 4, seed: 2 }).restore(saved)).toThrow(/saved with `poolBatches` 3, this loader has none/);
    expect(() => new ExampleLoader(3, { lengths: [1, 2] })).toThrow(/`lengths` must have one entry per example \(3\), received 2/);
  });
});
