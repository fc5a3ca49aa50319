/**
 * LoRA on a `createGPT` model (appendix E of "LLMs from scratch"): `applyLoRA` adds low-rank
 * adapters to the blocks' kernels chosen by name or pattern and freezes everything else;
 * `mergeLoRA` folds them into the kernels (then `savePretrained` writes a plain GPT-2); adapter
 * files hold the adapters alone, with the base model's identity, checked when they are loaded.
 * Browser-safe: files are bytes here; `@tfgpt/layers/node` adds directories.
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { paramSplit } from "./gpt-model.js";
import { countParams, parseGPTConfig, type GPTConfig, type GPTConfigInput } from "./gpt.js";
import { adapterWeightNames, isLoRAWeightName, LORA_KERNELS, loraKernelShape, type BlockLoRA, type LoRAKernel } from "./lora-linear.js";
import { gptConfigOfModel, weightsByPath } from "./pretrained.js";
import { bufferSource, decodeTensor, encodeSafetensors, readSafetensorsHeader, type NamedTensorData } from "./safetensors.js";
import { TransformerBlock } from "./transformer-block.js";

/** The adapter config file of a directory written by `saveAdapters`. */
export const ADAPTER_CONFIG_FILE = "adapter_config.json";
/** The adapter weights file of a directory written by `saveAdapters`. */
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";

/** Every adaptable kernel: attention qkv and output projection, MLP up and down projection. */
export const DEFAULT_LORA_TARGETS: readonly string[] = LORA_KERNELS;

/**
 * Options of `applyLoRA`:
 * - `rank`: r, the adapters' inner width. Required; at most the smaller side of every adapted kernel.
 * - `alpha`: the adapter's output is scaled by `alpha / rank`. Default: `rank` (scale 1).
 * - `dropout`: dropout on each adapter's input, in training only. Default 0.
 * - `targets`: which kernels, as paths or patterns over `h<i>/attn/c_attn`, `h<i>/attn/c_proj`,
 *   `h<i>/mlp/c_fc`, `h<i>/mlp/c_proj`. A target matches a kernel when its `/`-separated parts
 *   equal consecutive parts of the kernel's path, `*` matching within a part: `c_attn` (every
 *   block's qkv), `attn` (both attention kernels), `mlp/c_proj`, `h0` (block 0's four), `h1*`,
 *   `h11/attn/c_proj`. Each target must match at least one kernel. Default: all four kernels of
 *   every block.
 */
export const LoRAOptionsSchema = z.strictObject({
  rank: z.number().int().positive().describe("a positive integer"),
  alpha: z.number().positive().optional().describe("a positive number"),
  dropout: z.number().min(0).lt(1).default(0).describe("a number in [0, 1)"),
  targets: z.array(z.string().min(1)).min(1).default(() => [...DEFAULT_LORA_TARGETS]).describe("a non-empty list of kernel names or patterns"),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe("an integer in [0, 2^32)"),
});
/** What `applyLoRA` accepts. */
export type LoRAOptions = z.input<typeof LoRAOptionsSchema>;

/** Parameter counts of a model with adapters: adapter (trainable) and base (frozen). */
export interface LoRAParamCounts {
  readonly trainable: number;
  readonly frozen: number;
  readonly total: number;
}

function globToRegExp(part: string): RegExp {
  return new RegExp(`^${part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
}

function matchesPath(target: string, path: string): boolean {
  const want = target.split("/").map(globToRegExp);
  const parts = path.split("/");
  for (let start = 0; start + want.length <= parts.length; start++) {
    if (want.every((re, i) => re.test(parts[start + i] as string))) return true;
  }
  return false;
}

/**
 * The kernels `targets` name in a GPT of `numLayers` blocks, by block index.
 *
 * @throws LayerConfigError naming a target that matches no kernel.
 */
export function resolveLoRATargets(numLayers: number, targets: readonly string[] = DEFAULT_LORA_TARGETS): Map<number, LoRAKernel[]> {
  const result = new Map<number, LoRAKernel[]>();
  for (const target of targets) {
    let hits = 0;
    for (let i = 0; i < numLayers; i++) {
      for (const kernel of LORA_KERNELS) {
        if (!matchesPath(target, `h${i}/${kernel}`)) continue;
        hits++;
        const list = result.get(i) ?? [];
        if (!list.includes(kernel)) list.push(kernel);
        result.set(i, list);
      }
    }
    if (hits === 0) {
      throw new LayerConfigError(
        `LoRA target ${JSON.stringify(target)} names no layer: targets match the kernels h0..h${numLayers - 1} / ${LORA_KERNELS.join(", ")} (e.g. "c_attn", "attn", "mlp/c_proj", "h0")`,
        "targets",
      );
    }
  }
  for (const list of result.values()) list.sort((a, b) => LORA_KERNELS.indexOf(a) - LORA_KERNELS.indexOf(b));
  return result;
}

/** Options validated, defaults filled, targets resolved and ranks checked against `config`. */
function planLoRA(config: GPTConfig, options: LoRAOptions): { spec: Omit<BlockLoRA, "kernels">; targets: string[]; blocks: Map<number, LoRAKernel[]> } {
  const o = parseOptions(LoRAOptionsSchema, options, "LoRA");
  const targets = o.targets;
  const blocks = resolveLoRATargets(config.numLayers, targets);
  for (const [i, kernels] of blocks) {
    for (const kernel of kernels) {
      const [rows, cols] = loraKernelShape(kernel, config.embeddingDim);
      if (o.rank > Math.min(rows, cols)) {
        throw new LayerConfigError(
          `LoRA \`rank\` must be at most the smaller side of h${i}/${kernel} [${rows}, ${cols}] (${Math.min(rows, cols)}), received ${o.rank}`,
          "rank",
        );
      }
    }
  }
  return { spec: { rank: o.rank, alpha: o.alpha ?? o.rank, dropout: o.dropout }, targets, blocks };
}

