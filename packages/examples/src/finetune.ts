/**
 * `tfgpt finetune`: the book's fine-tuning chapters on a pretrained GPT. `--task classify`
 * (chapter 6): labelled texts, the output head replaced by a class head read at the last token,
 * all but the last block(s) + ln_f + head frozen, accuracy before and after. `--task instruct`
 * (chapter 7): Alpaca-style prompts, the book's collate (padding, -100 targets), the masked
 * cross-entropy through the fused head, validation loss and sample responses.
 *
 * The steps are `@tfgpt/layers`' `Trainer` (as `tfgpt train`'s) with the task's loss: the
 * classifier's cross-entropy, or the masked (ignore-index -100) cross-entropy through the fused
 * head; AdamW at a constant rate (the book's `torch.optim.AdamW(lr, weight_decay=0.1)`), no
 * clipping, dropout masks seeded by `--seed` (`dropoutSeed`), so a resumed run equals an
 * uninterrupted one bit for bit. Checkpoints are the Trainer's layout (`checkpointDirectory`:
 * state.json version 2, AdamW's moments restored by weight path); run directories use `train`'s
 * lock and signal code. A classify checkpoint holds the classifier, an instruct one the GPT
 * itself (`tfgpt sample --checkpoint DIR` runs it).
 */
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { exists } from "@tfgpt/common/node";
import * as tf from "@tensorflow/tfjs";
import {
  ExampleLoader,
  ExampleLoaderStateSchema,
  InstructionDataset,
  paddingOf,
  LabelledTextDataset,
  formatInput,
  permutation,
  type InstructionEntry,
  type LabelledRow,
} from "@tfgpt/datasets";
import { readInstructionFile, readLabelledFile } from "@tfgpt/datasets/node";
import {
  classificationAccuracy,
  classificationLoss,
  createClassifier,
  applyLoRA,
  freezeBase,
  idsTensor,
  targetsTensor,
  TokenEmbedding,
  Trainer,
  type GPTConfig,
  type TrainBatch,
  type TrainerLoss,
  type TrainerOptions,
} from "@tfgpt/layers";
import { headCrossEntropy, paramSplit } from "@tfgpt/layers/internal";
import { checkpointDirectory } from "@tfgpt/layers/node";
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { useBackend } from "./backend.js";
import { LATEST_FILE, loadCheckpoint, loaderStateOf, readCheckpointState, readOptimizerWeights, type CheckpointState } from "./checkpoint.js";
import { describeLoRA, loraSettingsOf } from "./lora-flags.js";
import { CliError, UsageError } from "./errors.js";
import { generateText } from "./generate.js";
import type { CommandIO } from "./io.js";
import { initModel, initTokenizer, resolveInitFrom } from "./init-from.js";
import { RunMetrics } from "./metrics.js";
import { Progress } from "./progress.js";
import { acquireRunLock, cleanRunLeftovers, clearRunDir, isEmptyRunDir } from "./run-dir.js";
import { FinetuneSettingsSchema, type FinetuneConfig, type FinetuneSettings } from "./finetune-config.js";

export { FinetuneConfigSchema, type FinetuneConfig } from "./finetune-config.js";

/** The book's defaults: chapter 6 trains 5 epochs, chapter 7 two, both at 5e-5 with batches of 8. */
const DEFAULT_EPOCHS = { classify: 5, instruct: 2 } as const;
export const IGNORE_INDEX = -100;
/** At most this many batches per accuracy / validation pass (the book's `eval_iter`-style cap). */
const EVAL_BATCHES = 20;

/** The data of a run, split into train and validation examples (seeded). */
export interface TaskData {
  readonly train: { length: number; collate(indices: readonly number[]): { inputs: Int32Array; batchSize: number; length: number } };
  readonly trainIndices: number[];
  readonly valIndices: number[];
  readonly labels?: readonly string[];
  readonly classes?: LabelledTextDataset;
  readonly instructions?: InstructionDataset;
  readonly entries?: readonly InstructionEntry[];
}

