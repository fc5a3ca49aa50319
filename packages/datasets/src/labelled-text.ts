/**
 * Labelled texts for classification fine-tuning ("LLMs from scratch" chapter 6): rows of
 * `{text, label}` read from CSV, TSV or JSON Lines, tokenized, padded with `<|endoftext|>` (to the
 * longest text of the batch or to a fixed length), optionally balanced by undersampling as the
 * book's `create_balanced_dataset` does. Browser-safe: the text comes in as a string
 * (`@tfgpt/datasets/node`'s `readLabelledFile` reads files).
 */
import { bool, nonNegativeInt, oneOf, positiveInt } from "@tfgpt/common";
import { z } from "zod";
import type { Tokenizer } from "@tfgpt/tokenizers";
import { DatasetError, describeValue } from "./errors.js";
import { parseOptions } from "./options.js";
import { permutation } from "./sampler.js";

/** One labelled example and where it came from (1-based line of its file). */
export interface LabelledRow {
  readonly text: string;
  readonly label: string;
  readonly line: number;
}

/** The formats `parseLabelledText` reads. */
export type LabelledFormat = "csv" | "tsv" | "jsonl";

/** Options of `parseLabelledText`: the header / field names of the text and the label. */
export const LabelledParseOptionsSchema = z.strictObject({
  textField: z.string({ error: "must be a field name" }).min(1, { error: "must be a field name" }).default("text"),
  labelField: z.string({ error: "must be a field name" }).min(1, { error: "must be a field name" }).default("label"),
});
/** `parseLabelledText` options as given. */
export type LabelledParseOptions = z.input<typeof LabelledParseOptionsSchema>;

/** The format a file name implies (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`), or undefined. */
export function labelledFormatOf(name: string): LabelledFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".tsv") || lower.endsWith(".tab")) return "tsv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
  return undefined;
}

/** CSV records (RFC 4180: quoted fields with `""` and newlines inside quotes) with their first line. */
function csvRecords(text: string, source: string): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  let afterQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "" && !afterQuote) {
      quoted = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      afterQuote = false;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      fields.push(field);
      records.push({ fields, line: start });
      fields = [];
      field = "";
      afterQuote = false;
      line++;
      start = line;
    } else {
      if (afterQuote) throw new DatasetError(`${source}:${line}: malformed CSV: text after a closing quote`, "data");
      field += c;
    }
  }
  if (quoted) throw new DatasetError(`${source}:${start}: malformed CSV: a quoted field is never closed`, "data");
  if (field !== "" || fields.length > 0) {
    fields.push(field);
    records.push({ fields, line: start });
  }
  return records;
}

/**
 * Reads labelled rows from CSV (with a header row), TSV (header row, tab-separated, no quoting) or
 * JSON Lines (one object a line with the text and label fields; labels may be strings or numbers).
 * Blank lines are skipped.
 *
 * @param text The file's contents.
 * @param format `"csv"`, `"tsv"` or `"jsonl"`.
 * @param source Names the input in errors (a path).
 * @throws DatasetError naming `source:line` and the field for a malformed row, a missing or empty
 *   text or label, a missing header column, or no rows at all.
 * @example
 * parseLabelledText("text,label\nhello,ham\n", "csv", "a.csv"); // [{text: "hello", label: "ham", line: 2}]
 */