/**
 * Parameters of a `config` GPT with LoRA `options`, without building it: `r (in + out)` per
 * adapted `[in, out]` kernel trainable, the base frozen. GPT-2 124M, rank 8 on all four kernels:
 * 1,179,648 trainable of 125,619,456.
 */
export function loraParamCounts(config: GPTConfigInput, options: LoRAOptions): LoRAParamCounts {
  const c = parseGPTConfig(config);
  const { spec, blocks } = planLoRA(c, options);
  let trainable = 0;
  for (const kernels of blocks.values()) {
    for (const kernel of kernels) {
      const [rows, cols] = loraKernelShape(kernel, c.embeddingDim);
      trainable += spec.rank * (rows + cols);
    }
  }
  const frozen = countParams(c);
  return { trainable, frozen, total: trainable + frozen };
}

function blocksOf(model: tf.LayersModel): TransformerBlock[] {
  return model.layers.filter((l): l is TransformerBlock => l instanceof TransformerBlock);
}

/** Whether `model` has LoRA adapters (not merged). */
export function hasLoRA(model: tf.LayersModel): boolean {
  return blocksOf(model).some((b) => b.lora !== null);
}

/** Trainable and frozen parameters of `model` as it will train (by its weights' `trainable` flags). */
export function trainableParamCounts(model: tf.LayersModel): LoRAParamCounts {
  const { trainable, frozen } = paramSplit(model);
  return { trainable, frozen, total: trainable + frozen };
}

/** Freezes every weight of `model` except the LoRA adapters (what a model with adapters trains). */
export function freezeBase(model: tf.LayersModel): void {
  for (const w of model.weights) w.trainable = isLoRAWeightName(w.originalName);
}

/** The user's targets of the last `applyLoRA` per model (recorded in adapter files). */
const appliedTargets = new WeakMap<tf.LayersModel, string[]>();
/** Base identities, computed once per model while its base is frozen. */
const identities = new WeakMap<tf.LayersModel, BaseIdentity>();

/**
 * Adds LoRA adapters to the kernels `options.targets` names (A initialised as the book does, B
 * zero, so the model computes exactly what it did) and freezes every other weight, the tied
 * head included. Compile the model afterwards (its trainable weights changed); the fused head +
 * loss keeps working. Everything is checked before the model is changed.
 *
 * @returns the trainable (adapter) and frozen (base) parameter counts.
 * @throws LayerConfigError for bad options, a target that names no layer, a rank larger than a
 *   kernel's smaller side, a model that is not a `createGPT` GPT or has adapters already.
 * @example
 * const model = await fromPretrained("gpt2-dir");
 * applyLoRA(model, { rank: 8, alpha: 16, targets: ["c_attn", "mlp"] });
 * model.compile({ optimizer: adamW({ learningRate: 1e-4 }), loss: sparseCrossEntropyFromLogits });
 */
export function applyLoRA(model: tf.LayersModel, options: LoRAOptions): LoRAParamCounts {
  const config = gptConfigOfModel(model);
  const { spec, targets, blocks } = planLoRA(config, options);
  if (hasLoRA(model)) throw new LayerConfigError(`model "${model.name}" has LoRA adapters already: mergeLoRA it first, or start from the base`, "model");
  const layers = blocksOf(model);
  for (const [i, kernels] of blocks) {
    const block = layers[i];
    if (block === undefined) throw new Error(`unreachable: no block h${i}`);
    // A seed makes every A a function of (seed, block): the same run twice starts from the same adapters.
    block.enableLoRA({ ...spec, kernels }, options.seed === undefined ? undefined : (options.seed + 7919 * i) >>> 0);
  }
  freezeBase(model);
  appliedTargets.set(model, targets);
  return trainableParamCounts(model);
}

