/**
 * `tfgpt evaluate --checkpoint DIR [--data FILE] [--batch-size N] [--json]`: how good a
 * checkpoint is, by its kind:
 *
 * - a `tfgpt finetune --task classify` run: accuracy and mean cross-entropy on labelled texts,
 *   with per-class counts (examples, correct, predicted) and the confusion matrix. Texts are
 *   padded as in training (to the run's `padLength`), since the classifier reads the last position.
 * - a `--task instruct` run: the masked (-100) cross-entropy per target token and its perplexity
 *   on an instruction JSON.
 * - a language model (`tfgpt train`, or a pretrained GPT-2 directory): cross-entropy per token
 *   and perplexity on a text file, over non-overlapping windows of the model's context.
 *
 * Without `--data`, a finetune run is evaluated on its own validation split (the data file and
 * seed it was trained with; refused if the file changed). Losses are means over every example
 * (classify) or target token (instruct, text), not means of batch means.
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { InstructionDataset, LabelledTextDataset } from "@tfgpt/datasets";
import { readInstructionFile, readLabelledFile } from "@tfgpt/datasets/node";
import { classificationLoss, idsTensor, targetsTensor, type GPTModel } from "@tfgpt/layers";
import { fromPretrained } from "@tfgpt/layers/node";
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { useBackend } from "./backend.js";
import { loadCheckpoint, readCheckpointState, type CheckpointState } from "./checkpoint.js";
import { CliError, UsageError } from "./errors.js";
import type { EvaluateConfig } from "./evaluate-config.js";
import { FinetuneSettingsSchema, type FinetuneSettings } from "./finetune-config.js";
import { fileHash, gptParts, IGNORE_INDEX, instructLoss, loadData } from "./finetune.js";
import type { CommandIO } from "./io.js";
import { isPretrainedDir, pretrainedConfig, pretrainedTokenizer } from "./pretrained-dir.js";
import { readTextFile } from "./text-file.js";

export { EvaluateConfigSchema, type EvaluateConfig } from "./evaluate-config.js";

/** One label's counts on the evaluated examples. */
export interface ClassCounts {
  readonly label: string;
  /** Examples whose true label this is. */
  readonly examples: number;
  /** Of those, predicted right. */
  readonly correct: number;
  /** Examples predicted as this label. */
  readonly predicted: number;
}

/** What `tfgpt evaluate` measured (printed, or written as JSON with `--json`). */
export interface EvaluateResult {
  readonly kind: "classify" | "instruct" | "text";
  readonly checkpoint: string;
  /** The data file, and whether it was the run's validation split. */
  readonly data: string;
  readonly split: "file" | "validation";
  readonly examples: number;
  /** Mean cross-entropy (nats) per example (classify) or per target token. */
  readonly loss: number;
  readonly perplexity?: number;
  /** Target tokens the loss is a mean over (instruct, text). */
  readonly tokens?: number;
  readonly accuracy?: number;
  readonly correct?: number;
  readonly classes?: readonly ClassCounts[];
  /** `confusion[true][predicted]`, in label order. */
  readonly confusion?: readonly (readonly number[])[];
}

/** What was loaded: the kind, the run's settings (finetune) and how to build the model. */
interface Subject {
  readonly kind: EvaluateResult["kind"];
  readonly dir: string;
  readonly settings?: FinetuneSettings;
  readonly state?: CheckpointState;
  readonly tokenizer: Tokenizer;
  readonly contextLength: number;
  readonly load: () => Promise<tf.LayersModel>;
}

async function subjectOf(dir: string): Promise<Subject> {
  if (await isPretrainedDir(dir)) {
    const config = await pretrainedConfig(dir);
    const { tokenizer } = await pretrainedTokenizer(dir, config.vocabSize);
    return { kind: "text", dir, tokenizer, contextLength: config.contextLength, load: () => fromPretrained(dir) };
  }
  const { dir: resolved, state } = await readCheckpointState(dir);
  const tokenizer = getTokenizer(state.tokenizer.name, state.tokenizer.options);
  const load = async () => (await loadCheckpoint(resolved)).model;
  const finetune = FinetuneSettingsSchema.safeParse(state.train);
  if (finetune.success) return { kind: finetune.data.task === "classify" ? "classify" : "instruct", dir: resolved, settings: finetune.data, state, tokenizer, contextLength: finetune.data.context, load };
  const context = state.model["contextLength"];
  if (typeof context !== "number") throw new CliError(`checkpoint ${resolved} is corrupt: state.json has no model contextLength`);
  return { kind: "text", dir: resolved, state, tokenizer, contextLength: context, load };
}