export function parseLabelledText(text: string, format: LabelledFormat, source: string, options: LabelledParseOptions = {}): LabelledRow[] {
  const { textField, labelField } = parseOptions(LabelledParseOptionsSchema, options, "parseLabelledText");
  const rows: LabelledRow[] = [];
  const check = (value: unknown, field: string, line: number): string => {
    if (typeof value === "number" && Number.isFinite(value) && field === labelField) return String(value);
    if (typeof value !== "string") throw new DatasetError(`${source}:${line}: field \`${field}\` must be a string, received ${describeValue(value)}`, field);
    if (value.trim() === "") throw new DatasetError(`${source}:${line}: field \`${field}\` is empty`, field);
    return value;
  };
  if (format === "jsonl") {
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, i) => {
      if (raw.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (e) {
        throw new DatasetError(`${source}:${i + 1}: malformed JSON: ${(e as Error).message}`, "data");
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new DatasetError(`${source}:${i + 1}: each line must be a JSON object with \`${textField}\` and \`${labelField}\`, received ${describeValue(value)}`, "data");
      }
      const record = value as Record<string, unknown>;
      rows.push({ text: check(record[textField], textField, i + 1), label: check(record[labelField], labelField, i + 1), line: i + 1 });
    });
  } else {
    const records =
      format === "csv"
        ? csvRecords(text, source)
        : text.split(/\r?\n/).map((l, i) => ({ fields: l.split("\t"), line: i + 1 }));
    const nonEmpty = records.filter((r) => !(r.fields.length === 1 && (r.fields[0] as string).trim() === ""));
    const header = nonEmpty[0];
    if (header === undefined) throw new DatasetError(`${source}: no rows: the file is empty`, "data");
    const names = header.fields.map((f) => f.trim().replace(/^\uFEFF/, ""));
    const textAt = names.indexOf(textField);
    const labelAt = names.indexOf(labelField);
    for (const [name, at] of [[textField, textAt], [labelField, labelAt]] as const) {
      if (at < 0) throw new DatasetError(`${source}:${header.line}: the header has no column \`${name}\` (columns: ${names.join(", ")})`, name);
    }
    for (const record of nonEmpty.slice(1)) {
      if (record.fields.length !== names.length) {
        throw new DatasetError(`${source}:${record.line}: malformed row: ${record.fields.length} fields, the header has ${names.length}`, "data");
      }
      rows.push({ text: check(record.fields[textAt], textField, record.line), label: check(record.fields[labelAt], labelField, record.line), line: record.line });
    }
  }
  if (rows.length === 0) throw new DatasetError(`${source}: no rows: the file has no labelled examples`, "data");
  return rows;
}

/**
 * Undersamples every label to the count of the rarest one (the book's `create_balanced_dataset`,
 * generalised beyond two classes), keeping the rows' order; seeded.
 */
export function balanceRows(rows: readonly LabelledRow[], seed = 123): LabelledRow[] {
  const byLabel = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const list = byLabel.get(row.label) ?? [];
    list.push(i);
    byLabel.set(row.label, list);
  });
  const smallest = Math.min(...[...byLabel.values()].map((l) => l.length));
  const keep = new Set<number>();
  [...byLabel.values()].forEach((list, k) => {
    const order = permutation(list.length, seed, k);
    for (let j = 0; j < smallest; j++) keep.add(list[order[j] as number] as number);
  });
  return rows.filter((_, i) => keep.has(i));
}

/**
 * Options of `LabelledTextDataset`.
 *
 * - `labels`: the label set, in class-index order. Default: the distinct labels sorted (so
 *   `ham`, `spam` -> 0, 1 as in the book). A row's label outside a given set is an error.
 * - `maxLength`: truncate texts to this many tokens. Default: none (the model's context is the
 *   caller's to enforce).
 * - `padding`: `"longest"` pads each batch to its longest text; `"fixed"` pads every batch to
 *   `maxLength` (or, without it, to the longest text of the dataset, as the book's `SpamDataset`).
 *   Default `"fixed"`.
 * - `padTokenId`: default the tokenizer's `<|endoftext|>` (50256 for GPT-2).
 * - `balance`: undersample to the rarest label first (`balanceRows`). Default `false`.
 * - `seed`: the undersampling seed. Default 123 (the book's `random_state`).
 */
export const LabelledTextOptionsSchema = z.strictObject({
  labels: z
    .array(z.string().min(1), { error: "must be an array of at least 2 label names" })
    .min(2, { error: "must be an array of at least 2 label names" })
    .optional()
    .describe("an array of at least 2 label names"),
  maxLength: positiveInt().optional(),
  padding: oneOf(["longest", "fixed"]).default("fixed"),
  padTokenId: nonNegativeInt().optional(),
  balance: bool().default(false),
  seed: nonNegativeInt().default(123),
});
/** `LabelledTextDataset` options as given. */
export type LabelledTextOptions = z.input<typeof LabelledTextOptionsSchema>;

