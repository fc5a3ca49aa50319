/**
 * `checkpointDirectory`: the Node `CheckpointIO` of the `Trainer` (and of `tfgpt train`). A run
 * directory holds numbered checkpoint directories and a pointer:
 *
 * ```
 * run/
 *   latest.json            {"checkpoint": "checkpoint-000300"}
 *   checkpoint-000300/
 *     model.json           tfjs layers-model format (topology + weights manifest)
 *     weights.bin
 *     optimizer.json       {"className": "AdamW", "config": ..., "weightSpecs": [...]}
 *     optimizer.bin        its step count and moments
 *     state.json           {"version": 2, "step", "trainer", "dataState", ...the caller's extras}
 * ```
 *
 * Atomic: a checkpoint is written complete into a temporary directory beside its final name and
 * renamed to a fresh name, then `latest.json` is replaced by renaming a temporary file over it,
 * and only then older checkpoints are removed. Nothing is deleted before its replacement is in
 * place, so a crash at any point leaves the previous checkpoint or the new one readable. Node only.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { exists, writeDirAtomic, writeFileAtomic } from "@tfgpt/common/node";
import { LayerConfigError } from "./errors.js";
import type { CheckpointIO, TrainerCheckpoint, TrainerState } from "./trainer.js";

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = {
  model: "model.json",
  weights: "weights.bin",
  optimizer: "optimizer.json",
  optimizerWeights: "optimizer.bin",
  state: "state.json",
} as const;

/** The pointer file of a run directory. */
export const LATEST_FILE = "latest.json";

/** `checkpoint-000042` for step 42. */
export function checkpointName(step: number): string {
  return `checkpoint-${String(step).padStart(6, "0")}`;
}

/** Writes a checkpoint's files into `dir` (state.json last: its presence marks the rest written); creates `dir` and its parents when missing. */
export async function writeCheckpointFiles(dir: string, checkpoint: TrainerCheckpoint, optimizerConfig: Record<string, unknown> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const m = checkpoint.model;
  const weights = m.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(m.weightData);
  const modelJson = {
    modelTopology: m.modelTopology,
    format: m.format ?? "layers-model",
    generatedBy: m.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: m.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${CHECKPOINT_FILES.weights}`], weights: m.weightSpecs ?? [] }],
  };
  await writeFile(path.join(dir, CHECKPOINT_FILES.model), JSON.stringify(modelJson));
  await writeFile(path.join(dir, CHECKPOINT_FILES.weights), new Uint8Array(weights));
  const optimizerJson = { className: "AdamW", config: { ...checkpoint.state.trainer, ...optimizerConfig }, weightSpecs: checkpoint.optimizer.weightSpecs };
  await writeFile(path.join(dir, CHECKPOINT_FILES.optimizer), JSON.stringify(optimizerJson));
  await writeFile(path.join(dir, CHECKPOINT_FILES.optimizerWeights), new Uint8Array(checkpoint.optimizer.weightData));
  const { extra, ...state } = checkpoint.state;
  await writeFile(path.join(dir, CHECKPOINT_FILES.state), `${JSON.stringify({ ...extra, ...state }, null, 1)}\n`);
}

async function readJson(dir: string, file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path.join(dir, file), "utf8");
  } catch (err) {
    throw new LayerConfigError(`checkpoint ${dir} is incomplete: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, "dir");
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new LayerConfigError(`checkpoint ${dir} is corrupt: ${file} is not valid JSON`, "dir");
  }
}

