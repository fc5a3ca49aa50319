/**
 * `tfgpt train --init-from DIR`: the starting weights, config and tokenizer of a fine-tuning run,
 * from a Hugging Face GPT-2 directory or from one of our checkpoints (its weights only: the new
 * run starts at step 0 with a fresh optimizer).
 */
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { gptConfigOfModel, parseGPTConfig, type GPTConfig } from "@tfgpt/layers";
import { fromPretrained } from "@tfgpt/layers/node";
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import { loadCheckpoint, readCheckpointState } from "./checkpoint.js";
import { CliError } from "./errors.js";
import { isPretrainedDir, pretrainedConfig, pretrainedTokenizer } from "./pretrained-dir.js";

/** What `--init-from` points at. */
export interface InitFrom {
  /** Absolute path. */
  readonly dir: string;
  readonly kind: "pretrained" | "checkpoint";
  readonly config: GPTConfig;
}

/**
 * Reads the config of `dir` without loading weights.
 *
 * @throws CliError when `dir` is neither a Hugging Face GPT-2 directory nor a tfgpt checkpoint.
 */
export async function resolveInitFrom(dir: string): Promise<InitFrom> {
  const abs = path.resolve(dir);
  if (await isPretrainedDir(abs)) return { dir: abs, kind: "pretrained", config: await pretrainedConfig(abs) };
  let state;
  try {
    state = await readCheckpointState(abs);
  } catch (err) {
    throw new CliError(`\`--init-from\` ${dir} is neither a pretrained GPT-2 directory (Hugging Face's config.json + model.safetensors, or OpenAI's hparams.json + model.ckpt.*) nor a tfgpt checkpoint: ${(err as Error).message}`);
  }
  try {
    return { dir: state.dir, kind: "checkpoint", config: parseGPTConfig(state.state.model as GPTConfig) };
  } catch (err) {
    throw new CliError(`\`--init-from\` ${dir}: state.json has no valid model config (${(err as Error).message})`);
  }
}

/** The tokenizer that goes with `init`'s weights. */
export async function initTokenizer(init: InitFrom): Promise<Tokenizer> {
  if (init.kind === "pretrained") return (await pretrainedTokenizer(init.dir, init.config.vocabSize)).tokenizer;
  const { state } = await readCheckpointState(init.dir);
  return getTokenizer(state.tokenizer.name, state.tokenizer.options);
}

/** The model of `init`, weights loaded, and its config. */
export async function initModel(init: InitFrom): Promise<{ model: tf.LayersModel; config: GPTConfig }> {
  const model = init.kind === "pretrained" ? await fromPretrained(init.dir) : (await loadCheckpoint(init.dir)).model;
  return { model, config: gptConfigOfModel(model) };
}