/** Splits `n` examples into train and validation index lists with a seeded permutation. */
function split(n: number, valFraction: number, seed: number): { trainIndices: number[]; valIndices: number[] } {
  const order = Array.from(permutation(n, seed, 0));
  const val = valFraction > 0 ? Math.max(1, Math.round(n * valFraction)) : 0;
  if (n - val < 1) throw new CliError(`\`--data\`: ${n} example(s) leave none for training with --val-fraction ${valFraction}`);
  return { trainIndices: order.slice(val), valIndices: order.slice(0, val) };
}

/** The data of a run as `finetune` reads it: the dataset and its seeded train / validation split. */
export async function loadData(settings: FinetuneSettings, tokenizer: Tokenizer): Promise<TaskData> {
  if (settings.task === "classify") {
    const rows: LabelledRow[] = await readLabelledFile(settings.data);
    const options = { balance: settings.balance, ...(settings.labels ? { labels: settings.labels } : {}) };
    let data = new LabelledTextDataset(rows, tokenizer, options);
    // The book pads every text to the longest one; past the context, texts are cut to it.
    if (data.maxTokens > settings.context) data = new LabelledTextDataset(rows, tokenizer, { ...options, maxLength: settings.context });
    return { train: data, ...split(data.length, settings.valFraction, settings.seed), labels: data.labels, classes: data };
  }
  const entries = await readInstructionFile(settings.data);
  const data = new InstructionDataset(entries, tokenizer, { maxLength: settings.context, maskPrompt: settings.maskPrompt, ignoreIndex: IGNORE_INDEX });
  return { train: data, ...split(data.length, settings.valFraction, settings.seed), instructions: data, entries };
}

/** The GPT's hidden states (ln_f's output) and its output head's table. */
export function gptParts(gpt: tf.LayersModel): { trunk: tf.LayersModel; head: TokenEmbedding } {
  const output = gpt.outputs[0] as tf.SymbolicTensor;
  const head = output.sourceLayer;
  if (!(head instanceof TokenEmbedding)) throw new CliError("the model's output layer is not a GPT head (a TokenEmbedding)");
  const trunk = tf.model({ inputs: gpt.inputs, outputs: gpt.getLayer("ln_f").output as tf.SymbolicTensor, name: "finetune_trunk" });
  return { trunk, head };
}

/** The instruct loss of one batch: the masked mean cross-entropy through the fused head. */
export function instructLoss(parts: { trunk: tf.LayersModel; head: TokenEmbedding }, xs: tf.Tensor, ys: tf.Tensor, training: boolean): tf.Scalar {
  const hidden = parts.trunk.apply(xs, { training }) as tf.Tensor; // [B, T, C]
  const dim = hidden.shape[hidden.rank - 1] as number;
  return headCrossEntropy(tf.reshape(hidden, [-1, dim]) as tf.Tensor2D, parts.head.table.read() as tf.Tensor2D, ys, "auto", IGNORE_INDEX);
}

/** With --batch-by-length: the pad positions of one epoch, bucketed and in random batches (as the book's loader). */
function paddingLine(loader: ExampleLoader, lengths: readonly number[] | undefined): string {
  if (lengths === undefined) return "";
  const epoch = (l: ExampleLoader): number[][] => Array.from({ length: l.numBatches }, () => l.nextIndices());
  const options = { batchSize: loader.batchSize, seed: loader.seed, dropLast: loader.dropLast };
  const bucketed = paddingOf(epoch(new ExampleLoader(loader.examples, { ...options, lengths: [...lengths] })), lengths);
  const random = paddingOf(epoch(new ExampleLoader(loader.examples, options)), lengths);
  return `batches by length: ${bucketed.toLocaleString("en-US")} pad positions in the first epoch (random batches: ${random.toLocaleString("en-US")})\n`;
}

