import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import { applyLoRA } from "../src/lora.js";
import { referenceForward, referenceLoss } from "../src/reference-gpt.js";
import "../src/register.js";
import { BACKENDS, maxAbsDiff, useBackend } from "./backends.js";

const tiny = { ...GPT_PRESETS.tiny, vocabSize: 53, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 2, seed: 3 };

/** Weights moved off their initial values (biases 0, norms 1/0 would hide mistakes), deterministically. */
function perturb(model: tf.LayersModel): void {
  model.weights.forEach((w, i) => {
    const v = w.read();
    w.write(tf.tidy(() => tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 0.05, "float32", 100 + i), w.originalName.endsWith("/gamma") ? 4 : 1))));
  });
}

/** `{value, grads}` of a loss, grads by weight path. */
function gradsOf(model: tf.LayersModel, loss: () => tf.Scalar): { value: number; grads: Map<string, tf.Tensor> } {
  const { value, grads } = tf.variableGrads(loss, model.trainableWeights.map((w) => w.read() as tf.Variable));
  const byName = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of Object.entries(grads)) out.set(byName.get(name) ?? name, g);
  const v = value.dataSync()[0] as number;
  value.dispose();
  return { value: v, grads: out };
}

for (const backend of BACKENDS) {
  describe(`reference GPT on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    let x: tf.Tensor;
    let y: tf.Tensor;
    beforeAll(() => {
      x = tf.tensor2d([[1, 5, 52, 0, 7, 7], [3, 3, 3, 2, 1, 40]], [2, 6], "int32");
      y = tf.tensor2d([[5, 52, 0, 7, 7, 9], [3, 3, 2, 1, 40, 0]], [2, 6], "int32");
    });
    const ids = () => x;
    const targets = () => y;

    for (const qkvBias of [false, true]) {
      it(`gives the fast path's logits, loss and gradients (qkvBias ${qkvBias})`, () => {
        const model = createGPT({ ...tiny, qkvBias });
        perturb(model);
        const fast = model.predict(ids()) as tf.Tensor;
        const ref = referenceForward(model, ids());
        expect(ref.shape).toEqual([2, 6, 53]);
        expect(maxAbsDiff(fast, ref)).toBeLessThan(2e-5 * Math.max(1, tf.max(tf.abs(fast)).dataSync()[0] as number));

        const a = gradsOf(model, () => model.trainingLoss(ids(), targets()));
        const b = gradsOf(model, () => referenceLoss(model, ids(), targets()));
        expect(Math.abs(a.value - b.value)).toBeLessThan(1e-5);
        const meanLoss = model.meanLoss(ids(), targets());
        expect(a.value).toBeCloseTo(meanLoss.dataSync()[0] as number, 5);
        meanLoss.dispose();
        expect([...b.grads.keys()].sort()).toEqual([...a.grads.keys()].sort());
        expect(a.grads.size).toBe(model.trainableWeights.length);
        for (const [path, g] of a.grads) {
          const scale = Math.max(1e-3, tf.max(tf.abs(g)).dataSync()[0] as number);
          expect(maxAbsDiff(g, b.grads.get(path)!) / scale, path).toBeLessThan(1e-3);
        }
        for (const g of [...a.grads.values(), ...b.grads.values()]) g.dispose();
        // No tensors leak (counted after the first calls, which build the fast path's trunk model once).
        const before = tf.memory().numTensors;
        for (const g of gradsOf(model, () => referenceLoss(model, ids(), targets())).grads.values()) g.dispose();
        tf.dispose(referenceForward(model, ids()));
        expect(tf.memory().numTensors).toBe(before);
        model.dispose();
      });
    }

    it("reads LoRA adapters and an untied head", () => {
      const model = createGPT({ ...tiny, qkvBias: true, tieWeights: false });
      applyLoRA(model, { rank: 2, alpha: 4, targets: ["c_attn", "h1/mlp"], seed: 1 });
      perturb(model); // the B matrices start at zero: moved, the adapters change the output
      const fast = model.predict(ids()) as tf.Tensor;
      expect(maxAbsDiff(fast, referenceForward(model, ids()))).toBeLessThan(1e-4);
      model.dispose();
    });
  });
}
