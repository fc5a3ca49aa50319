/** Shared test helpers: where the corpora are, and running the built CLI as a user would. */
import { spawnSync } from "node:child_process";
import path from "node:path";

/** The repository root, computed from this file's location (CI clones elsewhere). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
/** The shared test corpora. */
export const DATA_DIR = process.env.TFGPT_DATA_DIR ?? path.resolve(REPO_ROOT, "../shared/data");
/** The built CLI (tests run after `tsc -b`, as nx's `test` depends on `build`). */
export const CLI = path.resolve(import.meta.dirname, "../dist/cli.js");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli.js ...args` and collects its output. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const env = { ...process.env, ...options.env };
  delete env.TFGPT_DEBUG;
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Asserts the CLI's error contract: one stderr line `tfgpt <cmd>: ...`, no stack trace. */
export function errorLine(result: CliResult, command: string): string {
  const lines = result.stderr.split("\n").filter((l) => l !== "");
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}:\n${result.stderr}`);
  const line = lines[0] as string;
  if (!line.startsWith(`tfgpt ${command}: `)) throw new Error(`unexpected error line: ${line}`);
  if (/\n\s+at /.test(result.stderr)) throw new Error(`stack trace printed:\n${result.stderr}`);
  return line;
}
