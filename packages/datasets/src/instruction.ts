/**
 * Instruction data for instruction fine-tuning ("LLMs from scratch" chapter 7): a JSON list of
 * `{instruction, input, output}` entries, the Alpaca prompt format exactly as the book's
 * `format_input`, and the book's `custom_collate_fn` (pad with `<|endoftext|>`, targets shifted by
 * one, every padding target but the first replaced by an ignore index, truncation to the
 * context). Browser-safe: `@tfgpt/datasets/node`'s `readInstructionFile` reads files.
 */
import { bool, nonNegativeInt, positiveInt } from "@tfgpt/common";
import { z } from "zod";
import type { Tokenizer } from "@tfgpt/tokenizers";
import { DatasetError, describeValue } from "./errors.js";
import { endOfTextId } from "./labelled-text.js";
import { parseOptions } from "./options.js";

/** One instruction example. `input` may be empty (no `### Input:` section then). */
export interface InstructionEntry {
  readonly instruction: string;
  readonly input: string;
  readonly output: string;
}

/** The target id the loss skips, as PyTorch's `cross_entropy(ignore_index=-100)`. */
export const IGNORE_INDEX = -100;

/**
 * The Alpaca-style prompt, character for character the book's `format_input(entry)`: the preamble,
 * `### Instruction:`, and `### Input:` only when the input is not empty.
 *
 * @example
 * formatInput({ instruction: "Name a colour.", input: "", output: "Blue." });
 * // "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a colour."
 */
export function formatInput(entry: Pick<InstructionEntry, "instruction" | "input">): string {
  const instructionText =
    "Below is an instruction that describes a task. " +
    "Write a response that appropriately completes the request." +
    `\n\n### Instruction:\n${entry.instruction}`;
  const inputText = entry.input ? `\n\n### Input:\n${entry.input}` : "";
  return instructionText + inputText;
}

/** The prompt followed by the response, as the book's `InstructionDataset` encodes it. */
export function formatExample(entry: InstructionEntry): string {
  return `${formatInput(entry)}\n\n### Response:\n${entry.output}`;
}

/** 1-based line of character `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Where `JSON.parse` failed, from its message: V8 gives "at position N" for long texts, and for
 * short ones quotes the text around the bad token (`Unexpected token '}', ..."put": }]" is not
 * valid JSON`); an unexpected end is at the end.
 */
function jsonErrorOffset(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  if (/end of JSON input/.test(message)) return text.length;
  const quoted = /Unexpected token '(.+?)', (?:\.\.\.)?"([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(message);
  if (quoted) {
    const [, token = "", snippet = ""] = quoted;
    const at = text.indexOf(snippet);
    if (at >= 0) return at + Math.max(0, snippet.indexOf(token));
  }
  return undefined;
}

/** The 1-based lines where the top-level array's entries start (for error messages). */
function entryLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let inString = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (depth === 1) lines.push(line);
      inString = true;
    } else if (c === "{" || c === "[") {
      if (depth === 1) lines.push(line);
      depth++;
    } else if (c === "}" || c === "]") depth--;
    else if (depth === 1 && /[-0-9tfn]/.test(c ?? "") && !/[-0-9.eE+a-z]/.test(text[i - 1] ?? "")) lines.push(line);
  }
  return lines;
}

/**
 * Reads a JSON list of `{instruction, input, output}` entries (the book's `instruction-data.json`
 * layout; `input` may be missing or empty, other keys are ignored).
 *
 * @param text The file's contents.
 * @param source Names the input in errors (a path).
 * @throws DatasetError naming `source:line`, the entry and the field for malformed JSON, an entry
 *   that is not an object, a missing, empty or non-string `instruction` / `output`, a non-string
 *   `input`, or an empty list.
 */
