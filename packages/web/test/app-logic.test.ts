/**
 * The page's DOM-free logic in Node (runs without a browser): token pieces, the sample text,
 * the loss smoothing, and the trainer (tfjs wasm backend, as the page uses without a GPU).
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { getTokenizer } from "@tfgpt/tokenizers";
import { beforeAll, describe, expect, it } from "vitest";
import { smooth } from "../src/loss-chart.js";
import { firstParagraphs, SAMPLE_TEXTS, THE_VERDICT } from "../src/sample-text.js";
import { TOKENIZER_NAMES, tokenizerFor, tokenPieces, visible } from "../src/tokenizer-choice.js";
import { DataLoaderOptionsSchema } from "@tfgpt/datasets";
import { GenerateOptionsSchema, Trainer as LayersTrainer, TrainerOptionsSchema } from "@tfgpt/layers";
import { numberError } from "../src/form.js";
import { MODEL_SHAPES, Trainer, VALIDATION_FRACTION } from "../src/trainer.js";

beforeAll(async () => {
  expect(await tf.setBackend("wasm")).toBe(true);
});

describe("token pieces", () => {
  it("keep every id once, in order, and spell the text back, even across split characters", () => {
    const text = "Héllo 👋 wörld — 日本語\n\nok";
    for (const name of TOKENIZER_NAMES) {
      if (name === "simple") continue; // a word tokenizer does not keep spacing
      const tokenizer = tokenizerFor(name, text);
      const ids = tokenizer.encode(text);
      const pieces = tokenPieces(tokenizer, ids);
      expect(pieces.flatMap((p) => p.ids)).toEqual(ids);
      expect(pieces.map((p) => p.text).join("")).toBe(text);
      expect(pieces.some((p) => p.text.includes("\uFFFD"))).toBe(false);
    }
    // The wave emoji is several byte-level ids in gpt2: they form one piece.
    const gpt2 = getTokenizer("gpt2");
    const wave = tokenPieces(gpt2, gpt2.encode("👋")).at(0);
    expect(wave?.text).toBe("👋");
    expect(wave?.ids.length).toBeGreaterThan(1);
  });

  it("builds the simple tokenizer's vocabulary from the text itself", () => {
    const tokenizer = tokenizerFor("simple", "the cat saw the dog.");
    expect(tokenizer.decode(tokenizer.encode("the dog saw the cat."))).toBe("the dog saw the cat.");
    expect(tokenizer.vocabSize).toBe(5 + 2); // the, cat, saw, dog, "." and 2 special tokens
  });

  it("shows whitespace", () => {
    expect(visible(" a\n\tb")).toBe("·a↵→b");
  });
});

describe("sample text", () => {
  it("starts with The Verdict's first paragraph", () => {
    expect(THE_VERDICT.length).toBe(20479);
    const first = firstParagraphs(THE_VERDICT, 1);
    expect(first.startsWith("I HAD always thought Jack Gisburn")).toBe(true);
    expect(first.endsWith("(Though I rather thought it would have been Rome or Florence.)")).toBe(true);
    expect(getTokenizer("gpt2").encode(first).slice(0, 5)).toEqual([40, 367, 2885, 1464, 1807]);
    expect(SAMPLE_TEXTS.map((s) => s.text)).toContain(THE_VERDICT);
  });
});

describe("smooth", () => {
  it("is an exponential moving average seeded with the first value", () => {
    expect(smooth([])).toEqual([]);
    const out = smooth([10, 0, 0], 0.5);
    expect(out).toEqual([10, 5, 2.5]);
  });
});

describe("Trainer", () => {
  it("offers the library's tiny preset and a smaller micro shape", () => {
    expect(MODEL_SHAPES.tiny.contextLength).toBe(64);
    expect(MODEL_SHAPES.micro).toMatchObject({ contextLength: 32, embeddingDim: 32 });
  });

  it("trains micro on bytes: the loss goes down, steps count on, sampling extends the prompt", async () => {
    const text = firstParagraphs(THE_VERDICT, 3);
    const trainer = new Trainer(text, { shape: "micro", tokenizer: "byte", batchSize: 4, learningRate: 0.01, seed: 1 });
    expect(trainer.config.vocabSize).toBe(257);
    const bytes = new TextEncoder().encode(text).length;
    const split = Math.floor(bytes * (1 - VALIDATION_FRACTION));
    expect(trainer.windows).toBe(Math.floor((split - 33) / 32) + 1); // the first 90% of the tokens
    expect(trainer.valWindows).toBe(Math.floor((bytes - split - 33) / 32) + 1); // the last 10%
    const valBefore = await trainer.validationLoss();
    const losses = [(await trainer.trainStep()).loss];
    const afterFirst = tf.memory().numTensors; // weights and Adam's slots exist from step 1 on
    for (let i = 1; i < 30; i++) losses.push((await trainer.trainStep()).loss);
    expect(trainer.step).toBe(30);
    expect(tf.memory().numTensors).toBe(afterFirst); // no per-step leak
    expect(losses[0]).toBeGreaterThan(5); // ln 257 = 5.55
    const last5 = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(last5).toBeLessThan((losses[0] as number) - 1);
    const valAfter = await trainer.validationLoss();
    expect(valBefore).toBeGreaterThan(5);
    expect(valAfter).toBeLessThan((valBefore as number) - 0.5); // held-out text: it learns bytes, not windows
    const streamed: number[] = [];
    const made = await trainer.generate("I HAD", { temperature: 0, topK: undefined, maxTokens: 5, seed: 1 }, (id) => streamed.push(id));
    expect(made).toHaveLength(5);
    expect(streamed).toEqual(made);
    expect(made.every((id) => Number.isInteger(id) && id >= 0 && id < 257)).toBe(true);
    // The download: checkpoint files that load back into a Trainer at the same step, same weights.
    const files = await trainer.checkpointFiles();
    expect(Object.keys(files).sort()).toEqual(["model.json", "optimizer.bin", "optimizer.json", "state.json", "weights.bin"]);
    const modelJson = JSON.parse(await files["model.json"]!.text()) as tf.io.ModelJSON;
    const optimizerJson = JSON.parse(await files["optimizer.json"]!.text()) as { weightSpecs: tf.io.WeightsManifestEntry[] };
    const state = JSON.parse(await files["state.json"]!.text()) as { version: 2; step: number; trainer: never; dataState: unknown };
    expect(state.step).toBe(30);
    const { trainer: loaded } = await LayersTrainer.fromCheckpoint({
      model: { modelTopology: modelJson.modelTopology, format: modelJson.format, weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights), weightData: await files["weights.bin"]!.arrayBuffer() },
      optimizer: { weightSpecs: optimizerJson.weightSpecs, weightData: await files["optimizer.bin"]!.arrayBuffer() },
      state: { version: 2, step: state.step, trainer: state.trainer, dataState: state.dataState },
    });
    expect(loaded.step).toBe(30);
    const mine = trainer.model.getWeights().map((w) => w.dataSync());
    const theirs = loaded.model.getWeights().map((w) => w.dataSync());
    expect(theirs).toEqual(mine);
    loaded.model.dispose();
    loaded.dispose();
    expect(trainer.promptIds("")).toEqual([256]); // byte's <|endoftext|>
    trainer.dispose();
  });

  it("refuses a text shorter than one window, naming maxLength", () => {
    expect(() => new Trainer("too short", { shape: "micro", tokenizer: "byte", batchSize: 2, learningRate: 0.01, seed: 1 })).toThrow(/maxLength/);
  });
});

describe("form validation with the library's schemas", () => {
  it("refuses 0, negatives, fractions and empty fields with the reason, never clamping", () => {
    const batch = DataLoaderOptionsSchema.shape.batchSize;
    expect(numberError(batch, "8")).toBeUndefined();
    expect(numberError(batch, "0")).toBe("must be a positive integer, received 0");
    expect(numberError(batch, "2.5")).toBe("must be a positive integer, received 2.5");
    const rate = TrainerOptionsSchema.shape.learningRate;
    expect(numberError(rate, "0.004")).toBeUndefined();
    expect(numberError(rate, "0")).toBe("must be a number in (0, 1], received 0");
    expect(numberError(rate, "-1")).toBe("must be a number in (0, 1], received -1");
    expect(numberError(rate, "")).toBe("must be a number in (0, 1], received nothing");
    expect(numberError(TrainerOptionsSchema.shape.totalSteps, "0")).toBe("must be a positive integer, received 0");
    expect(numberError(GenerateOptionsSchema.shape.temperature, "-0.5")).toBe("must be a number >= 0, received -0.5");
    expect(numberError(GenerateOptionsSchema.shape.topK, "0")).toBe("must be a positive integer, received 0");
  });
});