/** The book's optimizer: AdamW at a constant rate, weight decay 0.1, no clipping; dropout seeded by the run's seed. */
function trainerOptionsOf(settings: FinetuneSettings): TrainerOptions {
  return { learningRate: settings.lr, schedule: "constant", weightDecay: 0.1, beta2: 0.999, gradClip: 0, dropoutSeed: settings.seed };
}

/** The sha256 (first 16 hex digits) of the data file's bytes: a resume on a changed file is refused. */
export async function fileHash(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex").slice(0, 16);
}

/**
 * Runs `tfgpt finetune`. Returns the run directory, the final step and, for classify, the
 * accuracies before and after (train and validation), for instruct the validation losses.
 */
export async function runFinetune(
  config: FinetuneConfig,
  io: CommandIO,
): Promise<{ runDir: string; step: number; checkpoint: string; before: Record<string, number>; after: Record<string, number> }> {
  // 1. Settings: from the flags, or from the checkpoint on --resume.
  let resumeFrom: { dir: string; state: CheckpointState } | undefined;
  let settings: FinetuneSettings;
  let startStep = 0;
  if (config.resume !== undefined) {
    resumeFrom = await readCheckpointState(config.resume);
    const saved = FinetuneSettingsSchema.safeParse(resumeFrom.state.train);
    if (!saved.success) throw new CliError(`\`--resume\` ${config.resume} is not a tfgpt finetune checkpoint (its state.json has no fine-tuning settings)`);
    settings = { ...saved.data, ...(config.steps !== undefined ? { steps: config.steps } : {}) };
    startStep = resumeFrom.state.step;
    for (const key of ["batchSize", "context", "lr", "valFraction", "seed"] as const) {
      if (config[key] !== undefined && config[key] !== settings[key]) {
        throw new UsageError(`\`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}\` ${String(config[key])} differs from the checkpoint's ${String(settings[key])}; leave it out on --resume`);
      }
    }
    if (settings.steps <= startStep) throw new UsageError(`\`--steps\` ${settings.steps} must be above the checkpoint's step ${startStep}`);
  } else {
    const task = config.task as FinetuneSettings["task"];
    const init = await resolveInitFrom(config.initFrom as string);
    settings = {
      task,
      data: path.resolve(config.data as string),
      initFrom: init.dir,
      steps: config.steps ?? 1, // resolved below from --epochs once the data is read
      batchSize: config.batchSize ?? 8,
      context: Math.min(config.context ?? init.config.contextLength, init.config.contextLength),
      lr: config.lr ?? 5e-5,
      valFraction: config.valFraction ?? 0.1,
      seed: config.seed ?? 123,
      balance: config.balance ?? false,
      trainableBlocks: config.trainableBlocks ?? 1,
      maskPrompt: config.maskPrompt ?? false,
      ...(config.batchByLength ? { batchByLength: true } : {}),
      ...(config.loraRank !== undefined ? { lora: loraSettingsOf(config) } : {}),
    };
  }
  const init = await resolveInitFrom(settings.initFrom);
  const tokenizer = resumeFrom ? getTokenizer(resumeFrom.state.tokenizer.name, resumeFrom.state.tokenizer.options) : await initTokenizer(init);
  if (tokenizer.vocabSize > init.config.vocabSize) {
    throw new CliError(`\`--init-from\` ${init.dir}: the tokenizer has ${tokenizer.vocabSize} ids, more than the model's vocabulary of ${init.config.vocabSize}`);
  }
  const data = await loadData(settings, tokenizer);
  const hash = await fileHash(settings.data);
  if (resumeFrom && resumeFrom.state.data.hash !== hash) throw new CliError(`\`--resume\`: ${settings.data} changed since the checkpoint was written`);
  if (data.labels) settings = { ...settings, labels: [...data.labels] };
  // Classify: every text is padded to this length (the classifier reads the last position), as `evaluate` must too.
  if (data.classes && !resumeFrom) settings = { ...settings, padLength: data.classes.maxTokens };
  // --batch-by-length: the training examples' lengths, so batches group similar lengths (less padding).
  const lengths = settings.batchByLength && data.instructions ? data.trainIndices.map((i) => (data.instructions as InstructionDataset).idsOf(i).length) : undefined;
  const loader = new ExampleLoader(data.trainIndices.length, {
    batchSize: Math.min(settings.batchSize, data.trainIndices.length),
    seed: settings.seed,
    dropLast: true,
    ...(lengths ? { lengths } : {}),
  });
  if (!resumeFrom && config.steps === undefined) settings = { ...settings, steps: (config.epochs ?? DEFAULT_EPOCHS[settings.task]) * loader.numBatches };

  // 2. The run directory: locked, one writer.
  const runDir = path.resolve(config.resume !== undefined ? path.dirname(resumeFrom?.dir ?? config.resume) : (config.out ?? `runs/finetune-${settings.task}-${Date.now()}`));
  const created = !(await exists(runDir));
  if (!resumeFrom && !config.overwrite && (await exists(path.join(runDir, LATEST_FILE)))) {
    throw new UsageError(`\`--out\` ${runDir} already holds a run: continue it with --resume, or pass --overwrite or another --out`);
  }
  const lock = await acquireRunLock(runDir, resumeFrom ? "--resume" : "--out");
  try {
    await cleanRunLeftovers(runDir);
    if (config.overwrite && !(await isEmptyRunDir(runDir))) await clearRunDir(runDir, LATEST_FILE);
    return await finetuneInRunDir(config, io, { settings, resumeFrom, startStep, init, tokenizer, data, loader, lengths, hash, runDir });
  } catch (err) {
    if (created && !(await exists(path.join(runDir, LATEST_FILE)))) await rm(runDir, { recursive: true, force: true });
    throw err;
  } finally {
    lock.release();
  }
}

