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
 *     optimizer.bin        its slots (Adam: iterations, m, v, and the running beta powers)
 *     state.json           step, train config, model config, tokenizer spec, loader position
 * ```
 *
 * Why numbered directories and a pointer: a directory cannot be renamed over a non-empty one on
 * POSIX, so "write a temp dir, rename over the old one" would need a window with no checkpoint.
 * Instead a checkpoint is written into a temp directory beside its final name and renamed to a
 * fresh name (atomic), then `latest.json` is replaced by renaming a temp file over it (atomic),
 * and only then the previous checkpoint is removed. A crash or Ctrl-C at any point leaves the
 * last complete checkpoint readable.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

/** A named tensor, as `Optimizer.getWeights` returns them (tfjs does not re-export the type). */
type NamedTensor = Awaited<ReturnType<tf.Optimizer["getWeights"]>>[number];
import { z } from "zod";
import { writeFileAtomic } from "./atomic.js";
import { CliError } from "./errors.js";
import { checkTopologyAgainstState } from "./model-consistency.js";

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

/** What `state.json` holds besides the tensors. Train-specific parts are validated by `train.ts`. */
export const CheckpointStateSchema = z.object({
  version: z.literal(1),
  /** Optimizer steps done. */
  step: z.number().int().nonnegative(),
  /** The resolved training config (text path, context, batch size, seed, lr, ...). */
  train: z.record(z.string(), z.unknown()),
  /** The model config given to `createGPT`. */
  model: z.record(z.string(), z.unknown()),
  /** Rebuilds the tokenizer: `getTokenizer(name, options)`. */
  tokenizer: z.object({ name: z.string(), options: z.record(z.string(), z.unknown()).optional() }),
  /** The data loader's position (its `state()`), restored with `restore()`. */
  loader: z.unknown(),
  /** Fingerprint of the training tokens, so a resume on a changed text is refused. */
  data: z.object({ tokens: z.number().int().nonnegative(), hash: z.string() }),
});
export type CheckpointState = z.infer<typeof CheckpointStateSchema>;

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

/**
 * Creates `target` atomically: `write` fills a temp directory beside it, which is then renamed
 * to `target`. On any error the temp directory is removed and `target` does not exist.
 *
 * @param target the directory to create; must not exist.
 * @param write fills the directory it is given.
 */
export async function writeDirAtomic(target: string, write: (dir: string) => Promise<void>): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp, { recursive: true });
  try {
    await write(tmp);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export { writeFileAtomic } from "./atomic.js";

/** The private fields of tfjs's Adam that `getWeights` leaves out (see {@link saveOptimizer}). */
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

const ACC_BETA = ["accBeta1", "accBeta2"] as const;

/**
 * Serializes an optimizer: `getWeights()` (iterations and slots) plus, for Adam, its running
 * powers `beta1^t`, `beta2^t`. tfjs's `setWeights` recomputes those as `pow(beta, t + 1)`,
 * which differs in the last float32 bits from the running product it keeps while training; we
 * save and restore them so that a resumed run matches an uninterrupted one exactly.
 */
async function encodeOptimizer(optimizer: tf.Optimizer): Promise<{ json: string; data: ArrayBuffer }> {
  const named = await optimizer.getWeights();
  const internals = optimizer as unknown as AdamInternals;
  const extra: NamedTensor[] = [];
  for (const key of ACC_BETA) {
    const v = internals[key];
    if (v instanceof tf.Variable) extra.push({ name: `__${key}`, tensor: v });
  }
  try {
    const { data, specs } = await tf.io.encodeWeights([...named, ...extra]);
    const className = (optimizer.constructor as unknown as { className: string }).className;
    const json = JSON.stringify({ className, config: optimizer.getConfig(), weightSpecs: specs }, null, 1);
    return { json, data };
  } finally {
    // getWeights returns the live slot variables plus a fresh `iter` scalar: dispose only that one.
    for (const { name, tensor } of named) if (name === "iter") tensor.dispose();
  }
}

/**
 * Restores the optimizer state saved in checkpoint `dir` into `optimizer` (same class and
 * config, attached to a model with the same weights in the same order). Adam's `setWeights`
 * creates the slot variables itself, so no dummy step is needed first.
 */
export async function restoreOptimizer(dir: string, optimizer: tf.Optimizer): Promise<void> {
  const parsed = await readJson(dir, CHECKPOINT_FILES.optimizer, OptimizerFileSchema);
  const className = (optimizer.constructor as unknown as { className: string }).className;
  if (parsed.className !== className) {
    throw new CliError(`checkpoint ${dir}: optimizer is ${parsed.className}, expected ${className}`);
  }
  const data = await readBinary(dir, CHECKPOINT_FILES.optimizerWeights);
  const specs = parsed.weightSpecs as unknown as tf.io.WeightsManifestEntry[];
  checkWeightSize(dir, CHECKPOINT_FILES.optimizerWeights, data, specs);
  const map = tf.io.decodeWeights(data, specs);
  const weights: NamedTensor[] = [];
  const extras = new Map<string, tf.Tensor>();
  for (const spec of specs) {
    const tensor = map[spec.name] as tf.Tensor;
    if (spec.name.startsWith("__")) extras.set(spec.name.slice(2), tensor);
    else weights.push({ name: spec.name, tensor });
  }
  await optimizer.setWeights(weights);
  const internals = optimizer as unknown as AdamInternals;
  for (const key of ACC_BETA) {
    const saved = extras.get(key);
    const v = internals[key];
    if (saved && v instanceof tf.Variable) v.assign(saved);
  }
  // setWeights turned the slot tensors into new variables (copies); the decoded ones can go.
  tf.dispose(Object.values(map));
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

/** What {@link saveCheckpoint} writes. */
export interface CheckpointContents {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly state: CheckpointState;
}

/**
 * Writes a checkpoint into run directory `runDir` as `checkpoint-<step>/`, atomically, points
 * `latest.json` at it and removes older checkpoints.
 *
 * @returns the checkpoint directory written.
 */
export async function saveCheckpoint(runDir: string, contents: CheckpointContents): Promise<string> {
  const name = `checkpoint-${String(contents.state.step).padStart(6, "0")}`;
  const target = path.join(runDir, name);
  await mkdir(runDir, { recursive: true });
  // Saving the same step twice (e.g. Ctrl-C right after a periodic save): the first is complete.
  if (await exists(target)) return target;
  await writeDirAtomic(target, async (dir) => {
    await contents.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = artifacts.weightData ? joinWeightData(artifacts.weightData) : new ArrayBuffer(0);
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
    const optimizer = await encodeOptimizer(contents.optimizer);
    await writeFile(path.join(dir, CHECKPOINT_FILES.optimizer), optimizer.json);
    await writeFile(path.join(dir, CHECKPOINT_FILES.optimizerWeights), new Uint8Array(optimizer.data));
    // state.json last: its presence marks the files above as written.
    await writeFile(path.join(dir, CHECKPOINT_FILES.state), `${JSON.stringify(contents.state, null, 1)}\n`);
  });
  await writeFileAtomic(path.join(runDir, LATEST_FILE), `${JSON.stringify({ checkpoint: name })}\n`);
  for (const entry of await readdir(runDir)) {
    if (/^checkpoint-\d+$/.test(entry) && entry !== name) await rm(path.join(runDir, entry), { recursive: true, force: true });
  }
  return target;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
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
