/**
 * Opens a TensorFlow checkpoint (tensor bundle V2) from files: only the `.index` is read whole;
 * each tensor is read from its data shard at its offset when asked for. Node only.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { open, readFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { LayerConfigError } from "./errors.js";
import { bundleShardName, parseBundleIndex, TensorBundle } from "./tensor-bundle.js";

/**
 * The checkpoint prefix of `target`: `target` itself when `target.index` exists; for a directory,
 * the prefix its `checkpoint` file names (`model_checkpoint_path: "model.ckpt"`), else
 * `dir/model.ckpt`.
 */
export function checkpointPrefix(target: string): string {
  if (existsSync(`${target}.index`)) return target;
  if (existsSync(target) && statSync(target).isDirectory()) {
    const state = path.join(target, "checkpoint");
    if (existsSync(state)) {
      const match = /model_checkpoint_path:\s*"([^"]+)"/.exec(readFileSync(state, "utf8"));
      if (match?.[1] !== undefined) {
        const named = path.isAbsolute(match[1]) ? match[1] : path.join(target, match[1]);
        // A moved directory still names where it was written: then look beside the file.
        return existsSync(`${named}.index`) ? named : path.join(target, path.basename(match[1]));
      }
    }
    return path.join(target, "model.ckpt");
  }
  return target;
}


/**
 * Opens the checkpoint at `target` (a prefix such as `dir/model.ckpt`, or a directory holding one).
 * Call `close()` when done to release the data files.
 *
 * @throws LayerConfigError naming the missing `.index` or `.data-*` file, or what is wrong with the index.
 * @example
 * ```ts
 * const bundle = await openTensorBundle("gpt2/124M");
 * const { shape, values } = await bundle.readFloat32("model/wpe"); // [1024, 768]
 * await bundle.close();
 * ```
 */
export async function openTensorBundle(target: string): Promise<TensorBundle & { close(): Promise<void> }> {
  const prefix = checkpointPrefix(target);
  const indexPath = `${prefix}.index`;
  if (!existsSync(indexPath)) throw new LayerConfigError(`${target}: no checkpoint index ${indexPath}`);
  const index = parseBundleIndex(new Uint8Array(await readFile(indexPath)), indexPath);
  const files: string[] = [];
  for (let shard = 0; shard < index.numShards; shard++) {
    const file = bundleShardName(prefix, shard, index.numShards);
    if (!existsSync(file)) throw new LayerConfigError(`${target}: missing checkpoint data file ${file}`);
    files.push(file);
  }
  const handles: Array<FileHandle | undefined> = [];
  const bundle = new TensorBundle(
    index,
    async (shard, offset, size) => {
      handles[shard] ??= await open(files[shard]!, "r");
      const bytes = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handles[shard]!.read(bytes, filled, size - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return bytes.subarray(0, filled);
    },
    prefix,
  );
  return Object.assign(bundle, {
    async close(): Promise<void> {
      await Promise.all(handles.map((h) => h?.close()));
      handles.length = 0;
    },
  });
}
