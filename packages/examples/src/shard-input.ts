/**
 * Token shards wherever a command takes a text: a `.bin` file, or a directory holding `.bin`
 * shards (as `tfgpt prepare` writes them), is opened as a `ShardedTokenStore` instead of being
 * read as text. Every header and every id is validated before the command goes on.
 */
import { readdir, stat } from "node:fs/promises";
import type { ShardedTokenStore } from "@tfgpt/datasets";
import { listShards, openShards } from "@tfgpt/datasets/node";
import { verifyShardDir } from "./prepare-manifest.js";

/**
 * Whether `file` names token shards: a `.bin` file, or a directory with `.bin` files, a prepare
 * manifest or an unfinished prepare's journal in it.
 *
 * @example await isShardInput("data/pg84") // true after `tfgpt prepare ... --out data/pg84`
 */
export async function isShardInput(file: string): Promise<boolean> {
  if (file.endsWith(".bin")) return true;
  try {
    if (!(await stat(file)).isDirectory()) return false;
    return (await readdir(file)).some((n) => n.endsWith(".bin") || n.endsWith(".manifest.json") || n.endsWith(".prepare-partial.json"));
  } catch {
    return false;
  }
}

/**
 * The shards of `file` for `split`: a `.bin` file is itself (whatever `split`); a directory gives
 * its `*_<split>_*.bin` shards, or, for `"train"` when it has no such file, all its `.bin` files.
 * Returns `undefined` for `"val"` when a directory has no val shards (or a file is given).
 *
 * @param vocabSize The tokenizer's vocabulary: every id is checked against it.
 * @throws DatasetError naming the file for a bad shard (magic, version, size, truncation, id);
 *   CliError for a directory that an unfinished or other job left (see `verifyShardDir`).
 */
export async function openShardInput(file: string, vocabSize: number, split: "train" | "val"): Promise<ShardedTokenStore | undefined> {
  const isDir = await stat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) return split === "train" ? openShards(file, { vocabSize }) : undefined;
  // A directory is a shard set only when tfgpt prepare finished it (its manifest matches).
  await verifyShardDir(file);
  const names = await readdir(file);
  const has = (s: string) => names.some((n) => n.endsWith(".bin") && (n.includes(`_${s}_`) || n === `${s}.bin`));
  if (has(split)) return openShards(listShards(file, split), { vocabSize });
  return split === "train" ? openShards(file, { vocabSize }) : undefined;
}

/**
 * The train and val shards of `file` for `tfgpt train`, validated, and a fingerprint of the train
 * tokens (FNV-1a over the ids, streamed in 1M-token reads) so `--resume` refuses other data.
 *
 * @param file A `.bin` shard (train only) or a directory of shards.
 * @param vocabSize The tokenizer's vocabulary: every id is checked against it.
 */
export async function loadShardSplits(
  file: string,
  vocabSize: number,
): Promise<{ train: ShardedTokenStore; val: ShardedTokenStore | undefined; hash: string }> {
  const train = (await openShardInput(file, vocabSize, "train")) as ShardedTokenStore;
  const val = await openShardInput(file, vocabSize, "val");
  let h = 0x811c9dc5;
  const chunk = new Int32Array(Math.min(1 << 20, train.length));
  for (let at = 0; at < train.length; at += chunk.length) {
    const end = Math.min(train.length, at + chunk.length);
    train.read(at, end, chunk, 0);
    for (let i = 0; i < end - at; i++) {
      h ^= chunk[i] as number;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return { train, val, hash: h.toString(16).padStart(8, "0") };
}