export function parseInstructionJson(text: string, source: string): InstructionEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const offset = jsonErrorOffset(text, message);
    const where = offset === undefined ? "" : `:${lineAt(text, offset)}`;
    throw new DatasetError(`${source}${where}: malformed JSON: ${message}`, "data");
  }
  if (!Array.isArray(value)) throw new DatasetError(`${source}: must be a JSON list of {instruction, input, output} entries, received ${describeValue(value)}`, "data");
  if (value.length === 0) throw new DatasetError(`${source}: the list has no entries`, "data");
  const lines = entryLines(text);
  return value.map((entry: unknown, i) => {
    const where = `${source}:${lines[i] ?? 1}: entry ${i}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new DatasetError(`${where} must be an object with \`instruction\`, \`input\` and \`output\`, received ${describeValue(entry)}`, "data");
    }
    const record = entry as Record<string, unknown>;
    for (const field of ["instruction", "output"] as const) {
      const v = record[field];
      if (typeof v !== "string") throw new DatasetError(`${where}: field \`${field}\` must be a string, received ${describeValue(v)}`, field);
      if (v.trim() === "") throw new DatasetError(`${where}: field \`${field}\` is empty`, field);
    }
    const input = record.input ?? "";
    if (typeof input !== "string") throw new DatasetError(`${where}: field \`input\` must be a string, received ${describeValue(input)}`, "input");
    return { instruction: record.instruction as string, input, output: record.output as string };
  });
}

/**
 * Options of `collateInstructions` (the book's `custom_collate_fn` arguments).
 *
 * - `padTokenId`: default 50256 (`<|endoftext|>` in GPT-2).
 * - `ignoreIndex`: the masked target id. Default -100.
 * - `allowedMaxLength`: truncate inputs and targets to this many tokens (the context). Default none.
 * - `promptLengths`: with it, also mask each row's first `promptLengths[r] - 1` targets (the
 *   prompt; the book's exercise 7.2). Default none (the book's main text: prompts are trained on).
 */
export const CollateOptionsSchema = z.strictObject({
  padTokenId: nonNegativeInt().default(50256),
  ignoreIndex: z.number({ error: "must be an integer" }).int({ error: "must be an integer" }).default(IGNORE_INDEX),
  allowedMaxLength: positiveInt().optional(),
  promptLengths: z.array(nonNegativeInt()).optional().describe("an array of non-negative integers (one per row)"),
});
/** `collateInstructions` options as given. */
export type CollateOptions = z.input<typeof CollateOptionsSchema>;

/** A padded instruction batch: inputs and targets `[batchSize, length]` row-major. */
export interface InstructionBatch {
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  readonly batchSize: number;
  readonly length: number;
}

/**
 * The book's `custom_collate_fn`: each item gets one `padTokenId` appended, all are padded to the
 * longest (`max(len(item) + 1)`), inputs are `padded[:-1]` and targets `padded[1:]`; in each row's
 * targets every position equal to `padTokenId` but the first becomes `ignoreIndex`; then both are
 * cut to `allowedMaxLength`.
 *
 * @example
 * collateInstructions([[0, 1, 2, 3, 4], [5, 6], [7, 8, 9]]);
 * // inputs  [[0, 1, 2, 3, 4], [5, 6, 50256, 50256, 50256], [7, 8, 9, 50256, 50256]]
 * // targets [[1, 2, 3, 4, 50256], [6, 50256, -100, -100, -100], [8, 9, 50256, -100, -100]]
 */
export function collateInstructions(batch: readonly (readonly number[] | Int32Array)[], options: CollateOptions = {}): InstructionBatch {
  const { padTokenId, ignoreIndex, allowedMaxLength, promptLengths } = parseOptions(CollateOptionsSchema, options, "collate");
  if (batch.length === 0) throw new DatasetError("`batch` must hold at least one example", "batch");
  if (promptLengths !== undefined && promptLengths.length !== batch.length) {
    throw new DatasetError(`\`promptLengths\` must have one entry per example (${batch.length}), received ${promptLengths.length}`, "promptLengths");
  }
  const batchMax = Math.max(...batch.map((item) => item.length + 1));
  const length = Math.min(batchMax - 1, allowedMaxLength ?? Infinity);
  const inputs = new Int32Array(batch.length * length);
  const targets = new Int32Array(batch.length * length);
  batch.forEach((item, r) => {
    const padded = new Int32Array(batchMax).fill(padTokenId);
    padded.set(item);
    const target = padded.slice(1);
    let seen = 0;
    for (let t = 0; t < target.length; t++) {
      if (target[t] === padTokenId && seen++ > 0) target[t] = ignoreIndex;
    }
    const prompt = promptLengths?.[r] ?? 0;
    for (let t = 0; t < Math.min(prompt - 1, target.length); t++) target[t] = ignoreIndex;
    inputs.set(padded.subarray(0, length), r * length);
    targets.set(target.subarray(0, length), r * length);
  });
  return { inputs, targets, batchSize: batch.length, length };
}

