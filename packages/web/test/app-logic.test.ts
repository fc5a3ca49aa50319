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
import { MODEL_SHAPES, Trainer } from "../src/trainer.js";

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
    expect(trainer.windows).toBe(Math.floor((new TextEncoder().encode(text).length - 33) / 32) + 1);
    const losses = [(await trainer.trainStep()).loss];
    const afterFirst = tf.memory().numTensors; // weights and Adam's slots exist from step 1 on
    for (let i = 1; i < 30; i++) losses.push((await trainer.trainStep()).loss);
    expect(trainer.step).toBe(30);
    expect(tf.memory().numTensors).toBe(afterFirst); // no per-step leak
    expect(losses[0]).toBeGreaterThan(5); // ln 257 = 5.55
    const last5 = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(last5).toBeLessThan((losses[0] as number) - 1);
    const ids = trainer.promptIds("I HAD");
    const next = await trainer.nextId(ids, 0, undefined, 1);
    expect(Number.isInteger(next) && next >= 0 && next < 257).toBe(true);
    expect(trainer.promptIds("")).toEqual([256]); // byte's <|endoftext|>
    trainer.dispose();
  });

  it("refuses a text shorter than one window, naming maxLength", () => {
    expect(() => new Trainer("too short", { shape: "micro", tokenizer: "byte", batchSize: 2, learningRate: 0.01, seed: 1 })).toThrow(/maxLength/);
  });
});
