/**
 * `saveAdapters(model, dir)` / `loadAdapters(model, dir)`: LoRA adapters alone in a directory
 * (`adapter_config.json` + `adapter_model.safetensors`). Node only; `lora.ts` has the format.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { replaceDirAtomic } from "@tfgpt/common/node";
import type * as tf from "@tensorflow/tfjs";
import { LayerConfigError } from "./errors.js";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loadAdapters as loadAdapterFiles, toAdapterFiles, type LoRAParamCounts } from "./lora.js";

/**
 * Writes the LoRA adapters of `model` alone into `dir` (replaced if it exists): their rank,
 * alpha, targets and the base model's identity in `adapter_config.json`, the `A` and `B`
 * matrices in `adapter_model.safetensors`. Written under a temporary name, then renamed.
 *
 * @example
 * await saveAdapters(model, "runs/lora/adapters");
 */
export async function saveAdapters(model: tf.LayersModel, dir: string): Promise<void> {
  const files = toAdapterFiles(model);
  await replaceDirAtomic(path.resolve(dir), async (temp) => {
    await writeFile(path.join(temp, ADAPTER_CONFIG_FILE), files.config);
    await writeFile(path.join(temp, ADAPTER_WEIGHTS_FILE), Buffer.concat(files.weights));
  });
}

/**
 * Loads the adapters `saveAdapters` wrote in `dir` onto `model`, which must be their base model
 * (checked: config and a hash of its weights); see `loadAdapters` of `@tfgpt/layers`.
 *
 * @throws LayerConfigError for a missing file, another base (both identities named) or a bad file.
 */
export async function loadAdapters(model: tf.LayersModel, dir: string): Promise<LoRAParamCounts> {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(path.join(dir, file));
    } catch (error) {
      throw new LayerConfigError(`${path.join(dir, file)}: cannot read the LoRA adapters (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, "dir");
    }
  };
  const config = (await read(ADAPTER_CONFIG_FILE)).toString("utf8");
  const weights = await read(ADAPTER_WEIGHTS_FILE);
  return loadAdapterFiles(model, { config, weights }, { config: path.join(dir, ADAPTER_CONFIG_FILE), weights: path.join(dir, ADAPTER_WEIGHTS_FILE) });
}
