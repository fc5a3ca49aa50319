/**
 * `tfgpt train`: the packages end to end. Text -> tokenizer -> `GPTDataset` (train split and a
 * held-out tail for validation) -> `DataLoader` -> `createGPT` (seeded) -> `@tfgpt/layers`'
 * `Trainer` (fused head + loss, clipping, accumulation, AdamW with warmup + cosine), one
 * `trainStep` a step; between steps the progress bar, the validation passes, `metrics.jsonl` +
 * `loss.svg` and the checkpoints (`checkpointDirectory`). `--resume` rebuilds model, optimizer,
 * step and loader position from a checkpoint, so the resumed run takes the same steps on the
 * same batches as an uninterrupted one, bit for bit.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { exists } from "@tfgpt/common/node";
import * as tf from "@tensorflow/tfjs";
import { DataLoader, DataLoaderStateSchema, GPTDataset, type Batch, type TokenSource } from "@tfgpt/datasets";
import {
  applyLoRA,
  countParams,
  createGPT,
  freezeBase,
  GPT_PRESETS,
  GPTModel,
  loraParamCounts,
  idsTensor,
  parseGPTConfig,
  sparseCrossEntropyFromLogits,
  Trainer,
  type GPTConfigInput,
  type ParamSplit,
  type TrainBatch,
  type TrainerOptions,
} from "@tfgpt/layers";
import { paramSplit, trainingStateBytes, WASM_TRAINING_STATE_LIMIT } from "@tfgpt/layers/internal";
import { checkpointDirectory, saveAdapters } from "@tfgpt/layers/node";
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { useBackend } from "./backend.js";
import {
  CheckpointStateSchema,
  LATEST_FILE,
  loadCheckpoint,
  loaderStateOf,
  readCheckpointState,
  readOptimizerWeights,
  writeFileAtomic,
  type CheckpointState,
} from "./checkpoint.js";
import { CliError, UsageError } from "./errors.js";
import { generateText } from "./generate.js";
import type { CommandIO } from "./io.js";
import { checkStepMemory } from "./memory-check.js";
import { LIMITS } from "./options.js";
import { RunMetrics } from "./metrics.js";
import { acquireRunLock, cleanRunLeftovers, clearRunDir, isEmptyRunDir, seedRunFrom } from "./run-dir.js";
import { Progress } from "./progress.js";
import {
  DEFAULT_STEPS,
  FIXED_ON_RESUME,
  FLAG_NAMES,
  RunSettingsSchema,
  SAMPLE_PROMPT,
  TRAIN_DEFAULTS,
  type RunSettings,
  type TrainConfig,
} from "./train-config.js";
import { isShardInput, loadShardSplits } from "./shard-input.js";
import { DEFAULT_TEXT_PATH, readTextFile } from "./text-file.js";
import { loadTokenizerFile } from "./tokenizer-flag.js";
import { StepWatchdog } from "./watchdog.js";
import { initModel, initTokenizer, resolveInitFrom, type InitFrom } from "./init-from.js";
import { describeLoRA, loraSettingsOf, type LoRASettings } from "./lora-flags.js";

export { TrainConfigSchema, type TrainConfig } from "./train-config.js";

function presetNames(): string[] {
  return Object.keys(GPT_PRESETS);
}

function presetOf(name: string): GPTConfigInput {
  const preset = (GPT_PRESETS as Record<string, GPTConfigInput>)[name];
  if (!preset) throw new UsageError(`\`--preset\` must be one of ${presetNames().join(", ")}, received ${JSON.stringify(name)}`);
  return preset;
}

/** FNV-1a over the ids: a resume on a changed text (or tokenizer) is refused, not silently wrong. */
function fingerprint(ids: Int32Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    h ^= ids[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** What a run needs before its first step; built identically for a new and a resumed run. */
interface Prepared {
  readonly settings: RunSettings;
  readonly tokenizer: Tokenizer;
  readonly train: GPTDataset<TokenSource>;
  readonly val: GPTDataset<TokenSource> | undefined;
  readonly loader: DataLoader<TokenSource>;
  readonly dataHash: string;
}

/** Reads and splits the text, builds the datasets and the loader; fails with the flags' names. */
async function prepareData(settings: RunSettings): Promise<Prepared> {
  // A --tokenizer file is reloaded here (also on --resume); checkpoints store its model inline.
  const tokenizer =
    settings.initFrom !== undefined
      ? await initTokenizer(await resolveInitFrom(settings.initFrom))
      : settings.tokenizer !== undefined
        ? loadTokenizerFile(settings.tokenizer)
        : getTokenizer(settings.encoding);
  if (await isShardInput(settings.text)) {
    // Token shards (tfgpt prepare): train shards, validated by the directory's val shards if any.
    const shards = await loadShardSplits(settings.text, tokenizer.vocabSize);
    const train = new GPTDataset(shards.train, { maxLength: settings.context, stride: settings.stride });
    const val =
      shards.val && settings.valFraction > 0 ? new GPTDataset(shards.val, { maxLength: settings.context, stride: settings.context }) : undefined;
    return withLoader(settings, tokenizer, train, val, shards.hash);
  }
  const text = await readTextFile(settings.text);
  const allowedSpecial = tokenizer.specialTokens.has("<|endoftext|>") ? ["<|endoftext|>"] : [];
  const ids = Int32Array.from(tokenizer.encode(text, { allowedSpecial }));
  const valCount = Math.floor(ids.length * settings.valFraction);
  const trainIds = ids.subarray(0, ids.length - valCount);
  const valIds = ids.subarray(ids.length - valCount);
  const need = settings.context + 1;
  if (trainIds.length < need) {
    const held = valCount > 0 ? ` (${trainIds.length} after holding out --val-fraction ${settings.valFraction})` : "";
    throw new CliError(
      `${settings.text} has ${ids.length} tokens${held}, shorter than one window: --context ${settings.context} needs at least ${need}`,
    );
  }
  if (valCount > 0 && valIds.length < need) {
    throw new CliError(
      `the validation split (--val-fraction ${settings.valFraction}) has ${valIds.length} tokens, --context ${settings.context} needs at least ${need}: raise --val-fraction, lower --context, or use --val-fraction 0`,
    );
  }
  const train = new GPTDataset(trainIds, { maxLength: settings.context, stride: settings.stride });
  const val = valCount > 0 ? new GPTDataset(valIds, { maxLength: settings.context, stride: settings.context }) : undefined;
  return withLoader(settings, tokenizer, train, val, fingerprint(trainIds));
}

function withLoader(
  settings: RunSettings,
  tokenizer: Tokenizer,
  train: GPTDataset<TokenSource>,
  val: GPTDataset<TokenSource> | undefined,
  dataHash: string,
): Prepared {
  if (train.length < settings.batchSize) {
    throw new CliError(
      `${settings.text} gives ${train.length} training windows (--context ${settings.context}, --stride ${settings.stride}), fewer than --batch-size ${settings.batchSize}`,
    );
  }
  // --rank/--world-size: every rank draws the same seeded order and reads positions rank, rank + W, ...
  const loader = new DataLoader(train, { batchSize: settings.batchSize, shuffle: true, seed: settings.seed, dropLast: true, rank: settings.rank ?? 0, worldSize: settings.worldSize ?? 1 });
  return { settings, tokenizer, train, val, loader, dataHash };
}

/** Validation passes look at most this many windows, so that evaluating stays cheap on long texts. */
export const MAX_EVAL_WINDOWS = 256;

/**
 * Mean cross-entropy (nats per token) of `model` over the first `maxWindows` (default
 * {@link MAX_EVAL_WINDOWS}) windows of `dataset`. A `GPTModel` computes it with `meanLoss` (the fused head: no logits), in batches
 * of up to 64 windows; any other model through its `[B, T, V]` logits, in batches that keep them
 * under 2^24 floats (64 MiB).
 *
 * @param vocabSize the model's vocabulary (logits per position).
 */
export async function evaluateLoss(
  model: tf.LayersModel,
  dataset: GPTDataset<TokenSource>,
  vocabSize: number,
  maxWindows: number = MAX_EVAL_WINDOWS,
): Promise<number> {
  const fused = model instanceof GPTModel;
  const perWindow = dataset.maxLength * vocabSize;
  const batchSize = fused ? Math.min(maxWindows, 64) : Math.max(1, Math.min(maxWindows, Math.floor(2 ** 24 / perWindow)));
  const loader = new DataLoader(dataset, { batchSize, shuffle: false, dropLast: false });
  let total = 0;
  let count = 0;
  for (const batch of loader) {
    const sum = tf.tidy(() => {
      const shape: [number, number] = [batch.batchSize, batch.maxLength];
      const ids = tf.tensor2d(batch.inputs, shape, "int32");
      const targets = tf.tensor2d(batch.targets, shape, "int32");
      if (fused) return tf.mul(model.meanLoss(ids, targets), batch.inputs.length);
      const logits = model.predict(ids) as tf.Tensor; // [B, T, V]
      return tf.sum(sparseCrossEntropyFromLogits(targets, logits));
    });
    total += (await sum.data())[0] as number;
    sum.dispose();
    count += batch.inputs.length;
    if (count >= maxWindows * batch.maxLength) break;
  }
  return total / count;
}

/**
 * Refuses, with one clear line, a model too large to train on the wasm backend. `params` is a
 * count of trainable parameters, or trainable and frozen ones (LoRA: frozen weights need no
 * gradient or moments).
 */
function checkWasmMemory(preset: string, params: number | ParamSplit, lora: LoRASettings | undefined): void {
  // Adam's moments included (16 bytes a trainable parameter); GPTModel checks the same when training starts.
  const bytes = trainingStateBytes(params);
  if (tf.getBackend() !== "wasm" || bytes <= WASM_TRAINING_STATE_LIMIT) return;
  const gb = (bytes / 2 ** 30).toFixed(1);
  const split = typeof params === "number" ? { trainable: params, frozen: 0 } : params;
  const count =
    split.frozen === 0
      ? `${split.trainable.toLocaleString("en-US")} parameters`
      : `${(split.trainable + split.frozen).toLocaleString("en-US")} parameters (${split.trainable.toLocaleString("en-US")} trainable with LoRA rank ${lora?.rank})`;
  throw new UsageError(
    `model ${preset} has ${count}: training it needs ${gb} GiB of weights, gradients and Adam moments, ` +
      `more than the wasm backend holds (1 GiB of training state); use --backend tensorflow (npm install @tensorflow/tfjs-node), ` +
      `${lora === undefined ? "LoRA (--lora-rank 8), " : "a lower --lora-rank, "}or a smaller model`,
  );
}

/** The state the wasm check counts for a model of `config`: all of it trainable, or LoRA's split. */
function stateParams(config: GPTConfigInput, lora: LoRASettings | undefined): number | ParamSplit {
  if (lora === undefined) return countParams(config);
  const counts = loraParamCounts(config, lora);
  return { trainable: counts.trainable, frozen: counts.frozen };
}

/** Resolves the settings of a new run from the flags and the defaults. */
function newRunSettings(config: TrainConfig, stepsPerEpoch?: number, init?: InitFrom): RunSettings {
  const preset = init !== undefined ? "init-from" : (config.preset ?? "tiny");
  const presetContext = init !== undefined ? init.config.contextLength : presetOf(preset).contextLength;
  const context = config.context ?? Math.min(presetContext, 64);
  const steps = config.steps ?? (config.epochs !== undefined && stepsPerEpoch !== undefined ? config.epochs * stepsPerEpoch : DEFAULT_STEPS);
  const shape = {
    ...config.model,
    ...(config.layers !== undefined ? { numLayers: config.layers } : {}),
    ...(config.heads !== undefined ? { numHeads: config.heads } : {}),
    ...(config.width !== undefined ? { embeddingDim: config.width } : {}),
    ...(config.dropout !== undefined ? { dropout: config.dropout } : {}),
  };
  return {
    text: path.resolve(config.text ?? DEFAULT_TEXT_PATH),
    encoding: config.tokenizer !== undefined ? "bpe" : (config.encoding ?? "gpt2"),
    ...(config.tokenizer !== undefined ? { tokenizer: path.resolve(config.tokenizer) } : {}),
    preset,
    context,
    batchSize: config.batchSize ?? 8,
    stride: config.stride ?? context,
    steps,
    lr: config.lr ?? TRAIN_DEFAULTS.lr,
    valFraction: config.valFraction ?? 0.1,
    seed: config.seed ?? 0,
    ...(Object.keys(shape).length > 0 ? { model: shape } : {}),
    lrSchedule: config.lrSchedule ?? TRAIN_DEFAULTS.lrSchedule,
    warmupSteps: config.warmupSteps ?? TRAIN_DEFAULTS.warmupSteps,
    ...(config.minLr !== undefined ? { minLr: config.minLr } : {}),
    lrDecaySteps: config.lrDecaySteps ?? steps,
    weightDecay: config.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    gradClip: config.gradClip ?? TRAIN_DEFAULTS.gradClip,
    gradAccum: config.gradAccum ?? TRAIN_DEFAULTS.gradAccum,
    evalIters: config.evalIters ?? TRAIN_DEFAULTS.evalIters,
    ...(init !== undefined ? { initFrom: init.dir, encoding: init.kind === "pretrained" ? "init-from" : "checkpoint" } : {}),
    ...(config.loraRank !== undefined ? { lora: loraSettingsOf(config) } : {}),
    ...(config.worldSize !== undefined && config.worldSize > 1 ? { rank: config.rank as number, worldSize: config.worldSize } : {}),
  };
}

/**
 * The Trainer's options of a run. A version-1 checkpoint (no training controls saved) keeps what
 * it was trained with: tfjs Adam's betas, no decay, no clipping, a constant rate.
 */
function trainerOptions(settings: RunSettings): TrainerOptions {
  if (settings.weightDecay === undefined) return { learningRate: settings.lr, beta2: 0.999, weightDecay: 0, gradClip: 0, schedule: "constant" };
  return {
    learningRate: settings.lr,
    schedule: settings.lrSchedule ?? "constant",
    warmupSteps: settings.warmupSteps ?? 0,
    ...(settings.minLr !== undefined ? { minLearningRate: Math.min(settings.minLr, settings.lr) } : {}),
    totalSteps: settings.lrDecaySteps ?? settings.steps,
    weightDecay: settings.weightDecay,
    gradClip: settings.gradClip ?? 0,
    gradAccum: settings.gradAccum ?? 1,
    // Dropout masks seeded by the run's seed, the step and the micro-batch: resume stays bit-exact with dropout on.
    dropoutSeed: settings.seed,
  };
}

/** The int32 tensors of a loader batch (id ranges recorded: no host read in the step). */
function toTrainBatch(batch: Batch): TrainBatch {
  const shape = [batch.batchSize, batch.maxLength];
  return { inputs: idsTensor(batch.inputs, shape), targets: idsTensor(batch.targets, shape) };
}

/** Checks that the flags given with `--resume` agree with the checkpoint's settings. */
function checkResumeFlags(config: TrainConfig, saved: RunSettings): void {
  for (const key of FIXED_ON_RESUME) {
    const file = key === "text" || key === "tokenizer" ? config[key] : undefined;
    const given = file !== undefined ? path.resolve(file) : config[key];
    if (given !== undefined && given !== saved[key]) {
      throw new UsageError(
        `\`--${FLAG_NAMES[key]}\` ${JSON.stringify(given)} differs from the checkpoint's ${JSON.stringify(saved[key])}; a resumed run keeps its settings`,
      );
    }
  }
}

/**
 * Trains (or resumes training) as `config` says; see the module comment. Writes into the run
 * directory: checkpoints, `metrics.jsonl` and `loss.svg`. When `io.signal` aborts (Ctrl-C), it
 * stops after the current step and saves a checkpoint there.
 *
 * @returns the run directory, the last step and its checkpoint.
 * @throws UsageError for conflicting or bad flags, CliError for unreadable text or checkpoints,
 *   and the packages' errors (`TokenizerError`, `DatasetError`, `LayerConfigError`).
 */
export async function runTrain(
  config: TrainConfig,
  io: CommandIO,
): Promise<{ runDir: string; step: number; checkpoint: string; loss: number; valLoss: number | undefined }> {
  // 1. Settings and data (everything that can fail on bad input happens before any write).
  let resumeFrom: { dir: string; state: CheckpointState } | undefined;
  let init: InitFrom | undefined;
  let settings: RunSettings;
  if (config.resume !== undefined) {
    resumeFrom = await readCheckpointState(config.resume);
    const parsed = RunSettingsSchema.safeParse(resumeFrom.state.train);
    if (!parsed.success) throw new CliError(`checkpoint ${resumeFrom.dir} is corrupt: state.json has no valid run settings`);
    checkResumeFlags(config, parsed.data);
    settings = parsed.data;
  } else {
    init = config.initFrom !== undefined ? await resolveInitFrom(config.initFrom) : undefined;
    settings = newRunSettings(config, undefined, init);
    if (init === undefined) presetOf(settings.preset);
    else if (settings.context > init.config.contextLength) {
      throw new UsageError(`\`--context\` must be at most the model's context length ${init.config.contextLength}, received ${settings.context}`);
    }
    if (settings.lora !== undefined) {
      // Bad targets or a rank too large are refused here, before any file is read or written.
      try {
        loraParamCounts(init?.config ?? { ...presetOf(settings.preset), ...settings.model }, settings.lora);
      } catch (err) {
        const option = (err as { option?: string }).option;
        throw new UsageError(`\`--lora-${option === "rank" || option === "targets" || option === "alpha" || option === "dropout" ? option : "rank"}\`: ${(err as Error).message}`);
      }
    }
  }
  const data = await prepareData(settings);
  if (resumeFrom === undefined && config.epochs !== undefined) settings = newRunSettings(config, data.loader.numBatches, init);
  if (resumeFrom !== undefined && (config.steps !== undefined || config.epochs !== undefined)) {
    settings = { ...settings, steps: config.steps ?? (config.epochs as number) * data.loader.numBatches };
  }
  if (settings.steps > LIMITS.steps) {
    throw new UsageError(
      `\`--epochs\` ${config.epochs} x ${data.loader.numBatches} batches is ${settings.steps.toLocaleString("en-US")} steps, more than ${LIMITS.steps.toLocaleString("en-US")}`,
    );
  }
  const startStep = resumeFrom?.state.step ?? 0;
  if (settings.steps <= startStep) {
    throw new UsageError(`the checkpoint is at step ${startStep}; \`--steps\` must be greater to train further, received ${settings.steps}`);
  }
  if (resumeFrom !== undefined) {
    const saved = resumeFrom.state.data;
    if (saved.tokens !== data.train.tokens.length || saved.hash !== data.dataHash) {
      throw new CliError(`${settings.text} is not the text checkpoint ${resumeFrom.dir} was trained on (its tokens differ)`);
    }
  }
  const runDir = path.resolve(
    config.out ?? (resumeFrom ? path.dirname(resumeFrom.dir) : path.join("runs", `train-${timestamp()}`)),
  );
  const sourceRunDir = resumeFrom ? path.resolve(path.dirname(resumeFrom.dir)) : undefined;
  const intoOtherRun = sourceRunDir !== undefined && runDir !== sourceRunDir;
  const checkRunDir = async (): Promise<void> => {
    if (resumeFrom === undefined && !config.overwrite && (await exists(path.join(runDir, LATEST_FILE)))) {
      throw new UsageError(`\`--out\` ${runDir} already holds a run: continue it with --resume, or pass --overwrite or another --out`);
    }
    if (intoOtherRun && !(await isEmptyRunDir(runDir))) {
      throw new UsageError(
        `\`--out\` ${runDir} is not empty: \`--resume ${config.resume} --out DIR\` copies the checkpoint into a new or empty DIR and never writes into another run`,
      );
    }
  };
  await checkRunDir();

  // The run directory: locked (one writer), created if missing, removed again if this run fails
  // before it holds a checkpoint.
  const createdRunDir = !(await exists(runDir));
  const lock = await acquireRunLock(runDir);
  try {
    await checkRunDir(); // again, now that no other run can change it
    const leftovers = await cleanRunLeftovers(runDir);
    if (leftovers.length > 0) io.stderr.write(`removed ${leftovers.length} leftover temp file(s) of an interrupted save in ${runDir}\n`);
    if (config.overwrite && !(await isEmptyRunDir(runDir))) {
      await clearRunDir(runDir, LATEST_FILE);
      io.stderr.write(`--overwrite: removed the previous run in ${runDir}\n`);
    }
    let metrics = new RunMetrics();
    if (resumeFrom !== undefined) {
      metrics = await RunMetrics.load(sourceRunDir as string, startStep);
      if (intoOtherRun) {
        await seedRunFrom(runDir, resumeFrom.dir, LATEST_FILE, writeFileAtomic);
        await metrics.flush(runDir);
      }
    }
    return await trainInRunDir(config, io, { resumeFrom, init, settings, data, startStep, runDir, metrics });
  } catch (err) {
    if (createdRunDir && !(await exists(path.join(runDir, LATEST_FILE)))) await rm(runDir, { recursive: true, force: true });
    throw err;
  } finally {
    lock.release();
  }
}

/** Steps 2 and 3 of {@link runTrain}, in the run directory it has locked. */
async function trainInRunDir(
  config: TrainConfig,
  io: CommandIO,
  run: {
    resumeFrom: { dir: string; state: CheckpointState } | undefined;
    init: InitFrom | undefined;
    settings: RunSettings;
    data: Prepared;
    startStep: number;
    runDir: string;
    metrics: RunMetrics;
  },
): Promise<{ runDir: string; step: number; checkpoint: string; loss: number; valLoss: number | undefined }> {
  const { resumeFrom, init, settings, data, startStep, runDir, metrics } = run;
  // 2. Backend, model, optimizer, loader position.
  const backendLine = await useBackend(config.backend);
  let model: tf.LayersModel;
  let modelConfig: GPTConfigInput;
  if (resumeFrom !== undefined) {
    const loaded = await loadCheckpoint(resumeFrom.dir);
    model = loaded.model;
    modelConfig = loaded.state.model as GPTConfigInput;
    if (settings.lora !== undefined) freezeBase(loaded.model); // what compile does: the adapters train, nothing else
    const { frozen } = paramSplit(loaded.model);
    checkWasmMemory(settings.preset, { trainable: loaded.model.countParams() - frozen, frozen }, settings.lora);
    const position = DataLoaderStateSchema.safeParse(loaderStateOf(loaded.state));
    if (!position.success) throw new CliError(`checkpoint ${resumeFrom.dir} is corrupt: state.json has no valid loader position`);
    data.loader.restore(position.data);
  } else if (init !== undefined) {
    checkWasmMemory(settings.preset, stateParams(init.config, settings.lora), settings.lora);
    const loaded = await initModel(init);
    model = loaded.model;
    modelConfig = loaded.config;
    if (data.tokenizer.vocabSize > loaded.config.vocabSize) {
      model.dispose();
      throw new CliError(`\`--init-from\` ${init.dir}: the tokenizer has ${data.tokenizer.vocabSize} ids, more than the model's ${loaded.config.vocabSize}`);
    }
  } else {
    modelConfig = {
      ...presetOf(settings.preset),
      vocabSize: data.tokenizer.vocabSize,
      contextLength: settings.context,
      ...settings.model,
    };
    checkWasmMemory(settings.preset, stateParams(modelConfig, settings.lora), settings.lora);
    model = createGPT({ ...modelConfig, seed: settings.seed });
  }
  let loraLine = "";
  if (resumeFrom === undefined && settings.lora !== undefined) {
    const lora = settings.lora;
    const counts = applyLoRA(model, { ...lora, seed: settings.seed });
    loraLine = `${describeLoRA(lora, counts)}\n`;
  } else if (settings.lora !== undefined) {
    loraLine = `${describeLoRA(settings.lora, { trainable: paramSplit(model).trainable, total: model.countParams() })}\n`;
  }
  // Activations too (attention is O(T^2) a head): refused with the numbers before the first step.
  const shape = parseGPTConfig(modelConfig);
  const split = paramSplit(model);
  checkStepMemory(
    { ...shape, params: settings.lora !== undefined ? split : model.countParams(), batchSize: settings.batchSize, context: settings.context },
    tf.getBackend(),
    `--preset ${settings.preset} --context ${settings.context} --batch-size ${settings.batchSize}`,
  );
  if (!(model instanceof GPTModel)) {
    model.dispose();
    throw new CliError(`the model to train is a ${model.getClassName()}, not a GPTModel of @tfgpt/layers`);
  }
  const trainer = new Trainer(model, trainerOptions(settings));
  if (resumeFrom !== undefined) {
    const saved = await readOptimizerWeights(resumeFrom.dir);
    try {
      await trainer.restoreOptimizer(startStep, saved);
    } finally {
      tf.dispose(saved.map((w) => w.tensor));
    }
  }

  const params = model.countParams();
  io.stderr.write(
    `${backendLine}\nmodel: ${settings.preset} (${params.toLocaleString("en-US")} parameters), ${settings.encoding} vocab ${data.tokenizer.vocabSize}, context ${settings.context}; ` +
      `data: ${data.train.tokens.length.toLocaleString("en-US")} train tokens, ${data.loader.numBatches} batches of ${settings.batchSize} per epoch` +
      (data.loader.worldSize > 1 ? ` (rank ${data.loader.rank} of ${data.loader.worldSize}: ${data.loader.numSamples} of ${data.train.length} windows)` : "") +
      (data.val ? `, ${data.val.tokens.length.toLocaleString("en-US")} validation tokens` : "") +
      `\n${loraLine}${resumeFrom ? `resuming ${resumeFrom.dir} at step ${startStep}` : "training"} to step ${settings.steps}; run directory ${runDir}\n`,
  );

  // 3. Training, in the run directory (locked by runTrain).
  let lastCheckpoint: string | undefined;
  let step = startStep;
  let lastLoss = Number.NaN;
  let lastVal: number | undefined;

  const store = checkpointDirectory(runDir);
  const checkpoint = async (): Promise<string> => {
    const extra = {
      train: settings,
      model: modelConfig,
      tokenizer: { name: data.tokenizer.spec.name, ...(data.tokenizer.spec.options ? { options: data.tokenizer.spec.options } : {}) },
      data: { tokens: data.train.tokens.length, hash: data.dataHash },
    };
    await trainer.save(store, data.loader.state(), extra);
    lastCheckpoint = store.lastSaved as string;
    await metrics.flush(runDir);
    return lastCheckpoint;
  };
  // Loss estimates over --eval-iters batches of windows (nanoGPT's estimate_loss): validation,
  // and the training windows too (the first ones, in order), so "train loss" is not one batch's.
  const evalWindows = Math.min(MAX_EVAL_WINDOWS * 4, (settings.evalIters ?? TRAIN_DEFAULTS.evalIters) * settings.batchSize);
  let trainEstimate: number | undefined;
  const evaluate = async (withTrain: boolean): Promise<void> => {
    if (!data.val) return;
    lastVal = await evaluateLoss(model, data.val, data.tokenizer.vocabSize, evalWindows);
    trainEstimate = withTrain ? await evaluateLoss(model, data.train, data.tokenizer.vocabSize, evalWindows) : undefined;
    metrics.add({ step, val_loss: lastVal });
  };
  // Endless batches across loader epochs, pulled lazily (no read-ahead): after each step the
  // loader's state is exactly the position of the next batch.
  const batches = (function* () {
    for (;;) for (const batch of data.loader) yield batch;
  })();

  try {
    const total = settings.steps;
    const evalEvery = config.evalEvery ?? Math.max(1, Math.round(total / 10));
    const progress = new Progress({ totalSteps: total, startStep, tokensPerStep: settings.batchSize * settings.context, stream: io.stderr });
    const started = performance.now();
    if (startStep === 0) {
      await evaluate(false);
      if (lastVal !== undefined) progress.log(`step 0: val loss ${lastVal.toFixed(4)}`);
    }
    // A stuck step (tfjs-wasm out of heap spins) ends the process with an error, never hangs it.
    const watchdog = new StepWatchdog({ hint: `the last checkpoint is kept (continue with: tfgpt train --resume ${runDir})` });
    const hangAt = Number(process.env.TFGPT_TEST_HANG_AT_STEP ?? Number.NaN); // fault injection (tests only)
    try {
      while (step < total) {
        // One step of the Trainer: gradAccum micro-batches, clipped, AdamW at the schedule's rate.
        const micro: TrainBatch[] = [];
        for (let k = 0; k < trainer.options.gradAccum; k++) micro.push(toTrainBatch(batches.next().value as Batch));
        const loss = trainer.trainStep(micro);
        for (const b of micro) tf.dispose([b.inputs, b.targets]);
        lastLoss = (await loss.data())[0] as number;
        loss.dispose();
        step = trainer.step;
        watchdog.beat(step);
        if (step === hangAt) for (;;); // a step that never ends, as tfjs-wasm's when out of heap
        metrics.add({ step, loss: lastLoss, time: Number(((performance.now() - started) / 1000).toFixed(3)) });
        progress.step(step, lastLoss);
        if (step % evalEvery === 0 || step === total) {
          await evaluate(true);
          const train = trainEstimate !== undefined ? trainEstimate.toFixed(4) : lastLoss.toFixed(4);
          if (lastVal !== undefined) progress.log(`step ${step}: train loss ${train}, val loss ${lastVal.toFixed(4)}`);
          await metrics.flush(runDir);
        }
        if (config.checkpointEvery !== undefined && step % config.checkpointEvery === 0 && step < total) {
          progress.log(`checkpoint ${await checkpoint()}`);
        }
        watchdog.resume();
        // Let signal handlers run (a step's awaits resolve as microtasks on the CPU backends).
        await new Promise((resolve) => setImmediate(resolve));
        if (io.signal?.aborted) break;
      }
    } finally {
      watchdog.stop();
    }
    progress.done();
    const dir = await checkpoint();
    // LoRA: the adapters alone too (a few MB; `loadAdapters` onto the base model checks it is theirs).
    if (settings.lora !== undefined) await saveAdapters(model, path.join(runDir, "adapters"));
    const seconds = (performance.now() - started) / 1000;
    if (io.signal?.aborted) {
      const by = typeof io.signal.reason === "string" ? `${io.signal.reason}: ` : "";
      io.stderr.write(`interrupted at step ${step}; checkpoint ${dir} (${by}continue with: tfgpt train --resume ${runDir})\n`);
    } else {
      io.stderr.write(
        `done: step ${step}, train loss ${lastLoss.toFixed(4)}` +
          (lastVal !== undefined ? `, val loss ${lastVal.toFixed(4)}` : "") +
          ` in ${seconds.toFixed(1)} s; checkpoint ${dir}; metrics ${path.join(runDir, "metrics.jsonl")}, plot ${path.join(runDir, "loss.svg")}\n`,
      );
    }
    if (config.sample && !io.signal?.aborted) {
      const text = generateText(model, data.tokenizer, SAMPLE_PROMPT, { maxNewTokens: 30, temperature: 0, seed: 0 });
      io.stdout.write(`${SAMPLE_PROMPT}${text}\n`);
    }
    return { runDir, step, checkpoint: dir, loss: lastLoss, valLoss: lastVal };
  } finally {
    model.dispose();
    trainer.dispose();
  }
}