/**
 * Folds every adapter into its kernel (`W + (alpha/r) A @ B`), removes the adapters and makes
 * every weight trainable again: the model is a plain GPT computing the same logits (within float
 * rounding), which `savePretrained` writes as GPT-2. Compile again before training it.
 */
export function mergeLoRA(model: tf.LayersModel): tf.LayersModel {
  for (const block of blocksOf(model)) block.mergeLoRA();
  for (const w of model.weights) w.trainable = true;
  identities.delete(model);
  appliedTargets.delete(model);
  return model;
}

/** Which base model adapters belong to: its config and a hash of every base weight. */
export interface BaseIdentity {
  readonly config: GPTConfig;
  /** 64-bit hash (hex) of the base weights' names, shapes and float32 bits. */
  readonly weights: string;
}

function describeIdentity(id: BaseIdentity): string {
  const c = id.config;
  return `${c.numLayers} layers x ${c.embeddingDim} wide, ${c.numHeads} heads, vocab ${c.vocabSize}, context ${c.contextLength}${c.qkvBias ? ", qkv bias" : ""}, weights ${id.weights}`;
}

/**
 * The identity of `model`'s base (every weight but the adapters): its config and a hash of the
 * weights' names, shapes and values. Cached while the model has adapters (its base is frozen).
 */
export function baseIdentity(model: tf.LayersModel): BaseIdentity {
  const cached = identities.get(model);
  if (cached !== undefined) return cached;
  const config = gptConfigOfModel(model);
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  const mix = (word: number): void => {
    h1 = Math.imul(h1 ^ word, 0x01000193);
    h2 = Math.imul(h2 ^ word, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  };
  const entries = [...weightsByPath(model)].filter(([p]) => !isLoRAWeightName(p)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [p, variable] of entries) {
    for (let i = 0; i < p.length; i++) mix(p.charCodeAt(i));
    for (const d of variable.shape) mix(d ?? 0);
    const data = variable.read().dataSync() as Float32Array;
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < words.length; i++) mix(words[i] as number);
  }
  const hex = (h: number) => (h >>> 0).toString(16).padStart(8, "0");
  const identity = { config, weights: hex(h1) + hex(h2) };
  if (hasLoRA(model)) identities.set(model, identity);
  return identity;
}

/** The JSON of an adapter file set (`adapter_config.json`). */
export const AdapterConfigSchema = z.object({
  format: z.literal("tfgpt-lora"),
  version: z.literal(1),
  rank: z.number().int().positive(),
  alpha: z.number().positive(),
  dropout: z.number().min(0).lt(1),
  /** The targets as given to `applyLoRA`. */
  targets: z.array(z.string()),
  /** The adapted kernels (`h0/attn/c_attn`, ...): tensors `<kernel>/lora_a` `[in, r]` and `<kernel>/lora_b` `[r, out]`. */
  kernels: z.array(z.string().regex(/^h\d+\/(attn\/c_attn|attn\/c_proj|mlp\/c_fc|mlp\/c_proj)$/)).min(1),
  base: z.object({ config: z.record(z.string(), z.unknown()), weights: z.string() }),
});
export type AdapterConfig = z.infer<typeof AdapterConfigSchema>;

/**
 * The adapters of `model` alone, as files: `adapter_config.json` text (rank, alpha, dropout, the
 * adapted kernels, the base's identity) and `adapter_model.safetensors` bytes (chunks). GPT-2
 * 124M with rank 8 on every kernel: 4.7 MB instead of 498 MB.
 *
 * @throws LayerConfigError when the model has no adapters.
 */
