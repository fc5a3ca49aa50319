/**
 * `fromPretrained(dir)` / `savePretrained(model, dir)`: Hugging Face GPT-2 directories on disk
 * (`config.json` + `model.safetensors`, or `model.safetensors.index.json` + shards). Node only.
 */
import { open, readFile, writeFile, type FileHandle } from "node:fs/promises";
import { exists } from "@tfgpt/common/node";
import path from "node:path";
import { replaceDirAtomic } from "@tfgpt/common/node";
import type * as tf from "@tensorflow/tfjs";
import { LayerConfigError } from "./errors.js";
import type { GPTModel } from "./gpt-model.js";
import {
  gptConfigFromHF,
  HF_CONFIG_FILE,
  HF_INDEX_FILE,
  HF_WEIGHTS_FILE,
  hfConfigFromGPT,
  loadPretrained,
  parseShardIndex,
  planShards,
  pretrainedTensors,
  shardIndex,
  type CheckpointShard,
  type FromPretrainedOptions,
  type HFConfigOptions,
} from "./pretrained.js";
import { encodeSafetensors, readSafetensorsHeader, type ByteSource } from "./safetensors.js";
import { configFromOpenAIHParams, loadOpenAIGPT2, parseOpenAIHParams, type OpenAIHParams } from "./openai-gpt2.js";
import { parseGPTConfig, type GPTConfig } from "./gpt.js";
import { checkpointPrefix, openTensorBundle } from "./tensor-bundle-node.js";

/**
 * A `ByteSource` over an open file: each `read` is one positioned read into a fresh buffer, so a
 * 6 GB file is never held in memory at once.
 */
export function fileSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    async read(offset, length) {
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) throw new LayerConfigError(`file ended at byte ${offset + done} (it shrank while being read?)`, "file");
        done += bytesRead;
      }
      return bytes;
    },
  };
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LayerConfigError(`${file}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`, "dir");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LayerConfigError(`${file}: not valid JSON (${(error as Error).message})`, "dir");
  }
}


/** The hyperparameter file of OpenAI's GPT-2 release. */
export const OPENAI_HPARAMS_FILE = "hparams.json";

/** Whether `dir` is a Hugging Face checkpoint (`config.json` and safetensors weights or their index). */
async function isHuggingFaceDir(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, HF_CONFIG_FILE))) && ((await exists(path.join(dir, HF_WEIGHTS_FILE))) || (await exists(path.join(dir, HF_INDEX_FILE))));
}

/**
 * Whether `dir` is OpenAI's GPT-2 release layout (what "LLMs from scratch" downloads):
 * `hparams.json` beside a TensorFlow checkpoint (`checkpoint`, `model.ckpt.index`, `model.ckpt.data-*`).
 */
export async function isOpenAIGPT2Dir(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, OPENAI_HPARAMS_FILE))) && (await exists(`${checkpointPrefix(dir)}.index`));
}

/** Whether `dir` holds pretrained GPT-2 weights `fromPretrained` reads: a Hugging Face directory or OpenAI's release. */
export async function isPretrainedDir(dir: string): Promise<boolean> {
  return (await isHuggingFaceDir(dir)) || (await isOpenAIGPT2Dir(dir));
}

/** Reads `dir/config.json` (checked as GPT-2). */
export async function readPretrainedConfig(dir: string): Promise<unknown> {
  return readJson(path.join(dir, HF_CONFIG_FILE));
}

async function readOpenAIHParams(dir: string): Promise<OpenAIHParams> {
  const file = path.join(dir, OPENAI_HPARAMS_FILE);
  return parseOpenAIHParams(await readJson(file), file);
}

/**
 * The `GPTConfig` of a pretrained directory of either layout (`config.json` or `hparams.json`),
 * checked, without loading any weight.
 */
export async function pretrainedGPTConfig(dir: string): Promise<GPTConfig> {
  if (!(await isHuggingFaceDir(dir)) && (await isOpenAIGPT2Dir(dir))) return parseGPTConfig(configFromOpenAIHParams(await readOpenAIHParams(dir)));
  return gptConfigFromHF(await readPretrainedConfig(dir), path.join(dir, HF_CONFIG_FILE)).config;
}

/** `fromPretrained` for OpenAI's release layout: hparams.json + the TensorFlow checkpoint. */
async function fromOpenAIGPT2Dir(dir: string, options: FromPretrainedOptions): Promise<GPTModel> {
  const hparams = await readOpenAIHParams(dir);
  const bundle = await openTensorBundle(dir);
  try {
    return await loadOpenAIGPT2(bundle, hparams, options);
  } finally {
    await bundle.close();
  }
}

