/**
 * One owner per run directory. `tfgpt train` takes `<run>/.lock` (created with O_EXCL, holding
 * `{pid, host, started}`) before it writes anything in the run, and removes it when it ends. A
 * second writer is refused with one line naming the holder; a lock left by a process that is gone
 * (same host, pid not running) is stale and taken over. The owner may then clean the run: leftover
 * temp files of an interrupted save, and (for `--overwrite`) the previous run, moved aside with one
 * rename of `latest.json` before anything else is removed, so that no crash can leave the old
 * checkpoint looking like the new run's.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cp, mkdir, readdir, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError } from "./errors.js";

/** The lock file of a run directory. */
export const LOCK_FILE = ".lock";

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

function readLock(file: string): LockInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as Partial<LockInfo>;
    if (typeof value.pid === "number" && typeof value.host === "string") {
      return { pid: value.pid, host: value.host, started: String(value.started ?? "?") };
    }
  } catch {
    // unreadable or half-written: treated below
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A held lock; {@link RunLock.release} removes it (also called on process exit). */
export interface RunLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the lock of `runDir` (created if missing) for this process.
 *
 * @param flag the flag that named the directory, for the message (`--out`).
 * @throws CliError naming the holder (pid, host, start time) when another live process holds it.
 */
export async function acquireRunLock(runDir: string, flag = "--out"): Promise<RunLock> {
  await mkdir(runDir, { recursive: true });
  const file = path.join(runDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readLock(file);
      const stale = holder === undefined ? attempt > 0 : holder.host === os.hostname() && !processAlive(holder.pid);
      if (holder !== undefined && !stale) {
        throw new CliError(
          `\`${flag}\` ${runDir} is in use by pid ${holder.pid} on ${holder.host} (since ${holder.started}); ` +
            `wait for it, or remove ${file} if that process is gone`,
        );
      }
      if (holder === undefined && !stale) {
        // Just created by another process that has not written its pid yet: look again.
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(info)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.off("exit", release);
      // Only our own lock: a stale-lock takeover by another process must not be undone.
      if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
    };
    process.on("exit", release);
    return { file, release };
  }
  throw new CliError(`\`${flag}\` ${runDir}: cannot take its lock ${file} (it keeps changing); is another run starting there?`);
}

/** Temp names our atomic writes use; anything matching is a leftover of an interrupted save. */
const LEFTOVER = /^(\.checkpoint-\d+\.tmp-[0-9a-f]+|\.trash-[0-9a-f]+|.*\.tmp-[0-9a-f]+)$/;

/**
 * Removes leftovers of interrupted saves in a run directory this process owns (hold the lock).
 *
 * @returns the names removed.
 */
export async function cleanRunLeftovers(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(runDir)) {
    if (LEFTOVER.test(entry)) {
      await rm(path.join(runDir, entry), { recursive: true, force: true });
      removed.push(entry);
    }
  }
  return removed;
}

/**
 * Clears a run directory this process owns for a fresh run (`--overwrite`): `latest.json` is
 * renamed away first (one atomic step after which the directory holds no run), then every other
 * entry but the lock follows into the same trash directory, which is then removed.
 *
 * @returns how many entries were moved away.
 */
export async function clearRunDir(runDir: string, latestFile: string): Promise<number> {
  const trash = path.join(runDir, `.trash-${randomBytes(4).toString("hex")}`);
  await mkdir(trash);
  const entries = (await readdir(runDir)).filter((e) => e !== LOCK_FILE && e !== path.basename(trash));
  const ordered = [...entries.filter((e) => e === latestFile), ...entries.filter((e) => e !== latestFile)];
  for (const entry of ordered) await rename(path.join(runDir, entry), path.join(trash, entry));
  await rm(trash, { recursive: true, force: true });
  return ordered.length;
}

/** Whether `dir` holds nothing but (possibly) our lock. */
export async function isEmptyRunDir(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.every((e) => e === LOCK_FILE);
}

/**
 * Starts run `runDir` (empty, locked by us) from checkpoint `checkpointDir` of another run: the
 * checkpoint is copied under its own name (temp name, then rename), then `latest.json` points at
 * it. The source run is only read.
 */
export async function seedRunFrom(
  runDir: string,
  checkpointDir: string,
  latestFile: string,
  writeFileAtomic: (file: string, data: string) => Promise<void>,
): Promise<string> {
  const name = path.basename(checkpointDir);
  if (!/^checkpoint-\d+$/.test(name)) throw new CliError(`--resume ${checkpointDir}: not a checkpoint-<step> directory`);
  const target = path.join(runDir, name);
  const tmp = path.join(runDir, `.${name}.tmp-${randomBytes(4).toString("hex")}`);
  try {
    await cp(checkpointDir, tmp, { recursive: true, errorOnExist: true, force: false });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await writeFileAtomic(path.join(runDir, latestFile), `${JSON.stringify({ checkpoint: name })}\n`);
  return target;
}
