/**
 * Hugging Face GPT-2 checkpoints <-> `createGPT` models: the config mapping (`config.json` <->
 * `GPTConfig`), the one table that maps weight names, and loading/saving through safetensors.
 * Browser-safe: the bytes come from `ByteSource`s; `@tfgpt/layers/node` adds directories.
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError } from "./errors.js";
import { countParams, createGPT, parseGPTConfig, type GPTConfig } from "./gpt.js";
import type { GPTModel } from "./gpt-model.js";
import { isLoRAWeightName } from "./lora-linear.js";
import { PositionalEmbedding } from "./positional-embedding.js";
import {
  blobSource,
  bufferSource,
  decodeTensor,
  DECODABLE_DTYPES,
  encodeSafetensors,
  readSafetensorsHeader,
  type ByteSource,
  type NamedTensorData,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from "./safetensors.js";
import { TokenEmbedding } from "./token-embedding.js";
import { TransformerBlock } from "./transformer-block.js";

/** The weights file of an unsharded Hugging Face checkpoint. */
export const HF_WEIGHTS_FILE = "model.safetensors";
/** The index of a sharded Hugging Face checkpoint (`weight_map`: tensor name -> shard file). */
export const HF_INDEX_FILE = "model.safetensors.index.json";
/** The config of a Hugging Face checkpoint. */
export const HF_CONFIG_FILE = "config.json";

/**
 * Weights a model of this many float32 bytes may have on the `wasm` backend: tfjs-wasm keeps
 * every tensor in one WebAssembly heap (32-bit, at most 4 GiB, shared with activations and
 * copies made while loading). `gpt2` (0.5 GB) and `gpt2-medium` (1.4 GB) fit; `gpt2-large`
 * (3.1 GB) and `gpt2-xl` (6.2 GB) do not.
 */
export const WASM_WEIGHTS_LIMIT = 2 ** 31;

/**
 * The parts of a GPT-2 `config.json` that tfgpt reads. Options tfgpt cannot express are checked
 * to hold GPT-2's values (`checkExpressible`); unknown keys are ignored.
 */
