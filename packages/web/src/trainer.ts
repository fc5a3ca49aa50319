import * as tf from "@tensorflow/tfjs";
import { DataLoader, GPTDataset, type DataLoaderState } from "@tfgpt/datasets";
import { countParams, createGPT, generateAsync, GPT_PRESETS, GPTModel, idsTensor, memoryCheckpoint, parseGPTConfig, Trainer as LayersTrainer, type CheckpointIO, type GPTConfig, type TrainBatch, type TrainerCheckpoint } from "@tfgpt/layers";
import type { Tokenizer } from "@tfgpt/tokenizers/core";
import { tokenizerFor, type TokenizerName } from "./tokenizer-choice.js";

/**
 * Model shapes the page offers (the vocabulary always comes from the tokenizer):
 * `tiny` is the library's preset (context 64, width 64, 2 heads, 2 layers); `micro` (context 32,
 * width 32) trains a step in milliseconds even on wasm, for quick demos and the browser test.
 */
export const MODEL_SHAPES = {
  tiny: GPT_PRESETS.tiny,
  micro: { ...GPT_PRESETS.tiny, contextLength: 32, embeddingDim: 32, numHeads: 2, numLayers: 2 },
} as const;

/** One of the keys of {@link MODEL_SHAPES}. */
export type ModelShape = keyof typeof MODEL_SHAPES;

/** What a trainer is built from. */
export interface TrainerSettings {
  readonly shape: ModelShape;
  readonly tokenizer: TokenizerName;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Seeds the window order (the data loader's shuffle). */
  readonly seed: number;
}

/** The share of the text's tokens (its end) held out for the validation loss, as the CLI splits. */
export const VALIDATION_FRACTION = 0.1;

/** Validation batches one estimate averages (few: the page evaluates while it trains). */
export const EVAL_BATCHES = 4;

/** The outcome of one optimisation step. */
export interface StepResult {
  readonly step: number;
  readonly loss: number;
  /** Tokens in the batch over the step's wall time (forward, backward, update and the loss read-back). */
  readonly tokensPerSecond: number;
}

/**
 * A GPT (seeded), `@tfgpt/layers`' `Trainer` (AdamW, clipping: the CLI's training step) and a
 * shuffled loader over the text's windows (`stride` = context length, as the book trains). Steps
 * one batch at a time so the page can draw between steps, stop, and resume exactly where it
 * stopped (same model, optimizer state and loader position).
 */
export class Trainer {
  readonly model: GPTModel;
  readonly tokenizer: Tokenizer;
  readonly config: GPTConfig;
  readonly params: number;
  /** Training windows (the text's first 90%). */
  readonly windows: number;
  /** Validation windows (the last 10%); 0 when that part is shorter than one window (then there is no validation loss). */
  readonly valWindows: number;
  private readonly loader: DataLoader;
  private readonly valDataset: GPTDataset | undefined;
  private readonly core: LayersTrainer;

  /**
   * @param restored a model and layers `Trainer` from a checkpoint of this text and these settings
   *   (see {@link Trainer.restore}), and the loader position to continue from.
   * @throws DatasetError when the text has fewer tokens than one window needs (context + 1).
   */
  constructor(readonly text: string, readonly settings: TrainerSettings, restored?: { readonly core: LayersTrainer; readonly dataState: unknown }) {
    this.tokenizer = tokenizerFor(settings.tokenizer, text);
    this.config = parseGPTConfig({ ...MODEL_SHAPES[settings.shape], vocabSize: this.tokenizer.vocabSize });
    const T = this.config.contextLength;
    const ids = this.tokenizer.encode(text, { disallowedSpecial: [] });
    const split = Math.floor(ids.length * (1 - VALIDATION_FRACTION));
    const held = ids.slice(split);
    // Without enough held-out tokens for one window, train on all of it and show no validation loss.
    this.valDataset = held.length > T ? new GPTDataset(held, { maxLength: T, stride: T }) : undefined;
    const dataset = new GPTDataset(this.valDataset === undefined ? ids : ids.slice(0, split), { maxLength: T, stride: T });
    this.windows = dataset.length;
    this.valWindows = this.valDataset?.length ?? 0;
    this.loader = new DataLoader(dataset, { batchSize: settings.batchSize, shuffle: true, seed: settings.seed });
    this.params = countParams(this.config);
    if (restored === undefined) {
      this.model = createGPT({ ...this.config, seed: settings.seed });
      this.core = new LayersTrainer(this.model, { learningRate: settings.learningRate });
    } else {
      this.model = restored.core.model as GPTModel;
      this.core = restored.core;
      this.loader.restore(restored.dataState as DataLoaderState);
    }
  }

