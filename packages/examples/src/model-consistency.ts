/**
 * A checkpoint's `model.json` (the tfjs topology) must describe the model its `state.json` says
 * was trained: a hand-edited `num_heads` would otherwise load (the weights' shapes do not depend
 * on it) and silently compute something else.
 */
import { CliError } from "./errors.js";

/** Layer-config keys of the topology (snake case) and the model-config keys of `state.json` they must equal. */
const TOPOLOGY_KEYS: Readonly<Record<string, string>> = {
  vocab_size: "vocabSize",
  embedding_dim: "embeddingDim",
  num_heads: "numHeads",
  max_length: "contextLength",
  qkv_bias: "qkvBias",
  dropout: "dropout",
};

interface TopologyLayer {
  readonly name?: unknown;
  readonly class_name?: unknown;
  readonly config?: Record<string, unknown>;
}

/**
 * Checks the layer configs of `topology` against `model` (the `model` of `state.json`): every key
 * of {@link TOPOLOGY_KEYS} present on both sides, and the number of transformer blocks against
 * `numLayers`.
 *
 * @throws CliError naming the checkpoint, the layer, the key and both values.
 */
export function checkTopologyAgainstState(dir: string, topology: Record<string, unknown>, model: Record<string, unknown>): void {
  const config = topology.config as { layers?: unknown } | undefined;
  const layers = Array.isArray(config?.layers) ? (config.layers as TopologyLayer[]) : [];
  let blocks = 0;
  for (const layer of layers) {
    if (layer.class_name === "TransformerBlock") blocks++;
    for (const [snake, camel] of Object.entries(TOPOLOGY_KEYS)) {
      const saved = layer.config?.[snake];
      const expected = model[camel];
      if (saved === undefined || expected === undefined || saved === expected) continue;
      throw new CliError(
        `checkpoint ${dir} is inconsistent: model.json layer ${String(layer.name)} has ${snake} ${JSON.stringify(saved)}, state.json says ${camel} ${JSON.stringify(expected)}`,
      );
    }
  }
  const numLayers = model.numLayers;
  if (typeof numLayers === "number" && blocks > 0 && blocks !== numLayers) {
    throw new CliError(`checkpoint ${dir} is inconsistent: model.json has ${blocks} transformer blocks, state.json says numLayers ${numLayers}`);
  }
}
