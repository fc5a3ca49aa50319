/**
 * `tfgpt finetune`'s checkpoints, in the run-directory layout `train` uses (`checkpoint-NNNNNN/`
 * with model.json, weights.bin, optimizer.json, optimizer.bin and state.json last; `latest.json`
 * pointing at it), so that `tfgpt sample` and `tfgpt convert` read them. The optimizer is
 * `@tfgpt/layers`' AdamW: its `getWeights` carry the step and the moments by variable name, so
 * nothing private of tfjs is read. Each checkpoint directory is written whole under a temporary
 * name and renamed into place; older ones are removed only after `latest.json` points at the new one.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { AdamW } from "@tfgpt/layers";
import { writeDirAtomic } from "@tfgpt/common/node";
import { checkpointName } from "@tfgpt/layers/node";
import { CHECKPOINT_FILES, LATEST_FILE, writeFileAtomic, type CheckpointState } from "./checkpoint.js";
import { CliError } from "./errors.js";

/** Writes `model`, `optimizer` and `state` as `runDir/checkpoint-<step>` and points `latest.json` at it. */
export async function saveFinetuneCheckpoint(runDir: string, contents: { model: tf.LayersModel; optimizer: AdamW; state: CheckpointState }): Promise<string> {
  const name = checkpointName(contents.state.step);
  const target = path.join(runDir, name);
  const exists = await readdir(runDir).then((names) => names.includes(name), () => false);
  // The same step saved twice (Ctrl-C right after a periodic save): the first is complete.
  if (exists) return target;
  await writeDirAtomic(target, async (dir) => {
    await contents.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
        const modelJson = {
          modelTopology: artifacts.modelTopology,
          format: artifacts.format ?? "layers-model",
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: [`./${CHECKPOINT_FILES.weights}`], weights: artifacts.weightSpecs ?? [] }],
        };
        await writeFile(path.join(dir, CHECKPOINT_FILES.model), JSON.stringify(modelJson));
        await writeFile(path.join(dir, CHECKPOINT_FILES.weights), new Uint8Array(weights));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const encoded = await tf.io.encodeWeights(await contents.optimizer.getWeights());
    await writeFile(path.join(dir, CHECKPOINT_FILES.optimizer), JSON.stringify({ className: "AdamW", config: contents.optimizer.getConfig(), weightSpecs: encoded.specs }));
    await writeFile(path.join(dir, CHECKPOINT_FILES.optimizerWeights), new Uint8Array(encoded.data));
    await writeFile(path.join(dir, CHECKPOINT_FILES.state), `${JSON.stringify(contents.state, null, 1)}\n`);
  });
  await writeFileAtomic(path.join(runDir, LATEST_FILE), `${JSON.stringify({ checkpoint: name })}\n`);
  for (const entry of await readdir(runDir)) {
    if (/^checkpoint-\d+$/.test(entry) && entry !== name) await rm(path.join(runDir, entry), { recursive: true, force: true });
  }
  return target;
}

/** A variable's name without tfjs's `_N` uniqueness suffix (`h0/attn/c_attn/kernel_3` -> `h0/attn/c_attn/kernel`). */
const pathOf = (name: string): string => name.replace(/_\d+$/, "");

/**
 * Restores the AdamW state saved in checkpoint directory `dir` (step and moments) for `model`'s
 * variables. The moments were saved under the variable names of the process that saved them;
 * a model loaded again has other `_N` suffixes (and another layer order), so they are matched by
 * weight path.
 */
export async function restoreFinetuneOptimizer(dir: string, optimizer: AdamW, model: tf.LayersModel): Promise<void> {
  let spec: { className?: unknown; weightSpecs?: unknown };
  let data: Buffer;
  try {
    spec = JSON.parse(await readFile(path.join(dir, CHECKPOINT_FILES.optimizer), "utf8")) as typeof spec;
    data = await readFile(path.join(dir, CHECKPOINT_FILES.optimizerWeights));
  } catch (err) {
    throw new CliError(`checkpoint ${dir} is incomplete or corrupt: cannot read its optimizer (${(err as Error).message})`);
  }
  if (spec.className !== "AdamW" || !Array.isArray(spec.weightSpecs)) {
    throw new CliError(`checkpoint ${dir}: its optimizer is ${JSON.stringify(spec.className)}, not the AdamW \`tfgpt finetune\` writes`);
  }
  const named = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, spec.weightSpecs as tf.io.WeightsManifestEntry[]);
  const current = new Map(model.weights.map((w) => [pathOf(w.name), w.name]));
  const renamed = Object.entries(named).map(([name, tensor]) => {
    const match = /^(.*)\/([mv])$/.exec(name);
    if (match === null) return { name, tensor }; // the step count
    const to = current.get(pathOf(match[1] as string));
    if (to === undefined) throw new CliError(`checkpoint ${dir}: its optimizer has moments for ${JSON.stringify(match[1])}, which the model has no weight for`);
    return { name: `${to}/${match[2]}`, tensor };
  });
  await optimizer.setWeights(renamed);
  tf.dispose(Object.values(named));
}