/**
 * Loads a Hugging Face GPT-2 directory, as transformers' `GPT2LMHeadModel.from_pretrained(dir)`
 * does: builds the `createGPT` model of `config.json` (OpenAI's releases map onto the `gpt2*`
 * presets) and fills every weight from `model.safetensors` or the shards listed by
 * `model.safetensors.index.json`, reading one tensor at a time. F32, F16 and BF16 files load
 * as float32.
 *
 * Every file, tensor name, shape and dtype is checked before any weight is allocated, and the
 * model's size against the backend (`WASM_WEIGHTS_LIMIT` on wasm); errors name the file and
 * the tensor (with both shapes). Nothing half-loaded is returned.
 *
 * @example
 * OpenAI's own release directory (`hparams.json` + `model.ckpt.*`, as "LLMs from scratch"'s
 * `gpt_download.py` fetches it) loads the same way, read from the TensorFlow checkpoint.
 *
 * // huggingface-cli download openai-community/gpt2 config.json model.safetensors --local-dir gpt2
 * const model = await fromPretrained("gpt2");
 * const same = await fromPretrained("gpt2/124M"); // OpenAI's release of the same weights
 */
export async function fromPretrained(dir: string, options: FromPretrainedOptions = {}): Promise<GPTModel> {
  if (!(await isHuggingFaceDir(dir)) && (await isOpenAIGPT2Dir(dir))) return fromOpenAIGPT2Dir(dir, options);
  const configFile = path.join(dir, HF_CONFIG_FILE);
  const config = await readJson(configFile);
  const single = path.join(dir, HF_WEIGHTS_FILE);
  const indexFile = path.join(dir, HF_INDEX_FILE);
  let files: string[];
  if (await exists(single)) files = [single];
  else if (await exists(indexFile)) files = parseShardIndex(await readJson(indexFile), indexFile).map((f) => path.join(dir, f));
  else throw new LayerConfigError(`${dir}: no ${HF_WEIGHTS_FILE} or ${HF_INDEX_FILE} (not a Hugging Face checkpoint directory)`, "dir");
  const handles: FileHandle[] = [];
  try {
    const shards: CheckpointShard[] = [];
    for (const file of files) {
      let handle: FileHandle;
      try {
        handle = await open(file, "r");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new LayerConfigError(`${file}: ${code === "ENOENT" ? "no such file (listed in the index)" : (error as Error).message}`, "dir");
      }
      handles.push(handle);
      const source = fileSource(handle, (await handle.stat()).size);
      shards.push({ file, source, header: await readSafetensorsHeader(source, file) });
    }
    return await loadPretrained(config, configFile, shards, options);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** Options of `savePretrained`. */
export interface SavePretrainedOptions extends HFConfigOptions {
  /** Shard the weights into files of at most this many bytes (plus an index). Default: one file up to 5 GB, as transformers. */
  maxShardBytes?: number;
}

/**
 * Writes `model` (a `createGPT` GPT) as a Hugging Face GPT-2 directory that
 * `GPT2LMHeadModel.from_pretrained(dir)` loads with the same logits: `config.json` and
 * `model.safetensors` (F32), or shards and `model.safetensors.index.json` past `maxShardBytes`.
 * A model without qkv bias (`gpt2-small`) is written with a zero qkv bias (the same function).
 * The directory is written under a temporary name and then renamed into place, so a crash never
 * leaves a half-written checkpoint; an existing `dir` is replaced.
 *
 * @example
 * await savePretrained(model, "runs/finetuned-hf");
 */
export async function savePretrained(model: tf.LayersModel, dir: string, options: SavePretrainedOptions = {}): Promise<void> {
  const { config, tensors } = pretrainedTensors(model);
  const shards = planShards(tensors, options.maxShardBytes ?? 5e9);
  await replaceDirAtomic(path.resolve(dir), async (temp) => {
    await writeFile(path.join(temp, HF_CONFIG_FILE), `${JSON.stringify(hfConfigFromGPT(config, options), null, 2)}\n`);
    for (const shard of shards) {
      const handle = await open(path.join(temp, shard.file), "w");
      try {
        for (const chunk of encodeSafetensors(shard.tensors)) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    }
    if (shards.length > 1) await writeFile(path.join(temp, HF_INDEX_FILE), `${JSON.stringify(shardIndex(shards), null, 2)}\n`);
  });
}
