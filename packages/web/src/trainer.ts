import * as tf from "@tensorflow/tfjs";
import { DataLoader, GPTDataset } from "@tfgpt/datasets";
import { countParams, createGPT, generateAsync, GPT_PRESETS, GPTModel, idsTensor, parseGPTConfig, Trainer as LayersTrainer, type GPTConfig } from "@tfgpt/layers";
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
  readonly windows: number;
  private readonly loader: DataLoader;
  private readonly core: LayersTrainer;

  /**
   * @throws DatasetError when the text has fewer tokens than one window needs (context + 1).
   */
  constructor(text: string, readonly settings: TrainerSettings) {
    this.tokenizer = tokenizerFor(settings.tokenizer, text);
    this.config = parseGPTConfig({ ...MODEL_SHAPES[settings.shape], vocabSize: this.tokenizer.vocabSize });
    const T = this.config.contextLength;
    const ids = this.tokenizer.encode(text, { disallowedSpecial: [] });
    const dataset = new GPTDataset(ids, { maxLength: T, stride: T });
    this.windows = dataset.length;
    this.loader = new DataLoader(dataset, { batchSize: settings.batchSize, shuffle: true, seed: settings.seed });
    this.model = createGPT({ ...this.config, seed: settings.seed });
    this.params = countParams(this.config);
    this.core = new LayersTrainer(this.model, { learningRate: settings.learningRate });
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
   * Encodes `prompt`; an empty prompt starts from the tokenizer's `<|endoftext|>` (or id 0).
   */
  promptIds(prompt: string): number[] {
    const ids = this.tokenizer.encode(prompt, { disallowedSpecial: [] });
    if (ids.length > 0) return ids;
    return [this.tokenizer.specialTokens.get("<|endoftext|>") ?? 0];
  }

  /** The id that follows `ids` (temperature 0: the most likely one), read back asynchronously (webgpu has no safe dataSync). */
  async nextId(ids: readonly number[], temperature: number, topK: number | undefined, seed: number): Promise<number> {
    const out = await generateAsync(this.model, ids, { maxNewTokens: 1, temperature, topK, seed, contextLength: this.config.contextLength });
    return out[out.length - 1] as number;
  }

  /** Frees the model's and optimizer's tensors. */
  dispose(): void {
    this.model.dispose();
    this.core.dispose();
  }
}