  /**
   * The trainer a checkpoint of this page holds (saved by {@link save} or downloaded): its text and
   * settings are in the checkpoint, the model, optimizer, step and loader position continue.
   */
  static async restore(checkpoint: TrainerCheckpoint): Promise<Trainer> {
    const extra = checkpoint.state.extra as { page?: TrainerSettings; text?: string } | undefined;
    if (extra?.page === undefined || typeof extra.text !== "string") throw new Error("this checkpoint was not saved by the page: it holds no text and settings");
    const { trainer, dataState } = await LayersTrainer.fromCheckpoint(checkpoint);
    return new Trainer(extra.text, extra.page, { core: trainer, dataState });
  }

  /** Writes the checkpoint of now (model, optimizer, step, loader position, the text and settings) through `io`. */
  async save(io: CheckpointIO): Promise<void> {
    await this.core.save(io, this.loader.state(), { page: { ...this.settings }, model: { ...this.config }, text: this.text });
  }

  /** Steps taken so far. */
  get step(): number {
    return this.core.step;
  }

  /** Trains on the next batch and returns its loss. */
  async trainStep(): Promise<StepResult> {
    const batch = this.loader.nextBatch();
    const started = performance.now();
    // idsTensor records the ids' range, so the layers check it without reading the ids back
    // (a GPU stall; on webgpu over SwiftShader, a dataSync that returns zeros and breaks the device).
    const shape = [batch.batchSize, batch.maxLength];
    const inputs = idsTensor(batch.inputs, shape);
    const targets = idsTensor(batch.targets, shape);
    try {
      const lossTensor = this.core.trainStep([{ inputs, targets }]);
      const loss = (await lossTensor.data())[0] as number;
      lossTensor.dispose();
      const seconds = Math.max(1e-6, (performance.now() - started) / 1000);
      return { step: this.core.step, loss, tokensPerSecond: batch.inputs.length / seconds };
    } finally {
      tf.dispose([inputs, targets]);
    }
  }

  /**
   * The mean loss over the first {@link EVAL_BATCHES} batches of the held-out windows (always the
   * same ones, so estimates are comparable), or undefined without validation windows.
   */
  async validationLoss(): Promise<number | undefined> {
    if (this.valDataset === undefined) return undefined;
    const loader = new DataLoader(this.valDataset, { batchSize: this.settings.batchSize, shuffle: false });
    const batches: TrainBatch[] = [];
    for (let i = 0; i < Math.min(EVAL_BATCHES, loader.numBatches); i++) {
      const b = loader.nextBatch();
      const shape = [b.batchSize, b.maxLength];
      batches.push({ inputs: idsTensor(b.inputs, shape), targets: idsTensor(b.targets, shape) });
    }
    try {
      return await this.core.evaluate(batches, batches.length);
    } finally {
      for (const b of batches) tf.dispose([b.inputs, b.targets]);
    }
  }

  /**
   * The checkpoint of now as the files of a checkpoint directory (model.json, weights.bin,
   * optimizer.json, optimizer.bin, state.json: what `tfgpt train` writes, so
   * `readCheckpointFiles` + `Trainer.fromCheckpoint` of `@tfgpt/layers` load it back), with the
   * loader's position, the page's settings and the text in state.json ({@link restore} continues it).
   */
  async checkpointFiles(): Promise<Record<string, Blob>> {
    const io = memoryCheckpoint();
    await this.save(io);
    return io.toBlobs();
  }

  /**
   * Encodes `prompt`; an empty prompt starts from the tokenizer's `<|endoftext|>` (or id 0).
   */
  promptIds(prompt: string): number[] {
    const ids = this.tokenizer.encode(prompt, { disallowedSpecial: [] });
    if (ids.length > 0) return ids;
    return [this.tokenizer.specialTokens.get("<|endoftext|>") ?? 0];
  }

  /**
   * Extends `prompt` by up to `maxTokens` ids (temperature 0: greedy; the KV cache), calling
   * `onToken` with each new id as it is picked; returns the new ids. Read back asynchronously
   * (webgpu has no safe dataSync).
   */
  async generate(prompt: string, options: { temperature: number; topK: number | undefined; maxTokens: number; seed: number }, onToken?: (id: number) => void): Promise<number[]> {
    const ids = this.promptIds(prompt);
    const out = await generateAsync(this.model, ids, {
      maxNewTokens: options.maxTokens,
      temperature: options.temperature,
      topK: options.topK,
      seed: options.seed,
      contextLength: this.config.contextLength,
      ...(onToken === undefined ? {} : { onToken: (id: number) => onToken(id) }),
    });
    return out.slice(ids.length);
  }

  /** Frees the model's and optimizer's tensors. */
  dispose(): void {
    this.model.dispose();
    this.core.dispose();
  }
}