async function readBinary(dir: string, file: string): Promise<ArrayBuffer> {
  try {
    const b = await readFile(path.join(dir, file));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  } catch (err) {
    throw new LayerConfigError(`checkpoint ${dir} is incomplete: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, "dir");
  }
}

/** The checkpoint directory `dir` names: itself (it has `state.json`) or its `latest.json`'s. */
export async function resolveCheckpoint(dir: string): Promise<string> {
  if (await exists(path.join(dir, CHECKPOINT_FILES.state))) return dir;
  if (await exists(path.join(dir, LATEST_FILE))) {
    const latest = await readJson(dir, LATEST_FILE);
    if (typeof latest["checkpoint"] !== "string" || !/^checkpoint-\d+$/.test(latest["checkpoint"])) {
      throw new LayerConfigError(`checkpoint ${dir} is corrupt: ${LATEST_FILE} is not {"checkpoint": "checkpoint-<step>"}`, "dir");
    }
    return path.join(dir, latest["checkpoint"]);
  }
  throw new LayerConfigError(`${dir} is not a checkpoint: it has neither ${CHECKPOINT_FILES.state} nor ${LATEST_FILE}`, "dir");
}

/** Reads a checkpoint directory's files (no check of the tensors against the model: `Trainer.fromCheckpoint` does that). */
export async function readCheckpointFiles(dir: string): Promise<TrainerCheckpoint> {
  const raw = await readJson(dir, CHECKPOINT_FILES.state);
  if (raw["version"] !== 2) {
    throw new LayerConfigError(
      `checkpoint ${dir} has state version ${JSON.stringify(raw["version"])}; the Trainer reads version 2 (a version-1 checkpoint of tfgpt train resumes with \`tfgpt train --resume\`, which converts it)`,
      "dir",
    );
  }
  const { version: _v, step, trainer, dataState, ...extra } = raw;
  const modelJson = (await readJson(dir, CHECKPOINT_FILES.model)) as unknown as tf.io.ModelJSON;
  const optimizerJson = await readJson(dir, CHECKPOINT_FILES.optimizer);
  const state: TrainerState = {
    version: 2,
    step: step as number,
    trainer: trainer as TrainerState["trainer"],
    ...(dataState !== undefined ? { dataState } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
  return {
    model: {
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: await readBinary(dir, CHECKPOINT_FILES.weights),
    },
    optimizer: { weightSpecs: optimizerJson["weightSpecs"] as tf.io.WeightsManifestEntry[], weightData: await readBinary(dir, CHECKPOINT_FILES.optimizerWeights) },
    state,
  };
}

/** Options of {@link checkpointDirectory}. */
export interface CheckpointDirectoryOptions {
  /** Remove older checkpoints after a save. Default `true` (the last one is kept). */
  keepOnlyLatest?: boolean;
}

/**
 * The `CheckpointIO` of a run directory (see the module comment): `save` adds
 * `checkpoint-<step>/` and points `latest.json` at it; `load` reads the latest one (or `runDir`
 * itself when it is a checkpoint directory).
 *
 * @example
 * await trainer.save(checkpointDirectory("runs/a"), loader.state());
 * const { trainer: again, dataState } = await Trainer.fromCheckpoint(await checkpointDirectory("runs/a").load());
 */
export function checkpointDirectory(runDir: string, options: CheckpointDirectoryOptions = {}): CheckpointIO & { lastSaved: string | undefined } {
  const io = {
    lastSaved: undefined as string | undefined,
    async save(checkpoint: TrainerCheckpoint): Promise<void> {
      const name = checkpointName(checkpoint.state.step);
      const target = path.join(runDir, name);
      await mkdir(runDir, { recursive: true });
      io.lastSaved = target;
      // The same step saved twice (a signal right after a periodic save): the first is complete.
      if (await exists(target)) return;
      await writeDirAtomic(target, (dir) => writeCheckpointFiles(dir, checkpoint));
      await writeFileAtomic(path.join(runDir, LATEST_FILE), `${JSON.stringify({ checkpoint: name })}\n`);
      if (options.keepOnlyLatest ?? true) {
        for (const entry of await readdir(runDir)) {
          if (/^checkpoint-\d+$/.test(entry) && entry !== name) await rm(path.join(runDir, entry), { recursive: true, force: true });
        }
      }
    },
    async load(): Promise<TrainerCheckpoint> {
      return readCheckpointFiles(await resolveCheckpoint(runDir));
    },
  };
  return io;
}