export function toAdapterFiles(model: tf.LayersModel): { config: string; weights: Uint8Array[] } {
  const blocks = blocksOf(model);
  const first = blocks.find((b) => b.lora !== null)?.lora;
  if (first == null) throw new LayerConfigError(`model "${model.name}" has no LoRA adapters to save`, "model");
  const tensors: NamedTensorData[] = [];
  const kernels: string[] = [];
  blocks.forEach((block, i) => {
    for (const [kernel, vars] of block.adapterVariables()) {
      const path = `h${i}/${kernel}`;
      kernels.push(path);
      for (const [suffix, v] of [["lora_a", vars.a], ["lora_b", vars.b]] as const) {
        tensors.push({ name: `${path}/${suffix}`, shape: v.shape as number[], data: v.read().dataSync() as Float32Array });
      }
    }
  });
  const identity = baseIdentity(model);
  const config: AdapterConfig = {
    format: "tfgpt-lora",
    version: 1,
    rank: first.rank,
    alpha: first.alpha,
    dropout: first.dropout,
    targets: appliedTargets.get(model) ?? kernels,
    kernels,
    base: { config: { ...identity.config }, weights: identity.weights },
  };
  return { config: `${JSON.stringify(config, null, 2)}\n`, weights: encodeSafetensors(tensors, { format: "tfgpt-lora" }) };
}

/**
 * Loads adapters written by `toAdapterFiles` / `saveAdapters` onto `model`, a plain GPT that must
 * be the base they were trained on (same config and the same weights, by hash): adds them as
 * `applyLoRA` does, with their values. Everything is checked before the model is changed.
 *
 * @throws LayerConfigError for a different base (naming both identities), a model with adapters
 *   already, or a malformed file (missing or mis-shaped tensor, bad config).
 */
export async function loadAdapters(
  model: tf.LayersModel,
  files: { config: string | object; weights: ArrayBuffer | ArrayBufferView },
  names: { config: string; weights: string } = { config: ADAPTER_CONFIG_FILE, weights: ADAPTER_WEIGHTS_FILE },
): Promise<LoRAParamCounts> {
  let json: unknown = files.config;
  if (typeof json === "string") {
    try {
      json = JSON.parse(json);
    } catch (error) {
      throw new LayerConfigError(`${names.config}: not valid JSON (${(error as Error).message})`, "config");
    }
  }
  const parsed = AdapterConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LayerConfigError(`${names.config}: \`${issue?.path.join(".") ?? ""}\` ${issue?.message ?? "is invalid"} (not a tfgpt LoRA adapter config)`, "config");
  }
  const adapter = parsed.data;
  if (hasLoRA(model)) throw new LayerConfigError(`model "${model.name}" has LoRA adapters already: load adapters onto the plain base model`, "model");
  const saved: BaseIdentity = { config: parseGPTConfig(adapter.base.config as GPTConfigInput), weights: adapter.base.weights };
  const mine = baseIdentity(model);
  if (JSON.stringify(saved.config) !== JSON.stringify(mine.config) || saved.weights !== mine.weights) {
    throw new LayerConfigError(
      `${names.config}: these adapters were trained on another base model: theirs is ${describeIdentity(saved)}; this model is ${describeIdentity(mine)}`,
      "base",
    );
  }
  const source = bufferSource(files.weights);
  const header = await readSafetensorsHeader(source, names.weights);
  const values: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const kernelPath of adapter.kernels) {
    const [block, ...rest] = kernelPath.split("/");
    const kernel = rest.join("/") as LoRAKernel;
    const i = Number((block as string).slice(1));
    if (i >= mine.config.numLayers) throw new LayerConfigError(`${names.config}: kernel ${kernelPath} is not in a ${mine.config.numLayers}-layer model`, "kernels");
    const [rows, cols] = loraKernelShape(kernel, mine.config.embeddingDim);
    const w = adapterWeightNames(kernel);
    for (const [name, shape] of [
      [`h${i}/${w.a}`, [rows, adapter.rank]],
      [`h${i}/${w.b}`, [adapter.rank, cols]],
    ] as const) {
      const entry = header.entries.get(name);
      if (entry === undefined) throw new LayerConfigError(`${names.weights}: missing tensor "${name}" (expected shape [${shape.join(", ")}])`, "weights");
      if (entry.shape.length !== 2 || entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
        throw new LayerConfigError(`${names.weights}: tensor "${name}" has shape [${entry.shape.join(", ")}], expected [${shape.join(", ")}]`, "weights");
      }
      const bytes = await source.read(entry.begin, entry.end - entry.begin);
      values.push({ name, shape: [...shape], data: decodeTensor(entry, bytes, names.weights) });
    }
  }
  const counts = applyLoRA(model, { rank: adapter.rank, alpha: adapter.alpha, dropout: adapter.dropout, targets: adapter.kernels });
  appliedTargets.set(model, adapter.targets);
  identities.set(model, mine);
  const weights = weightsByPath(model);
  for (const v of values) {
    const variable = weights.get(v.name);
    if (variable === undefined) throw new Error(`unreachable: applyLoRA made no weight ${v.name}`);
    tf.tidy(() => {
      variable.write(tf.tensor2d(v.data, v.shape as [number, number]));
    });
  }
  return counts;
}
