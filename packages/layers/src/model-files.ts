import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { replaceDirAtomic } from "@tfgpt/common/node";
import * as tf from "@tensorflow/tfjs";
import "./register.js";

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

/**
 * A tfjs IO handler that saves to and loads from a directory holding `model.json` and one
 * `weights.bin` (the layout `tf.loadLayersModel("file://...")` reads with tfjs-node, which is
 * optional here). Saving writes into a temporary directory first and then renames it, so a crash
 * never leaves a half-written model. Node only.
 *
 * @example
 * await model.save(directoryHandler("runs/tiny"));
 * const again = await tf.loadLayersModel(directoryHandler("runs/tiny"));
 */
export function directoryHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON["modelTopology"],
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig !== undefined) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata !== undefined) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      // Never delete-then-rename: a crash leaves the old directory or the new one complete.
      await replaceDirAtomic(path.resolve(dir), async (temp) => {
        await writeFile(path.join(temp, MODEL_JSON), JSON.stringify(json));
        await writeFile(path.join(temp, WEIGHTS_BIN), new Uint8Array(weightData));
      });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(await readFile(path.join(dir, MODEL_JSON), "utf8")) as tf.io.ModelJSON;
      const bytes = await readFile(path.join(dir, WEIGHTS_BIN));
      const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const artifacts: tf.io.ModelArtifacts = {
        modelTopology: json.modelTopology,
        format: json.format,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData,
      };
      if (json.generatedBy !== undefined) artifacts.generatedBy = json.generatedBy;
      if (json.trainingConfig !== undefined) artifacts.trainingConfig = json.trainingConfig;
      if (json.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = json.userDefinedMetadata;
      return artifacts;
    },
  };
}

/** Saves `model` as `dir/model.json` + `dir/weights.bin` (atomically: temp dir, then rename). Node only. */
export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(directoryHandler(dir));
}

/** Loads a model saved by `saveModelToDir` (or any single-weights-file tfjs layers model). Node only. */
export async function loadModelFromDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(directoryHandler(dir));
}