/** A batch of labelled texts: ids `[batchSize, length]` row-major, one class index per row. */
export interface LabelledBatch {
  readonly inputs: Int32Array;
  readonly labels: Int32Array;
  /** Tokens of each row before padding. */
  readonly lengths: Int32Array;
  readonly batchSize: number;
  readonly length: number;
}

/** The id of `<|endoftext|>` in `tokenizer`, or a DatasetError naming the option to give instead. */
export function endOfTextId(tokenizer: Tokenizer): number {
  const id = tokenizer.specialTokens.get("<|endoftext|>");
  if (id !== undefined) return id;
  throw new DatasetError("the tokenizer has no <|endoftext|> token: give `padTokenId`", "padTokenId");
}

/**
 * Tokenized labelled texts (the book's `SpamDataset`), batched by `collate`.
 *
 * @example
 * const rows = parseLabelledText(csv, "csv", "spam.csv");
 * const data = new LabelledTextDataset(rows, getTokenizer("gpt2"), { balance: true });
 * const batch = data.collate([0, 1, 2]); // inputs [3, data.maxTokens], labels [3]
 */
export class LabelledTextDataset {
  readonly labels: readonly string[];
  readonly padTokenId: number;
  readonly padding: "longest" | "fixed";
  /** Padded length of a `"fixed"` batch: `maxLength`, or the longest text. */
  readonly maxTokens: number;
  readonly rows: readonly LabelledRow[];
  private readonly ids: Int32Array[];
  private readonly classes: Int32Array;

  constructor(rows: readonly LabelledRow[], tokenizer: Tokenizer, options: LabelledTextOptions = {}) {
    const o = parseOptions(LabelledTextOptionsSchema, options, "LabelledTextDataset");
    if (rows.length === 0) throw new DatasetError("`rows` must hold at least one labelled example", "rows");
    this.rows = o.balance ? balanceRows(rows, o.seed) : [...rows];
    const distinct = [...new Set(rows.map((r) => r.label))].sort();
    this.labels = o.labels ?? distinct;
    if (this.labels.length < 2) throw new DatasetError(`a classifier needs at least 2 labels, the data has ${describeValue(this.labels)}`, "labels");
    const index = new Map(this.labels.map((l, i) => [l, i]));
    this.padTokenId = o.padTokenId ?? endOfTextId(tokenizer);
    this.padding = o.padding;
    this.classes = new Int32Array(this.rows.length);
    this.ids = this.rows.map((row, i) => {
      const c = index.get(row.label);
      if (c === undefined) throw new DatasetError(`line ${row.line}: label ${describeValue(row.label)} is not in the label set ${describeValue(this.labels)}`, "label");
      this.classes[i] = c;
      const ids = Int32Array.from(tokenizer.encode(row.text));
      return o.maxLength === undefined ? ids : ids.subarray(0, o.maxLength);
    });
    this.maxTokens = o.maxLength ?? Math.max(...this.ids.map((ids) => ids.length));
  }

  /** Examples in the dataset. */
  get length(): number {
    return this.ids.length;
  }

  /** The class index of example `i`. */
  labelOf(i: number): number {
    return this.classes[i] as number;
  }

  /** The token ids of example `i` (before padding). */
  idsOf(i: number): Int32Array {
    const ids = this.ids[i];
    if (ids === undefined) throw new DatasetError(`example index ${i} is out of range [0, ${this.ids.length})`, "index");
    return ids;
  }

  /** Pads the examples `indices` into one batch with `padTokenId`. */
  collate(indices: readonly number[]): LabelledBatch {
    const items = indices.map((i) => this.idsOf(i));
    const length = this.padding === "fixed" ? this.maxTokens : Math.max(1, ...items.map((ids) => ids.length));
    const inputs = new Int32Array(items.length * length).fill(this.padTokenId);
    const lengths = new Int32Array(items.length);
    items.forEach((ids, r) => {
      inputs.set(ids.subarray(0, length), r * length);
      lengths[r] = Math.min(ids.length, length);
    });
    return { inputs, labels: Int32Array.from(indices, (i) => this.labelOf(i)), lengths, batchSize: items.length, length };
  }
}
