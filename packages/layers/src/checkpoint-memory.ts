/**
 * `memoryCheckpoint`: a browser-safe `CheckpointIO` that keeps the last checkpoint in memory (a
 * page's "stop / resume", or the step before a download: `toBlobs()` gives the files
 * `checkpointDirectory` would write, for `<a download>`).
 */
import * as tf from "@tensorflow/tfjs";
import { LayerConfigError } from "./errors.js";
import type { CheckpointIO, TrainerCheckpoint } from "./trainer.js";

/** A `CheckpointIO` holding the last saved checkpoint (byte copies: later training does not change it). */
export interface MemoryCheckpoint extends CheckpointIO {
  /** The last checkpoint saved, if any. */
  readonly last: TrainerCheckpoint | undefined;
  /** The last checkpoint as the files of a checkpoint directory (model.json, weights.bin, optimizer.json, optimizer.bin, state.json). */
  toBlobs(): Record<string, Blob>;
}

/** @example const io = memoryCheckpoint(); await trainer.save(io, loader.state()); const { trainer: again } = await Trainer.fromCheckpoint(await io.load()); */
export function memoryCheckpoint(): MemoryCheckpoint {
  let last: TrainerCheckpoint | undefined;
  const need = (): TrainerCheckpoint => {
    if (last === undefined) throw new LayerConfigError("memoryCheckpoint: nothing saved yet", "checkpoint");
    return last;
  };
  return {
    get last() {
      return last;
    },
    async save(checkpoint) {
      const m = checkpoint.model;
      const weights = m.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(m.weightData).slice(0);
      last = {
        model: { ...m, weightData: weights },
        optimizer: { weightSpecs: checkpoint.optimizer.weightSpecs, weightData: checkpoint.optimizer.weightData.slice(0) },
        state: JSON.parse(JSON.stringify(checkpoint.state)) as TrainerCheckpoint["state"],
      };
    },
    async load() {
      return need();
    },
    toBlobs() {
      const c = need();
      const modelJson = {
        modelTopology: c.model.modelTopology,
        format: c.model.format ?? "layers-model",
        generatedBy: c.model.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: c.model.convertedBy ?? null,
        weightsManifest: [{ paths: ["./weights.bin"], weights: c.model.weightSpecs ?? [] }],
      };
      const { extra, ...state } = c.state;
      return {
        "model.json": new Blob([JSON.stringify(modelJson)], { type: "application/json" }),
        "weights.bin": new Blob([c.model.weightData as ArrayBuffer]),
        "optimizer.json": new Blob([JSON.stringify({ className: "AdamW", config: c.state.trainer, weightSpecs: c.optimizer.weightSpecs })], { type: "application/json" }),
        "optimizer.bin": new Blob([c.optimizer.weightData]),
        "state.json": new Blob([JSON.stringify({ ...extra, ...state }, null, 1)], { type: "application/json" }),
      };
    },
  };
}
