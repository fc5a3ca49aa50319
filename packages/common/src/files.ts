/**
 * Files written so that readers see the old content or the new, never a part: the data goes to a
 * temporary name beside the file, then one `rename` replaces it. Node only.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Replaces `file` atomically: writes a temporary file beside it (creating the parent directories)
 * and renames it over `file`. On failure no temporary file is left and `file` is unchanged.
 *
 * @example
 * ```ts
 * await writeFileAtomic("runs/a/latest.json", `${JSON.stringify({ checkpoint: "checkpoint-000300" })}\n`);
 * ```
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Creates directory `target` (which must not exist) atomically: `write` fills a temporary
 * directory beside it (the parent directories are created), which is then renamed to `target`. On
 * failure the temporary directory is removed and `target` does not appear.
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

/**
 * Replaces directory `target` (which may exist) by one that `write` fills: the new directory is
 * filled under a temporary name beside it; then the old one is renamed aside, the new one renamed
 * into place, and only then the old one removed. Never delete-then-rename: a crash at any point
 * leaves the old directory or the new one complete (the other under a `.tmp-` / `.old-` name).
 * On failure of `write` the temporary directory is removed and `target` is unchanged.
 */
export async function replaceDirAtomic(target: string, write: (dir: string) => Promise<void>): Promise<void> {
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const temp = `${target}.tmp-${suffix}`;
  await mkdir(temp, { recursive: true });
  try {
    await write(temp);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  const old = `${target}.old-${suffix}`;
  const hadOld = await rename(target, old).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw err;
    },
  );
  try {
    await rename(temp, target);
  } catch (err) {
    if (hadOld) await rename(old, target);
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Whether `file` (a file or a directory) exists; any error of `stat` reads as "no". */
export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