const HFConfigSchema = z.looseObject({
  model_type: z.string().optional(),
  vocab_size: z.number().int().positive(),
  n_positions: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullable().optional(),
  activation_function: z.string().optional(),
  resid_pdrop: z.number().min(0).lt(1).optional(),
  embd_pdrop: z.number().min(0).lt(1).optional(),
  attn_pdrop: z.number().min(0).lt(1).optional(),
  layer_norm_epsilon: z.number().positive().optional(),
  scale_attn_weights: z.boolean().optional(),
  scale_attn_by_inverse_layer_idx: z.boolean().optional(),
  add_cross_attention: z.boolean().optional(),
  tie_word_embeddings: z.boolean().optional(),
  bos_token_id: z.number().int().nullable().optional(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
});

/** A GPT-2 `config.json` read into a `GPTConfig`, with the special ids it names. */
export interface PretrainedConfig {
  readonly config: GPTConfig;
  /** `eos_token_id` (the first, when a list), if the file has one inside the vocabulary. */
  readonly eosTokenId: number | undefined;
  /** `bos_token_id`, if the file has one inside the vocabulary. */
  readonly bosTokenId: number | undefined;
}

/**
 * Maps a Hugging Face GPT-2 `config.json` onto a `GPTConfig` (`n_embd` -> `embeddingDim`,
 * `n_positions` -> `contextLength`, ..., `qkvBias: true`).
 *
 * @param file The config's name, for messages.
 * @throws LayerConfigError naming the file and the key for a model that is not GPT-2
 *   (`model_type`) or a GPT-2 option tfgpt cannot express (e.g. `scale_attn_by_inverse_layer_idx`,
 *   another activation, another `n_inner`, unequal dropout rates).
 */
export function gptConfigFromHF(json: unknown, file = HF_CONFIG_FILE): PretrainedConfig {
  const parsed = HFConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.map(String).join(".") ?? "";
    const received = key === "" ? json : (json as Record<string, unknown>)[key];
    throw new LayerConfigError(`${file}: \`${key}\` ${issue?.message ?? "is invalid"}, received ${JSON.stringify(received)}`, key);
  }
  const h = parsed.data;
  const refuse = (key: string, value: unknown, allowed: string): never => {
    throw new LayerConfigError(`${file}: \`${key}\` is ${JSON.stringify(value)}; tfgpt's GPT can only express ${allowed}`, key);
  };
  if (h.model_type !== undefined && h.model_type !== "gpt2") refuse("model_type", h.model_type, '"gpt2" (this is not a GPT-2 config)');
  if (h.n_inner != null && h.n_inner !== 4 * h.n_embd) refuse("n_inner", h.n_inner, `null or 4 * n_embd (${4 * h.n_embd})`);
  const act = h.activation_function ?? "gelu_new";
  if (!["gelu_new", "gelu_pytorch_tanh"].includes(act)) refuse("activation_function", act, '"gelu_new" (the tanh GELU) or "gelu_pytorch_tanh"');
  if ((h.layer_norm_epsilon ?? 1e-5) !== 1e-5) refuse("layer_norm_epsilon", h.layer_norm_epsilon, "1e-5");
  if (h.scale_attn_weights === false) refuse("scale_attn_weights", false, "true");
  if (h.scale_attn_by_inverse_layer_idx === true) refuse("scale_attn_by_inverse_layer_idx", true, "false");
  if (h.add_cross_attention === true) refuse("add_cross_attention", true, "false");
  const rates = [h.resid_pdrop ?? 0.1, h.embd_pdrop ?? 0.1, h.attn_pdrop ?? 0.1];
  if (rates.some((r) => r !== rates[0])) {
    refuse("resid_pdrop/embd_pdrop/attn_pdrop", rates, "one dropout rate for all three");
  }
  let config: GPTConfig;
  try {
    config = parseGPTConfig({
      vocabSize: h.vocab_size,
      contextLength: h.n_positions,
      embeddingDim: h.n_embd,
      numHeads: h.n_head,
      numLayers: h.n_layer,
      dropout: rates[0],
      qkvBias: true,
      tieWeights: h.tie_word_embeddings ?? true,
    });
  } catch (error) {
    throw new LayerConfigError(`${file}: ${(error as Error).message}`, (error as LayerConfigError).option);
  }
  const inVocab = (id: number | null | undefined) => (id != null && id >= 0 && id < h.vocab_size ? id : undefined);
  const eos = Array.isArray(h.eos_token_id) ? h.eos_token_id[0] : h.eos_token_id;
  return { config, eosTokenId: inVocab(eos), bosTokenId: inVocab(h.bos_token_id) };
}

/** Options of `hfConfigFromGPT` / `savePretrained`. */
export interface HFConfigOptions {
  /** `eos_token_id` (and `bos_token_id`). Default: 50,256 (`<|endoftext|>`) when the vocabulary is GPT-2's 50,257; else none. */
  eosTokenId?: number | undefined;
}

/** The `config.json` of a `GPTConfig` as transformers' `GPT2Config` writes it (`GPT2LMHeadModel`). */
export function hfConfigFromGPT(config: GPTConfig, options: HFConfigOptions = {}): Record<string, unknown> {
  const eos = options.eosTokenId ?? (config.vocabSize === 50257 ? 50256 : null);
  return {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: config.vocabSize,
    n_positions: config.contextLength,
    n_embd: config.embeddingDim,
    n_layer: config.numLayers,
    n_head: config.numHeads,
    n_inner: null,
    activation_function: "gelu_new",
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: config.dropout,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    add_cross_attention: false,
    tie_word_embeddings: config.tieWeights,
    bos_token_id: eos,
    eos_token_id: eos,
    use_cache: true,
    dtype: "float32",
  };
}

/** One row of the name table: a Hugging Face tensor and the tfgpt weight (layer path) it fills. */
export interface WeightMapping {
  /** Hugging Face name, without the `transformer.` prefix (`h.0.attn.c_attn.weight`). */
  readonly hf: string;
  /** tfgpt weight path: layer name / weight name (`h0/attn/c_attn/kernel`), without tfjs's `_1` suffixes. */
  readonly path: string;
  readonly shape: readonly number[];
}

/**
 * THE name table: every tensor of a GPT-2 checkpoint and the tfgpt weight it maps to, in file
 * order. HF's `Conv1D` weights are `[in, out]` like tfgpt's kernels, so no tensor is transposed.
 * A model without qkv bias (`gpt2-small`) has no `c_attn` bias row (`savePretrained` writes zeros);
 * an untied head adds `lm_head.weight`.
 */
