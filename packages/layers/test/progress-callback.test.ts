/** `progressCallback` (`@tfgpt/layers/node`): fitDataset and fit report steps of the whole run, loss, tokens/s and the epochs. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { adamW } from "../src/adamw.js";
import { progressCallback } from "../src/progress-callback-node.js";
import "../src/register.js";

const shape = { ...GPT_PRESETS.tiny, vocabSize: 23, contextLength: 8, embeddingDim: 8, numHeads: 2, numLayers: 1, seed: 0 };

function lines(): { write(s: string): void; text: () => string } {
  let out = "";
  return { write: (s) => void (out += s), text: () => out };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("progressCallback", () => {
  it("prints every step of fitDataset (2 epochs x 3 batches) with loss and tokens/s, and each epoch's logs", async () => {
    const model = createGPT(shape);
    model.compile({ optimizer: adamW({ learningRate: 1e-2 }), loss: sparseCrossEntropyFromLogits });
    const ds = tf.data.generator(function* () {
      for (let b = 0; b < 6; b++) {
        yield { xs: tf.tensor2d(Int32Array.from({ length: 16 }, (_, i) => (i + b) % 23), [2, 8], "int32"), ys: tf.tensor2d(Int32Array.from({ length: 16 }, (_, i) => (i + b + 1) % 23), [2, 8], "int32") };
      }
    });
    const stream = lines();
    await model.fitDataset(ds, { epochs: 2, verbose: 0, batchesPerEpoch: 3, callbacks: [progressCallback({ stream, tokensPerBatch: 16, logEvery: 1 })] });
    const out = stream.text().trim().split("\n");
    expect(out.filter((l) => l.startsWith("step"))).toHaveLength(6);
    expect(out[0]).toMatch(/^step 1\/6  loss \d+\.\d{4}  [\d,]+ tok\/s  ETA /);
    expect(out).toContainEqual(expect.stringMatching(/^step 6\/6 /));
    expect(out.filter((l) => /^epoch [12]: loss \d+\.\d{4}$/.test(l))).toHaveLength(2);
    model.dispose();
  });

  it("counts fit's batches from samples and batchSize, and shows no rate without tokensPerBatch", async () => {
    const model = createGPT(shape);
    model.compile({ optimizer: adamW({ learningRate: 1e-2 }), loss: sparseCrossEntropyFromLogits });
    const xs = tf.tensor2d(Int32Array.from({ length: 40 }, (_, i) => i % 23), [5, 8], "int32");
    const ys = tf.tensor3d(Int32Array.from({ length: 40 }, (_, i) => (i + 1) % 23), [5, 8, 1], "int32");
    const stream = lines();
    await model.fit(xs, ys, { epochs: 1, batchSize: 2, verbose: 0, callbacks: [progressCallback({ stream, logEvery: 1 })] });
    const steps = stream.text().split("\n").filter((l) => l.startsWith("step"));
    expect(steps.map((l) => l.split("  ")[0])).toEqual(["step 1/3", "step 2/3", "step 3/3"]);
    expect(steps[0]).not.toMatch(/tok\/s/);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