/**
 * Options of `InstructionDataset`.
 *
 * - `maxLength`: the context: batches are truncated to it (`allowedMaxLength`). Default none.
 * - `padTokenId`: default the tokenizer's `<|endoftext|>`.
 * - `ignoreIndex`: default -100.
 * - `maskPrompt`: also mask the prompt's targets (the book's exercise 7.2). Default `false`.
 */
export const InstructionDatasetOptionsSchema = z.strictObject({
  maxLength: positiveInt().optional(),
  padTokenId: nonNegativeInt().optional(),
  ignoreIndex: z.number({ error: "must be an integer" }).int({ error: "must be an integer" }).default(IGNORE_INDEX),
  maskPrompt: bool().default(false),
});
/** `InstructionDataset` options as given. */
export type InstructionDatasetOptions = z.input<typeof InstructionDatasetOptionsSchema>;

/**
 * Tokenized instruction examples (the book's `InstructionDataset`), batched by `collate`.
 *
 * @example
 * const data = new InstructionDataset(parseInstructionJson(json, "data.json"), getTokenizer("gpt2"), { maxLength: 1024 });
 * const { inputs, targets, length } = data.collate([0, 1]);
 */
export class InstructionDataset {
  readonly entries: readonly InstructionEntry[];
  readonly padTokenId: number;
  readonly ignoreIndex: number;
  readonly maxLength: number | undefined;
  readonly maskPrompt: boolean;
  private readonly encoded: Int32Array[];
  private readonly promptLengths: Int32Array;

  constructor(entries: readonly InstructionEntry[], tokenizer: Tokenizer, options: InstructionDatasetOptions = {}) {
    const o = parseOptions(InstructionDatasetOptionsSchema, options, "InstructionDataset");
    if (entries.length === 0) throw new DatasetError("`entries` must hold at least one example", "entries");
    this.entries = [...entries];
    this.padTokenId = o.padTokenId ?? endOfTextId(tokenizer);
    this.ignoreIndex = o.ignoreIndex;
    this.maxLength = o.maxLength;
    this.maskPrompt = o.maskPrompt;
    this.encoded = this.entries.map((e) => Int32Array.from(tokenizer.encode(formatExample(e))));
    this.promptLengths = Int32Array.from(this.entries, (e) => tokenizer.encode(formatInput(e)).length);
  }

  /** Examples in the dataset. */
  get length(): number {
    return this.encoded.length;
  }

  /** The token ids of example `i` (prompt and response). */
  idsOf(i: number): Int32Array {
    const ids = this.encoded[i];
    if (ids === undefined) throw new DatasetError(`example index ${i} is out of range [0, ${this.encoded.length})`, "index");
    return ids;
  }

  /** The examples `indices` collated as the book's `custom_collate_fn` with this dataset's settings. */
  collate(indices: readonly number[]): InstructionBatch {
    return collateInstructions(
      indices.map((i) => this.idsOf(i)),
      {
        padTokenId: this.padTokenId,
        ignoreIndex: this.ignoreIndex,
        ...(this.maxLength === undefined ? {} : { allowedMaxLength: this.maxLength }),
        ...(this.maskPrompt ? { promptLengths: indices.map((i) => this.promptLengths[i] as number) } : {}),
      },
    );
  }
}
