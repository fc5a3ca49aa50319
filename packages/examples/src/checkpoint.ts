/**
 * Training checkpoints, written atomically. A run directory holds numbered checkpoint
 * directories and a `latest.json` pointer:
 *
 * ```
 * runs/start/
 *   latest.json            {"checkpoint": "checkpoint-000300"}
 *   checkpoint-000300/
 *     model.json           tfjs layers-model format (topology + weights manifest)
 *     weights.bin
 *     optimizer.json       optimizer class, config and weights manifest
 *     optimizer.bin        its slots (AdamW: iterations, m, v)
 *     state.json           version 2: step, trainer options, loader position (dataState),
 *                          train config, model config, tokenizer spec
 * ```
 *
 * Written by `@tfgpt/layers`' `Trainer` through `checkpointDirectory` (`@tfgpt/layers/node`);
 * this module reads and validates them with the CLI's messages. Version 1 (before the Trainer:
 * tfjs's Adam, the position under `loader`) still loads and resumes: its Adam moments have
 * AdamW's names, and the run keeps Adam's settings (no decay, no clipping, constant rate).
 *
 * Why numbered directories and a pointer: a directory cannot be renamed over a non-empty one on
 * POSIX, so "write a temp dir, rename over the old one" would need a window with no checkpoint.
 * Instead a checkpoint is written into a temp directory beside its final name and renamed to a
 * fresh name (atomic), then `latest.json` is replaced by renaming a temp file over it (atomic),
 * and only then the previous checkpoint is removed. A crash or Ctrl-C at any point leaves the
 * last complete checkpoint readable.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { exists } from "@tfgpt/common/node";
import * as tf from "@tensorflow/tfjs";

import { CHECKPOINT_FILES, LATEST_FILE } from "@tfgpt/layers/node";
import { z } from "zod";
import { CliError } from "./errors.js";
import { checkTopologyAgainstState } from "./model-consistency.js";

// The file names of a checkpoint directory and of a run's pointer file: the Trainer's (one layout).
export { CHECKPOINT_FILES, LATEST_FILE };

/** What `state.json` holds besides the tensors. Train-specific parts are validated by `train.ts`. */
export const CheckpointStateSchema = z.object({
  /** 1: before the Trainer (tfjs Adam); 2: the Trainer's. */
  version: z.union([z.literal(1), z.literal(2)]),
  /** Optimizer steps done. */
  step: z.number().int().nonnegative(),
  /** The resolved training config (text path, context, batch size, seed, lr, ...). */
  train: z.record(z.string(), z.unknown()),
  /** The model config given to `createGPT`. */
  model: z.record(z.string(), z.unknown()),
  /** Rebuilds the tokenizer: `getTokenizer(name, options)`. */
  tokenizer: z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).optional() }),
  /** Version 1: the data loader's position (its `state()`), restored with `restore()`. */
  loader: z.unknown().optional(),
  /** Version 2: the same, as the Trainer stores the caller's data state. */
  dataState: z.unknown().optional(),
  /** Version 2: the Trainer's resolved options. */
  trainer: z.record(z.string(), z.unknown()).optional(),
  /** Fingerprint of the training tokens, so a resume on a changed text is refused. */
  data: z.object({ tokens: z.number().int().nonnegative(), hash: z.string() }),
});
export type CheckpointState = z.infer<typeof CheckpointStateSchema>;

/** The loader position of a checkpoint of either version. */
export function loaderStateOf(state: CheckpointState): unknown {
  return state.version === 1 ? state.loader : state.dataState;
}

const LatestSchema = z.object({ checkpoint: z.string().regex(/^checkpoint-\d+$/) });

const OptimizerFileSchema = z.object({
  className: z.string(),
  config: z.record(z.string(), z.unknown()),
  weightSpecs: z.array(z.record(z.string(), z.unknown())),
});

const ModelFileSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(z.record(z.string(), z.unknown())) })),
});