/** The run's own data and split, refused when the file changed since the run read it. */
async function runSplit(subject: Subject): Promise<Awaited<ReturnType<typeof loadData>>> {
  const settings = subject.settings as FinetuneSettings;
  let hash: string;
  try {
    hash = await fileHash(settings.data);
  } catch (err) {
    throw new UsageError(`\`--data\` is required: the run's data file ${settings.data} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (subject.state?.data.hash !== hash) throw new UsageError(`\`--data\` is required: the run's data file ${settings.data} changed since the run read it`);
  return loadData(settings, subject.tokenizer);
}

/** The batches of `indices`, `size` at a time. */
function chunks(indices: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}

async function evaluateClassify(subject: Subject, config: EvaluateConfig): Promise<Omit<EvaluateResult, "checkpoint">> {
  const settings = subject.settings as FinetuneSettings;
  let data: LabelledTextDataset;
  let indices: number[];
  if (config.data !== undefined) {
    // Padded as in training: to the run's padLength (or, for a run that did not record it, its data's).
    const padLength = settings.padLength ?? ((await runSplit(subject)).classes as LabelledTextDataset).maxTokens;
    const rows = await readLabelledFile(config.data);
    try {
      data = new LabelledTextDataset(rows, subject.tokenizer, { maxLength: padLength, ...(settings.labels ? { labels: settings.labels } : {}) });
    } catch (err) {
      throw new CliError(`${config.data}: ${(err as Error).message}`); // "line 3: label ... is not in the label set"
    }
    indices = Array.from({ length: data.length }, (_, i) => i);
  } else {
    const split = await runSplit(subject);
    data = split.classes as LabelledTextDataset;
    indices = split.valIndices;
  }
  if (indices.length === 0) throw new UsageError("`--data` is required: the run held out no validation examples (--val-fraction 0)");
  const labels = data.labels;
  const model = await subject.load();
  const confusion = labels.map(() => labels.map(() => 0));
  let lossSum = 0;
  try {
    for (const chunk of chunks(indices, config.batchSize)) {
      const b = data.collate(chunk);
      const { loss, predicted } = tf.tidy(() => {
        const logits = model.apply(idsTensor(b.inputs, [b.batchSize, b.length]), { training: false }) as tf.Tensor;
        const l = classificationLoss(tf.tensor1d(b.labels, "int32"), logits);
        return { loss: tf.mul(l, b.batchSize), predicted: tf.argMax(logits, -1) };
      });
      lossSum += (await loss.data())[0] as number;
      const p = await predicted.data();
      tf.dispose([loss, predicted]);
      b.labels.forEach((truth, r) => {
        const row = confusion[truth] as number[];
        const guess = p[r] as number;
        row[guess] = (row[guess] ?? 0) + 1;
      });
    }
  } finally {
    model.dispose();
  }
  const classes = labels.map((label, c) => ({
    label,
    examples: (confusion[c] as number[]).reduce((a, x) => a + x, 0),
    correct: (confusion[c] as number[])[c] as number,
    predicted: confusion.reduce((a, row) => a + (row[c] as number), 0),
  }));
  const correct = classes.reduce((a, c) => a + c.correct, 0);
  return { kind: "classify", ...where(subject, config), examples: indices.length, loss: lossSum / indices.length, accuracy: correct / indices.length, correct, classes, confusion };
}

function where(subject: Subject, config: EvaluateConfig): { data: string; split: "file" | "validation" } {
  return config.data !== undefined ? { data: path.resolve(config.data), split: "file" } : { data: (subject.settings as FinetuneSettings).data, split: "validation" };
}

async function evaluateInstruct(subject: Subject, config: EvaluateConfig): Promise<Omit<EvaluateResult, "checkpoint">> {
  const settings = subject.settings as FinetuneSettings;
  let data: InstructionDataset;
  let indices: number[];
  if (config.data !== undefined) {
    data = new InstructionDataset(await readInstructionFile(config.data), subject.tokenizer, { maxLength: settings.context, maskPrompt: settings.maskPrompt, ignoreIndex: IGNORE_INDEX });
    indices = Array.from({ length: data.length }, (_, i) => i);
  } else {
    const split = await runSplit(subject);
    data = split.instructions as InstructionDataset;
    indices = split.valIndices;
  }
  if (indices.length === 0) throw new UsageError("`--data` is required: the run held out no validation examples (--val-fraction 0)");
  const model = await subject.load();
  try {
    const parts = gptParts(model);
    let lossSum = 0;
    let tokens = 0;
    for (const chunk of chunks(indices, config.batchSize)) {
      const b = data.collate(chunk);
      const kept = b.targets.reduce((n, t) => n + (t === IGNORE_INDEX ? 0 : 1), 0);
      if (kept === 0) continue;
      const loss = tf.tidy(() => instructLoss(parts, idsTensor(b.inputs, [b.batchSize, b.length]), targetsTensor(b.targets, [b.batchSize, b.length], IGNORE_INDEX), false));
      lossSum += ((await loss.data())[0] as number) * kept;
      loss.dispose();
      tokens += kept;
    }
    const loss = lossSum / Math.max(tokens, 1);
    return { kind: "instruct", ...where(subject, config), examples: indices.length, loss, perplexity: Math.exp(loss), tokens };
  } finally {
    model.dispose();
  }
}

async function evaluateText(subject: Subject, config: EvaluateConfig): Promise<Omit<EvaluateResult, "checkpoint">> {
  if (config.data === undefined) throw new UsageError(`\`--data\` is required for a language model (${subject.dir}): a text file`);
  const ids = subject.tokenizer.encode(await readTextFile(config.data));
  if (ids.length < 2) throw new CliError(`\`--data\` ${config.data} encodes to ${ids.length} token(s); at least 2 are needed`);
  const length = Math.min(subject.contextLength, ids.length - 1);
  const windows = Math.floor((ids.length - 1) / length);
  const model = await subject.load();
  try {
    if (typeof (model as Partial<GPTModel>).meanLoss !== "function") throw new CliError(`checkpoint ${subject.dir} holds a ${model.getClassName()}, not a GPT language model`);
    let lossSum = 0;
    for (let w = 0; w < windows; w += config.batchSize) {
      const rows = Math.min(config.batchSize, windows - w);
      const xs = new Int32Array(rows * length);
      const ys = new Int32Array(rows * length);
      for (let r = 0; r < rows; r++) {
        const start = (w + r) * length;
        for (let t = 0; t < length; t++) {
          xs[r * length + t] = ids[start + t] as number;
          ys[r * length + t] = ids[start + t + 1] as number;
        }
      }
      const loss = tf.tidy(() => (model as GPTModel).meanLoss(idsTensor(xs, [rows, length]), idsTensor(ys, [rows, length])));
      lossSum += ((await loss.data())[0] as number) * rows * length;
      loss.dispose();
    }
    const tokens = windows * length;
    const loss = lossSum / tokens;
    return { kind: "text", data: path.resolve(config.data), split: "file", examples: windows, loss, perplexity: Math.exp(loss), tokens };
  } finally {
    model.dispose();
  }
}

/** The human-readable report of a result. */
export function formatEvaluation(r: EvaluateResult): string {
  const on = r.split === "validation" ? `the validation split of ${r.data}` : r.data;
  if (r.kind === "classify") {
    const width = Math.max(5, ...(r.classes ?? []).map((c) => c.label.length));
    const rows = (r.classes ?? []).map((c) => `${c.label.padEnd(width)}  ${String(c.examples).padStart(8)}  ${String(c.correct).padStart(7)}  ${String(c.predicted).padStart(9)}`);
    return (
      `classify ${r.checkpoint} on ${on}: ${r.examples} examples\n` +
      `accuracy ${((r.accuracy ?? 0) * 100).toFixed(1)}% (${r.correct} of ${r.examples}), loss ${r.loss.toFixed(4)}\n` +
      `${"label".padEnd(width)}  examples  correct  predicted\n${rows.join("\n")}\n`
    );
  }
  const what = r.kind === "instruct" ? `${r.examples} examples` : `${r.examples} windows`;
  return `${r.kind} ${r.checkpoint} on ${on}: ${what}, ${r.tokens} target tokens\nloss ${r.loss.toFixed(4)}, perplexity ${(r.perplexity ?? Number.NaN).toFixed(2)}\n`;
}

/** Runs `tfgpt evaluate` (see the module comment). */
export async function runEvaluate(config: EvaluateConfig, io: CommandIO): Promise<EvaluateResult> {
  const subject = await subjectOf(config.checkpoint);
  if (subject.kind !== "text" && config.data === undefined && (subject.settings as FinetuneSettings).valFraction === 0) {
    throw new UsageError("`--data` is required: the run held out no validation examples (--val-fraction 0)");
  }
  if (subject.kind === "text" && config.data === undefined) throw new UsageError(`\`--data\` is required for a language model (${subject.dir}): a text file`);
  // The data is read (and refused) first; the backend starts when the model is loaded.
  const ready: Subject = {
    ...subject,
    load: async () => {
      io.stderr.write(`${await useBackend(config.backend)}\n`);
      return subject.load();
    },
  };
  const measured = ready.kind === "classify" ? await evaluateClassify(ready, config) : ready.kind === "instruct" ? await evaluateInstruct(ready, config) : await evaluateText(ready, config);
  const result: EvaluateResult = { ...measured, checkpoint: subject.dir };
  io.stdout.write(config.json ? `${JSON.stringify(result)}\n` : formatEvaluation(result));
  return result;
}
