/**
 * The private tfjs-layers training API tfgpt uses (all in src/tfjs-training-internals.ts) is
 * still there: if a tfjs release moves it, this fails naming what moved and the version it was
 * checked against, before `fit` silently falls back or breaks.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { missingTrainingInternals, TFJS_CHECKED_VERSION } from "../src/tfjs-training-internals.js";
import "../src/register.js";

describe("tfjs training internals", () => {
  it(`are those of @tensorflow/tfjs-layers ${TFJS_CHECKED_VERSION}`, async () => {
    await tf.setBackend("cpu");
    const model = createGPT({ ...GPT_PRESETS.tiny, vocabSize: 11, contextLength: 4, embeddingDim: 8, numHeads: 2, numLayers: 1, seed: 0 });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: sparseCrossEntropyFromLogits });
    const missing = missingTrainingInternals(model);
    expect(
      missing,
      `tfjs ${tf.version_layers} lacks ${missing.join(", ")}; src/tfjs-training-internals.ts was checked against ${TFJS_CHECKED_VERSION}: update it (or pin tfjs back)`,
    ).toEqual([]);
    expect(tf.version_layers, `tfjs-layers ${tf.version_layers} installed; src/tfjs-training-internals.ts was checked against ${TFJS_CHECKED_VERSION}: check it and update TFJS_CHECKED_VERSION`).toBe(TFJS_CHECKED_VERSION);
    model.dispose();
  });

  it("no other source file reads a private tfjs field", () => {
    const dir = new URL("../src/", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "tfjs-training-internals.ts");
    const offenders = files.filter((f) => /collectedTrainableWeights|optimizer_\b|makeTrainFunction|_trainableWeights|_addedWeightNames|\.addWeight\s*=/.test(readFileSync(new URL(f, dir), "utf8")));
    expect(offenders).toEqual([]);
  });
});
