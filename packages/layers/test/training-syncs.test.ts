/**
 * A training step must not read tensors back to the host (on a GPU each read is a stall): the id
 * checks use the range recorded when the batch was uploaded, the head + loss choose their exact
 * path on the device. Counted on the backend's `readSync` / `read` around `fitDataset`.
 */
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { adamW } from "../src/adamw.js";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import type { GPTModel } from "../src/gpt-model.js";
import { idsTensor } from "../src/id-range.js";
import { sparseCrossEntropyFromLogits } from "../src/losses.js";
import { checkIds } from "../src/token-embedding.js";
import { LayerConfigError } from "../src/errors.js";
import "../src/register.js";
import { BACKENDS, useBackend } from "./backends.js";

const small = { ...GPT_PRESETS.tiny, vocabSize: 97, contextLength: 8, embeddingDim: 16, numHeads: 2, numLayers: 1, dropout: 0.1 };

/** `count` batches of 4 x 8 ids made from host arrays (their ranges recorded), as a data loader yields them. */
function dataset(count: number): tf.data.Dataset<tf.TensorContainer> {
  return tf.data.generator(function* () {
    for (let b = 0; b < count; b++) {
      const xs = Int32Array.from({ length: 32 }, (_, i) => (i * 7 + b * 3) % 97);
      const ys = Int32Array.from({ length: 32 }, (_, i) => (i * 7 + b * 3 + 1) % 97);
      yield { xs: idsTensor(xs, [4, 8]), ys: idsTensor(ys, [4, 8]) };
    }
  });
}

/**
 * Host reads while `run` runs: every read of a tensor (`dataSync`, `data`, `arraySync`, `array`,
 * `bufferSync`, `buffer`), and on tensorflow also every read by a kernel (the backend's `readSync`
 * and `read`: tfjs-node's GatherV2 reads its indices). On cpu and wasm, kernels read the host
 * memory the data already lives in; those reads are not synchronisations.
 */
async function readsDuring(run: () => Promise<unknown>): Promise<number> {
  const proto = tf.Tensor.prototype;
  const spies: Array<{ mock: { calls: unknown[] } }> = (["dataSync", "data", "arraySync", "array", "bufferSync", "buffer"] as const).map((m) => vi.spyOn(proto, m));
  if (tf.getBackend() === "tensorflow") spies.push(vi.spyOn(tf.backend(), "readSync"), vi.spyOn(tf.backend(), "read"));
  await run();
  const reads = spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
  vi.restoreAllMocks();
  return reads;
}

describe.each(BACKENDS)("training steps on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterEach(() => vi.restoreAllMocks());

  it("read nothing back per step on the tfjs-ops head (the GPU path): fitDataset of 5 batches reads as often as of 2", async () => {
    const model = createGPT(small) as GPTModel;
    model.headImplementation = "tfjs"; // what "auto" picks on tensorflow and the GPU backends
    model.compile({ optimizer: adamW({ learningRate: 1e-2 }), loss: sparseCrossEntropyFromLogits });
    const fit = (batches: number) => () => model.fitDataset(dataset(batches), { epochs: 1, batchesPerEpoch: batches, verbose: 0 });
    await fit(1)(); // warm-up: the train function is made, weights and optimizer slots created
    const two = await readsDuring(fit(2));
    const five = await readsDuring(fit(5));
    expect(model.fusedSteps).toBe(8);
    // Reads at the epoch's end (the logged loss) only: none per step.
    expect((five - two) / 3).toBe(0);
    // The epoch's loss, read once: data(), on tensorflow also counted as the backend's read and readSync.
    expect(two).toBeLessThanOrEqual(3);
    model.dispose();
  });

  it("checks a recorded range without reading the ids, and still refuses a bad id", async () => {
    const ok = idsTensor(Int32Array.from([0, 5, 96]), [3]);
    expect(await readsDuring(async () => checkIds(ok, 97))).toBe(0);
    const bad = idsTensor(Int32Array.from([0, 97, 3]), [3]);
    expect(() => checkIds(bad, 97, "label")).toThrow(LayerConfigError);
    expect(() => checkIds(bad, 97, "label")).toThrow(/label 97 \(at flat position 1\) is out of range: ids must be integers in \[0, 97\)/);
    const negative = idsTensor(Int32Array.from([4, -1]), [1, 2]);
    expect(() => checkIds(negative, 97)).toThrow(/token id -1 \(at flat position 1\)/);
    // A tensor without a recorded range is read and checked as before.
    expect(() => checkIds(tf.tensor1d([1, 200], "int32"), 97)).toThrow(/token id 200 \(at flat position 1\)/);
    tf.dispose([ok, bad, negative]);
  });
});
