/** The step-memory check (activations included) and the model.json vs state.json check. */
import { describe, expect, it } from "vitest";
import { checkStepMemory, estimateStepMemory, WASM_STEP_LIMIT } from "../src/memory-check.js";
import { checkTopologyAgainstState } from "../src/model-consistency.js";

const tiny = { params: 3_500_000, embeddingDim: 64, numHeads: 2, numLayers: 2, dropout: 0, vocabSize: 50257 };

describe("step memory", () => {
  it("counts attention as O(T^2) a head and the head's [tokens, V]", () => {
    const m = estimateStepMemory({ ...tiny, batchSize: 1, context: 12000 });
    const scores = 4 * 2 * 12000 ** 2; // one [B*H, T, T] float32 tensor
    expect(m.attention).toBe(scores * (2 * 3 + 2) + scores);
    expect(m.head).toBe(4 * 12000 * 50257 * 2);
    expect(m.total).toBe(m.state + m.attention + m.blocks + m.head);
    // Doubling the context quadruples attention.
    expect(estimateStepMemory({ ...tiny, batchSize: 1, context: 24000 }).attention).toBe(4 * m.attention);
  });

  it("refuses --context 12000 on wasm with the numbers, and passes the CLI defaults", () => {
    expect(() => checkStepMemory({ ...tiny, batchSize: 1, context: 12000 }, "wasm", "--context 12000 --batch-size 1")).toThrow(
      /^--context 12000 --batch-size 1: one training step needs about 14\.3 GiB, more than the wasm backend .*attention 9\.7 GiB \(2 layers x 2 heads x 12000\^2\), head 4\.5 GiB \(\[12000 tokens, 50257\]\)/,
    );
    expect(checkStepMemory({ ...tiny, batchSize: 8, context: 64 }, "wasm", "").total).toBeLessThan(WASM_STEP_LIMIT / 10);
    expect(() => checkStepMemory({ ...tiny, batchSize: 64, context: 4096 }, "cpu", "x", 16 * 2 ** 30)).toThrow("more than this machine's memory (16.0 GiB)");
    expect(checkStepMemory({ ...tiny, batchSize: 64, context: 4096 }, "webgl", "x").total).toBeGreaterThan(0); // unknown limit: not refused
  });
});

describe("model.json against state.json", () => {
  const topology = (heads: number, blocks = 2) => ({
    class_name: "GPTModel",
    config: {
      layers: [
        { name: "wte", class_name: "TokenEmbedding", config: { vocab_size: 257, embedding_dim: 64 } },
        ...Array.from({ length: blocks }, (_, i) => ({ name: `h${i}`, class_name: "TransformerBlock", config: { embedding_dim: 64, num_heads: heads } })),
      ],
    },
  });
  const state = { vocabSize: 257, embeddingDim: 64, numHeads: 2, numLayers: 2 };

  it("accepts a consistent pair and names the layer, key and both values otherwise", () => {
    expect(() => checkTopologyAgainstState("ck", topology(2), state)).not.toThrow();
    expect(() => checkTopologyAgainstState("ck", topology(4), state)).toThrow(
      "checkpoint ck is inconsistent: model.json layer h0 has num_heads 4, state.json says numHeads 2",
    );
    expect(() => checkTopologyAgainstState("ck", topology(2, 3), state)).toThrow("model.json has 3 transformer blocks, state.json says numLayers 2");
  });
});