function joinWeightData(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

export { writeDirAtomic } from "@tfgpt/common/node";
export { writeFileAtomic } from "@tfgpt/common/node";

/**
 * The optimizer state saved in checkpoint `dir`, for `Trainer.restoreOptimizer`: AdamW's (version
 * 2) or tfjs Adam's (version 1; the same `<variable>/m|v` names, its `__accBeta` extras dropped
 * by the Trainer). The caller disposes the tensors.
 */
export async function readOptimizerWeights(dir: string): Promise<Array<{ name: string; tensor: tf.Tensor }>> {
  const parsed = await readJson(dir, CHECKPOINT_FILES.optimizer, OptimizerFileSchema);
  if (parsed.className !== "AdamW" && parsed.className !== "Adam") {
    throw new CliError(`checkpoint ${dir}: optimizer is ${parsed.className}, expected AdamW (or Adam in a version-1 checkpoint)`);
  }
  const data = await readBinary(dir, CHECKPOINT_FILES.optimizerWeights);
  const specs = parsed.weightSpecs as unknown as tf.io.WeightsManifestEntry[];
  checkWeightSize(dir, CHECKPOINT_FILES.optimizerWeights, data, specs);
  const map = tf.io.decodeWeights(data, specs);
  return specs.map((spec) => ({ name: spec.name, tensor: map[spec.name] as tf.Tensor }));
}

function checkWeightSize(dir: string, file: string, data: ArrayBuffer, specs: tf.io.WeightsManifestEntry[]): void {
  const bytesPerElement: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
  const expected = specs.reduce(
    (sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * (bytesPerElement[s.dtype] ?? Number.NaN),
    0,
  );
  if (expected !== data.byteLength) {
    throw new CliError(
      `checkpoint ${dir} is corrupt: ${file} has ${data.byteLength} bytes, its manifest describes ${expected}`,
    );
  }
}

async function readBinary(dir: string, file: string): Promise<ArrayBuffer> {
  try {
    return toArrayBuffer(await readFile(path.join(dir, file)));
  } catch (err) {
    throw new CliError(`checkpoint ${dir} is incomplete: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

async function readJson<S extends z.ZodType>(dir: string, file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path.join(dir, file), "utf8");
  } catch (err) {
    throw new CliError(`checkpoint ${dir} is incomplete: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`checkpoint ${dir} is corrupt: ${file} is not valid JSON`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CliError(`checkpoint ${dir} is corrupt: ${file} ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}

/**
 * Resolves `dir` to a checkpoint directory: a checkpoint directory itself (it has `state.json`)
 * or a run directory (its `latest.json` names the checkpoint).
 *
 * @throws CliError when `dir` is missing or is neither.
 */
export async function resolveCheckpointDir(dir: string): Promise<string> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new CliError(`checkpoint ${dir} does not exist`);
  }
  if (!info.isDirectory()) throw new CliError(`checkpoint ${dir} is not a directory`);
  if (await exists(path.join(dir, CHECKPOINT_FILES.state))) return dir;
  if (await exists(path.join(dir, LATEST_FILE))) {
    let latest: z.infer<typeof LatestSchema>;
    try {
      latest = LatestSchema.parse(JSON.parse(await readFile(path.join(dir, LATEST_FILE), "utf8")));
    } catch {
      throw new CliError(`checkpoint ${dir} is corrupt: ${LATEST_FILE} is not {"checkpoint": "checkpoint-<step>"}`);
    }
    return path.join(dir, latest.checkpoint);
  }
  throw new CliError(`${dir} is not a checkpoint: it has neither ${CHECKPOINT_FILES.state} nor ${LATEST_FILE}`);
}

/** A checkpoint read back: the model (uncompiled) and the state. The optimizer is restored separately. */
export interface LoadedCheckpoint {
  readonly dir: string;
  readonly model: tf.LayersModel;
  readonly state: CheckpointState;
}

/** Reads and validates `state.json` of a checkpoint (or of a run directory's latest one). */
export async function readCheckpointState(dir: string): Promise<{ dir: string; state: CheckpointState }> {
  const resolved = await resolveCheckpointDir(dir);
  return { dir: resolved, state: await readJson(resolved, CHECKPOINT_FILES.state, CheckpointStateSchema) };
}

/**
 * Loads a checkpoint's model and state. The model's custom layers must be registered (importing
 * `@tfgpt/layers` does that).
 *
 * @throws CliError naming the file when the checkpoint is missing, incomplete or corrupt.
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const { dir: resolved, state } = await readCheckpointState(dir);
  const modelJson = await readJson(resolved, CHECKPOINT_FILES.model, ModelFileSchema);
  checkTopologyAgainstState(resolved, modelJson.modelTopology, state.model);
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights) as unknown as tf.io.WeightsManifestEntry[];
  const data = await readBinary(resolved, CHECKPOINT_FILES.weights);
  checkWeightSize(resolved, CHECKPOINT_FILES.weights, data, specs);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: data }),
    );
  } catch (err) {
    throw new CliError(`checkpoint ${resolved} is corrupt: cannot rebuild the model from ${CHECKPOINT_FILES.model} (${(err as Error).message})`);
  }
  return { dir: resolved, model, state };
}