async function finetuneInRunDir(
  config: FinetuneConfig,
  io: CommandIO,
  run: {
    settings: FinetuneSettings;
    resumeFrom: { dir: string; state: CheckpointState } | undefined;
    startStep: number;
    init: Awaited<ReturnType<typeof resolveInitFrom>>;
    tokenizer: Tokenizer;
    data: TaskData;
    loader: ExampleLoader;
    lengths: readonly number[] | undefined;
    hash: string;
    runDir: string;
  },
): Promise<{ runDir: string; step: number; checkpoint: string; before: Record<string, number>; after: Record<string, number> }> {
  const { settings, resumeFrom, init, tokenizer, data, loader, lengths, hash, runDir } = run;
  const backendLine = await useBackend(config.backend);
  // The model: the GPT from --init-from, wrapped by the classifier for classify; or the checkpoint's.
  let model: tf.LayersModel;
  let gptConfig: GPTConfig;
  if (resumeFrom) {
    if (resumeFrom.state.version !== 2) throw new CliError(`\`--resume\` ${resumeFrom.dir}: a checkpoint of an older tfgpt finetune (state version 1) cannot be resumed; start the run again`);
    const loaded = await loadCheckpoint(resumeFrom.dir);
    model = loaded.model;
    gptConfig = init.config;
    const position = ExampleLoaderStateSchema.safeParse(loaderStateOf(loaded.state));
    if (!position.success) throw new CliError(`checkpoint ${resumeFrom.dir} is corrupt: state.json has no valid loader position`);
    loader.restore(position.data);
  } else {
    const loaded = await initModel(init);
    gptConfig = loaded.config;
    model =
      settings.task === "classify"
        ? createClassifier(loaded.model, { numClasses: (data.labels ?? []).length, trainableBlocks: settings.trainableBlocks, seed: settings.seed })
        : loaded.model;
  }
  // LoRA: rank-r adapters on the blocks' kernels train, every other weight is frozen (a
  // classifier's new head excepted: it starts random). A resumed model has its adapters already.
  let loraLine = "";
  if (settings.lora !== undefined) {
    if (!resumeFrom) applyLoRA(model, { ...settings.lora, seed: settings.seed });
    freezeBase(model);
    if (settings.task === "classify") for (const w of model.getLayer("cls_head").weights) w.trainable = true;
    const { trainable } = paramSplit(model);
    loraLine = `${describeLoRA(settings.lora, { trainable, total: model.countParams() })}\n`;
  }
  const parts = settings.task === "instruct" ? gptParts(model) : undefined;
  // The task's loss, in the Trainer's steps and in the evaluations alike.
  const loss: TrainerLoss = parts
    ? (_m, b, training) => instructLoss(parts, b.inputs, b.targets, training)
    : (m, b, training) => classificationLoss(b.targets, m.apply(b.inputs, { training }) as tf.Tensor);
  const trainer = new Trainer(model, resumeFrom ? (resumeFrom.state.trainer as TrainerOptions) : trainerOptionsOf(settings), loss);
  if (resumeFrom) {
    const saved = await readOptimizerWeights(resumeFrom.dir);
    try {
      await trainer.restoreOptimizer(run.startStep, saved);
    } finally {
      tf.dispose(saved.map((w) => w.tensor));
    }
  }
  const trainable = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  io.stderr.write(
    `${backendLine}\nmodel: ${init.dir} (${model.countParams().toLocaleString("en-US")} parameters, ${trainable.toLocaleString("en-US")} trained), context ${settings.context}; ` +
      `task ${settings.task}: ${data.trainIndices.length} train / ${data.valIndices.length} validation examples, ${loader.numBatches} batches of ${loader.batchSize} per epoch\n` +
      `${resumeFrom ? `resuming ${resumeFrom.dir} at step ${run.startStep}` : "fine-tuning"} to step ${settings.steps}; run directory ${runDir}\n` +
      loraLine +
      paddingLine(loader, lengths),
  );

  const batchTensors = (indices: readonly number[]): TrainBatch => {
    if (data.classes) {
      const b = data.classes.collate(indices);
      return { inputs: idsTensor(b.inputs, [b.batchSize, b.length]), targets: tf.tensor1d(b.labels, "int32") };
    }
    const b = (data.instructions as InstructionDataset).collate(indices);
    return { inputs: idsTensor(b.inputs, [b.batchSize, b.length]), targets: targetsTensor(b.targets, [b.batchSize, b.length], IGNORE_INDEX) };
  };

  /** Mean accuracy (classify) and loss over at most EVAL_BATCHES batches of `indices`, in order. */
  const evaluate = (indices: readonly number[]): { loss: number; accuracy?: number } => {
    let total = 0;
    let correct = 0;
    let count = 0;
    let batches = 0;
    for (let start = 0; start < indices.length && batches < EVAL_BATCHES; start += loader.batchSize, batches++) {
      const chunk = indices.slice(start, start + loader.batchSize);
      const batch = batchTensors(chunk);
      tf.tidy(() => {
        if (parts) {
          total += trainer.loss(model, batch, false).dataSync()[0] as number;
        } else {
          const logits = model.apply(batch.inputs, { training: false }) as tf.Tensor;
          total += classificationLoss(batch.targets, logits).dataSync()[0] as number;
          correct += (classificationAccuracy(batch.targets, logits).dataSync()[0] as number) * chunk.length;
        }
      });
      count += chunk.length;
      tf.dispose([batch.inputs, batch.targets]);
    }
    return parts ? { loss: total / Math.max(batches, 1) } : { loss: total / Math.max(batches, 1), accuracy: correct / Math.max(count, 1) };
  };
  const report = (): Record<string, number> => {
    const train = evaluate(data.trainIndices);
    const val = data.valIndices.length > 0 ? evaluate(data.valIndices) : undefined;
    return {
      train_loss: train.loss,
      ...(train.accuracy !== undefined ? { train_accuracy: train.accuracy } : {}),
      ...(val ? { val_loss: val.loss } : {}),
      ...(val?.accuracy !== undefined ? { val_accuracy: val.accuracy } : {}),
    };
  };
  const describe = (r: Record<string, number>): string =>
    Object.entries(r)
      .map(([k, v]) => `${k.replace("_", " ")} ${k.endsWith("accuracy") ? `${(v * 100).toFixed(1)}%` : v.toFixed(4)}`)
      .join(", ");

  let step = run.startStep;
  const metrics = resumeFrom ? await RunMetrics.load(runDir, step) : new RunMetrics();
  const store = checkpointDirectory(runDir);
  const checkpoint = async (): Promise<string> => {
    const extra = {
      train: settings,
      model: gptConfig,
      tokenizer: { name: tokenizer.spec.name, ...(tokenizer.spec.options ? { options: tokenizer.spec.options } : {}) },
      data: { tokens: data.train.length, hash },
    };
    await trainer.save(store, loader.state(), extra);
    await metrics.flush(runDir);
    return store.lastSaved as string;
  };

  try {
    const before = report();
    io.stderr.write(`${run.startStep === 0 ? "before" : `at step ${run.startStep}`}: ${describe(before)}\n`);
    const evalEvery = config.evalEvery ?? Math.max(1, Math.round(settings.steps / 5));
    const progress = new Progress({ totalSteps: settings.steps, startStep: step, tokensPerStep: loader.batchSize * settings.context, stream: io.stderr });
    const started = performance.now();
    while (step < settings.steps && !io.signal?.aborted) {
      const indices = loader.nextIndices().map((i) => data.trainIndices[i] as number);
      const batch = batchTensors(indices);
      // One Trainer step (its dropout masks seeded by --seed and the step: resume is bit-exact).
      const lossValue = trainer.trainStep([batch]);
      tf.dispose([batch.inputs, batch.targets]);
      step = trainer.step;
      const value = (await lossValue.data())[0] as number;
      lossValue.dispose();
      metrics.add({ step, loss: value, time: Number(((performance.now() - started) / 1000).toFixed(3)) });
      progress.step(step, value);
      if (step % evalEvery === 0 && step < settings.steps) {
        const r = report();
        if (r.val_loss !== undefined) metrics.add({ step, val_loss: r.val_loss });
        progress.log(`step ${step}: ${describe(r)}`);
      }
      if (config.checkpointEvery !== undefined && step % config.checkpointEvery === 0 && step < settings.steps) progress.log(`checkpoint ${await checkpoint()}`);
    }
    progress.done();
    const dir = await checkpoint();
    if (io.signal?.aborted) {
      const by = typeof io.signal.reason === "string" ? `${io.signal.reason}: ` : "";
      io.stderr.write(`interrupted at step ${step}; checkpoint ${dir} (${by}continue with: tfgpt finetune --resume ${runDir})\n`);
      return { runDir, step, checkpoint: dir, before, after: {} };
    }
    const after = report();
    io.stderr.write(`after step ${step}: ${describe(after)}\ncheckpoint ${dir}\n`);
    io.stdout.write(`${settings.task === "classify" ? "accuracy" : "loss"} before: ${describe(before)}\n${settings.task === "classify" ? "accuracy" : "loss"} after:  ${describe(after)}\n`);
    if (parts && data.entries && config.samples > 0) {
      const eos = tokenizer.specialTokens.get("<|endoftext|>");
      for (const i of data.valIndices.slice(0, config.samples).concat(data.valIndices.length === 0 ? data.trainIndices.slice(0, config.samples) : [])) {
        const entry = data.entries[i] as InstructionEntry;
        const prompt = `${formatInput(entry)}\n\n### Response:\n`;
        const response = generateText(model, tokenizer, prompt, { maxNewTokens: config.maxNewTokens, temperature: 0, contextLength: settings.context, ...(eos !== undefined ? { stop: eos } : {}) });
        io.stdout.write(`\n${formatInput(entry)}\n\n### Response:\n${response.replace("<|endoftext|>", "").trim()}\n### Expected:\n${entry.output}\n`);
      }
    }
    return { runDir, step, checkpoint: dir, before, after };
  } finally {
    model.dispose();
    trainer.dispose();
  }
}