export function gpt2WeightTable(config: GPTConfig): WeightMapping[] {
  const C = config.embeddingDim;
  const rows: WeightMapping[] = [
    { hf: "wte.weight", path: "wte/embeddings", shape: [config.vocabSize, C] },
    { hf: "wpe.weight", path: "wpe/embeddings", shape: [config.contextLength, C] },
  ];
  for (let i = 0; i < config.numLayers; i++) {
    const hf = `h.${i}.`;
    const tf = `h${i}/`;
    rows.push(
      { hf: `${hf}ln_1.weight`, path: `${tf}ln_1/gamma`, shape: [C] },
      { hf: `${hf}ln_1.bias`, path: `${tf}ln_1/beta`, shape: [C] },
      { hf: `${hf}attn.c_attn.weight`, path: `${tf}attn/c_attn/kernel`, shape: [C, 3 * C] },
      ...(config.qkvBias ? [{ hf: `${hf}attn.c_attn.bias`, path: `${tf}attn/c_attn/bias`, shape: [3 * C] }] : []),
      { hf: `${hf}attn.c_proj.weight`, path: `${tf}attn/c_proj/kernel`, shape: [C, C] },
      { hf: `${hf}attn.c_proj.bias`, path: `${tf}attn/c_proj/bias`, shape: [C] },
      { hf: `${hf}ln_2.weight`, path: `${tf}ln_2/gamma`, shape: [C] },
      { hf: `${hf}ln_2.bias`, path: `${tf}ln_2/beta`, shape: [C] },
      { hf: `${hf}mlp.c_fc.weight`, path: `${tf}mlp/c_fc/kernel`, shape: [C, 4 * C] },
      { hf: `${hf}mlp.c_fc.bias`, path: `${tf}mlp/c_fc/bias`, shape: [4 * C] },
      { hf: `${hf}mlp.c_proj.weight`, path: `${tf}mlp/c_proj/kernel`, shape: [4 * C, C] },
      { hf: `${hf}mlp.c_proj.bias`, path: `${tf}mlp/c_proj/bias`, shape: [C] },
    );
  }
  rows.push({ hf: "ln_f.weight", path: "ln_f/gamma", shape: [C] }, { hf: "ln_f.bias", path: "ln_f/beta", shape: [C] });
  if (!config.tieWeights) rows.push({ hf: "lm_head.weight", path: "lm_head/embeddings", shape: [config.vocabSize, C] });
  return rows;
}

/** HF names that are buffers, not weights (older files carry the causal mask): skipped when present. */
const IGNORED_HF_TENSOR = /^h\.\d+\.attn\.(bias|masked_bias)$/;

/** A HF tensor name without the `transformer.` prefix of `GPT2LMHeadModel` files. */
function bareName(name: string): string {
  return name.startsWith("transformer.") ? name.slice("transformer.".length) : name;
}

/** The weights of a model by layer path (`h0/ln_1/gamma`), whatever `_N` suffix tfjs gave their variables. */
export function weightsByPath(model: tf.LayersModel): Map<string, tf.LayerVariable> {
  const map = new Map<string, tf.LayerVariable>();
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const scoped = weight.originalName;
      // originalName is "<layer>/<weight>" with the layer's own name: rebuild it from the
      // layer's name so a model built under a name scope maps the same.
      const at = scoped.lastIndexOf(`${layer.name}/`);
      const local = at < 0 ? scoped : scoped.slice(at + layer.name.length + 1);
      map.set(`${layer.name}/${local}`, weight);
    }
  }
  return map;
}

/**
 * The `GPTConfig` of a model built by `createGPT`, read from its layers.
 *
 * @throws LayerConfigError when the model is not a `createGPT` GPT (no `wte`/`wpe`/`h0`... layers).
 */
export function gptConfigOfModel(model: tf.LayersModel): GPTConfig {
  const layer = (name: string) => model.layers.find((l) => l.name === name);
  const wte = layer("wte");
  const wpe = layer("wpe");
  const blocks = model.layers.filter((l): l is TransformerBlock => l instanceof TransformerBlock);
  const first = blocks[0];
  if (!(wte instanceof TokenEmbedding) || !(wpe instanceof PositionalEmbedding) || wpe.kind !== "learned" || first === undefined) {
    throw new LayerConfigError(`model "${model.name}" is not a GPT built by createGPT (needs layers wte, wpe with learned positions, h0, ...)`, "model");
  }
  if (blocks.some((b) => b.layerNormEpsilon !== 1e-5)) throw new LayerConfigError("GPT-2 checkpoints need LayerNorm epsilon 1e-5", "model");
  return parseGPTConfig({
    vocabSize: wte.vocabSize,
    contextLength: wpe.maxLength,
    embeddingDim: wte.embeddingDim,
    numHeads: first.numHeads,
    numLayers: blocks.length,
    dropout: first.dropout,
    qkvBias: first.qkvBias,
    tieWeights: layer("lm_head") === undefined,
  });
}

/** One safetensors file of a checkpoint: its name, its bytes and its checked header. */
export interface CheckpointShard {
  readonly file: string;
  readonly source: ByteSource;
  readonly header: SafetensorsHeader;
}

/** Options of `loadPretrainedWeights` / `fromPretrained`. */
export interface FromPretrainedOptions {
  /**
   * Largest model (float32 bytes of weights) to build on the active backend, checked before
   * anything is allocated. Default: `WASM_WEIGHTS_LIMIT` on `wasm`, no limit elsewhere.
   */
  maxWeightBytes?: number;
}

/**
 * Checks every tensor of `shards` against the name table of `config` without reading any data:
 * each expected tensor present once with the expected shape and a dtype that decodes to float32,
 * no tensor left over (buffers such as `h.N.attn.bias` and a tied `lm_head.weight` aside).
 *
 * @returns where each table row's tensor lives.
 * @throws LayerConfigError naming the file, the tensor and both shapes.
 */
export function locateWeights(config: GPTConfig, shards: readonly CheckpointShard[]): Map<WeightMapping, { shard: CheckpointShard; entry: SafetensorsEntry }> {
  const found = new Map<string, { shard: CheckpointShard; entry: SafetensorsEntry }>();
  for (const shard of shards) {
    for (const entry of shard.header.entries.values()) {
      const name = bareName(entry.name);
      const before = found.get(name);
      if (before !== undefined) {
        throw new LayerConfigError(`tensor "${name}" is in both ${before.shard.file} and ${shard.file}`, "weights");
      }
      found.set(name, { shard, entry });
    }
  }
  const located = new Map<WeightMapping, { shard: CheckpointShard; entry: SafetensorsEntry }>();
  const table = gpt2WeightTable(config);
  const files = shards.map((s) => s.file).join(", ");
  for (const row of table) {
    const hit = found.get(row.hf);
    if (hit === undefined) throw new LayerConfigError(`${files}: missing tensor "${row.hf}" (expected shape [${row.shape.join(", ")}])`, "weights");
    const shape = hit.entry.shape;
    if (shape.length !== row.shape.length || shape.some((d, i) => d !== row.shape[i])) {
      throw new LayerConfigError(
        `${hit.shard.file}: tensor "${hit.entry.name}" has shape [${shape.join(", ")}], expected [${row.shape.join(", ")}] (from the config)`,
        "weights",
      );
    }
    if (!(DECODABLE_DTYPES as readonly string[]).includes(hit.entry.dtype)) {
      throw new LayerConfigError(
        `${hit.shard.file}: tensor "${hit.entry.name}" has dtype ${hit.entry.dtype}; only ${DECODABLE_DTYPES.join(", ")} can be loaded (as float32)`,
        "dtype",
      );
    }
    located.set(row, hit);
    found.delete(row.hf);
  }
  if (config.tieWeights) {
    const head = found.get("lm_head.weight");
    if (head !== undefined && head.entry.shape.join() === table[0]?.shape.join()) found.delete("lm_head.weight");
  }
  const extra = [...found.entries()].filter(([name]) => !IGNORED_HF_TENSOR.test(name));
  if (extra.length > 0) {
    const [name, { shard, entry }] = extra[0] as [string, { shard: CheckpointShard; entry: SafetensorsEntry }];
    throw new LayerConfigError(
      `${shard.file}: unexpected tensor "${entry.name}" [${entry.shape.join(", ")}]` +
        `${extra.length > 1 ? ` and ${extra.length - 1} more` : ""}: a GPT-2 with this config has no weight "${name}"`,
      "weights",
    );
  }
  return located;
}

function showBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Throws before anything is allocated when `config`'s weights exceed what the active backend holds. */
export function checkBackendCapacity(config: GPTConfig, maxWeightBytes?: number): void {
  const limit = maxWeightBytes ?? (tf.getBackend() === "wasm" ? WASM_WEIGHTS_LIMIT : Infinity);
  const params = countParams(config);
  if (4 * params <= limit) return;
  throw new LayerConfigError(
    `a model of ${params.toLocaleString("en-US")} parameters needs ${showBytes(4 * params)} of float32 weights, ` +
      `more than the ${tf.getBackend()} backend holds (${showBytes(limit)}); ` +
      `use the tensorflow backend (@tensorflow/tfjs-node) or a smaller model`,
    "maxWeightBytes",
  );
}

/**
 * Builds the GPT of `configJson` and fills it from the checked `shards`. Everything is checked
 * before the model is built, and the model is disposed if a read fails, so nothing half-loaded
 * is ever returned.
 */
export async function loadPretrained(configJson: unknown, configFile: string, shards: readonly CheckpointShard[], options: FromPretrainedOptions = {}): Promise<GPTModel> {
  const { config } = gptConfigFromHF(configJson, configFile);
  const located = locateWeights(config, shards);
  checkBackendCapacity(config, options.maxWeightBytes);
  const model = createGPT(config, { initialize: "zeros" });
  try {
    const weights = weightsByPath(model);
    for (const [row, { shard, entry }] of located) {
      const variable = weights.get(row.path);
      if (variable === undefined) throw new Error(`unreachable: createGPT made no weight ${row.path}`);
      const bytes = await shard.source.read(entry.begin, entry.end - entry.begin);
      let data = decodeTensor(entry, bytes, shard.file);
      if (data.buffer.byteLength !== data.byteLength) data = data.slice(); // never keep a view of someone's larger buffer
      tf.tidy(() => {
        variable.write(tf.tensor(data, [...row.shape], "float32"));
      });
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/** The `weight_map` of a sharded checkpoint's index, checked. */
export function parseShardIndex(json: unknown, file = HF_INDEX_FILE): string[] {
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== "object" || map === null || Object.values(map).some((v) => typeof v !== "string" || v.includes("/") || v.includes("\\"))) {
    throw new LayerConfigError(`${file}: \`weight_map\` must map tensor names to shard file names in the same directory`, "weight_map");
  }
  return [...new Set(Object.values(map as Record<string, string>))].sort();
}

/** The tensors of a GPT in the name table's order, as float32 data (HF names with the `transformer.` prefix). */
export function pretrainedTensors(model: tf.LayersModel): { config: GPTConfig; tensors: NamedTensorData[] } {
  const config = gptConfigOfModel(model);
  const weights = weightsByPath(model);
  if ([...weights.keys()].some(isLoRAWeightName)) {
    throw new LayerConfigError(
      `model "${model.name}" has LoRA adapters, which a GPT-2 checkpoint cannot hold: mergeLoRA(model) first (or save the adapters alone with saveAdapters)`,
      "model",
    );
  }
  const tensors: NamedTensorData[] = [];
  for (const row of gpt2WeightTable({ ...config, qkvBias: true })) {
    const variable = weights.get(row.path);
    const name = row.hf === "lm_head.weight" ? row.hf : `transformer.${row.hf}`;
    // A model without qkv bias is a GPT-2 whose qkv bias is 0.
    const data = variable === undefined ? new Float32Array(row.shape.reduce((a, b) => a * b, 1)) : (variable.read().dataSync() as Float32Array);
    tensors.push({ name, shape: row.shape, data });
  }
  return { config, tensors };
}

/**
 * Splits tensors into shards of at most `maxShardBytes` data bytes each (a tensor larger than
 * that gets a shard of its own), named as transformers names them.
 */
export function planShards(tensors: readonly NamedTensorData[], maxShardBytes: number): { file: string; tensors: NamedTensorData[] }[] {
  const groups: NamedTensorData[][] = [];
  let current: NamedTensorData[] = [];
  let bytes = 0;
  for (const t of tensors) {
    if (current.length > 0 && bytes + t.data.byteLength > maxShardBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += t.data.byteLength;
  }
  if (current.length > 0) groups.push(current);
  if (groups.length === 1) return [{ file: HF_WEIGHTS_FILE, tensors: groups[0] as NamedTensorData[] }];
  const n = String(groups.length).padStart(5, "0");
  return groups.map((g, i) => ({ file: `model-${String(i + 1).padStart(5, "0")}-of-${n}.safetensors`, tensors: g }));
}

/** The index file of `planShards`'s shards. */
export function shardIndex(shards: readonly { file: string; tensors: readonly NamedTensorData[] }[]): Record<string, unknown> {
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const s of shards) {
    for (const t of s.tensors) {
      weightMap[t.name] = s.file;
      total += t.data.byteLength;
    }
  }
  return { metadata: { total_size: total }, weight_map: weightMap };
}

/** Where a browser `fromPretrained` reads a checkpoint: a base URL (a directory), or the files' contents. */
export type PretrainedSource =
  | string
  | URL
  | {
      /** `config.json`: its text, its parsed object, or a `Blob`. */
      readonly config: string | object | Blob;
      /** `model.safetensors`: an `ArrayBuffer` (or view) or a `Blob` (e.g. a `File` from an `<input>`). */
      readonly weights: ArrayBuffer | ArrayBufferView | Blob;
    };

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new LayerConfigError(`${url}: HTTP ${response.status} ${response.statusText}`, "source");
  return response;
}

/**
 * Loads a Hugging Face GPT-2 checkpoint in any JavaScript runtime (the browser page uses this):
 * from a base URL holding `config.json` and `model.safetensors` (or a sharded
 * `model.safetensors.index.json` and its shards), or from the files' contents. Node users with a
 * directory use `fromPretrained` of `@tfgpt/layers/node`.
 *
 * @example
 * const model = await fromPretrained("https://huggingface.co/openai-community/gpt2/resolve/main");
 * const model2 = await fromPretrained({ config: configText, weights: await file.arrayBuffer() });
 */
export async function fromPretrained(source: PretrainedSource, options: FromPretrainedOptions = {}): Promise<GPTModel> {
  if (typeof source === "string" || source instanceof URL) {
    const base = String(source).replace(/\/+$/, "");
    const config = await (await fetchOk(`${base}/${HF_CONFIG_FILE}`)).json();
    const single = await fetch(`${base}/${HF_WEIGHTS_FILE}`);
    const files = single.ok ? [HF_WEIGHTS_FILE] : parseShardIndex(await (await fetchOk(`${base}/${HF_INDEX_FILE}`)).json());
    const shards: CheckpointShard[] = [];
    for (const file of files) {
      const blob = file === HF_WEIGHTS_FILE && single.ok ? await single.blob() : await (await fetchOk(`${base}/${file}`)).blob();
      const s = blobSource(blob);
      shards.push({ file, source: s, header: await readSafetensorsHeader(s, file) });
    }
    return loadPretrained(config, HF_CONFIG_FILE, shards, options);
  }
  let config: unknown = source.config;
  if (config instanceof Blob) config = await config.text();
  if (typeof config === "string") {
    try {
      config = JSON.parse(config);
    } catch (error) {
      throw new LayerConfigError(`${HF_CONFIG_FILE}: not valid JSON (${(error as Error).message})`, "config");
    }
  }
  const s = source.weights instanceof Blob ? blobSource(source.weights) : bufferSource(source.weights);
  return loadPretrained(config, HF_CONFIG_FILE, [{ file: HF_WEIGHTS_FILE, source: s, header: await readSafetensorsHeader(s, HF_WEIGHTS_FILE) }], options);
}

/**
 * The files of `savePretrained` in memory (for a browser download): `config.json` text and the
 * `model.safetensors` bytes as chunks (concatenate them, or pass them to `new Blob(chunks)`).
 */
export function toPretrainedFiles(model: tf.LayersModel, options: HFConfigOptions = {}): { config: string; weights: Uint8Array[] } {
  const { config, tensors } = pretrainedTensors(model);
  return { config: `${JSON.stringify(hfConfigFromGPT(config, options), null, 2)}\n`, weights: encodeSafetensors(tensors) };
}
