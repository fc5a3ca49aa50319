/** Shared test helpers: where the corpora are, and running the built CLI as a user would. */
import { spawnSync } from "node:child_process";
import path from "node:path";

/** The repository root, computed from this file's location (CI clones elsewhere). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
/** The shared test corpora. */
export const DATA_DIR = process.env.TFGPT_DATA_DIR ?? path.resolve(REPO_ROOT, "../shared/data");
/**
 * `TFGPT_BACKEND=tensorflow` runs the suite a second time on `@tensorflow/tfjs-node` (`.ci/run`
 * does after `npm run setup:tensorflow`): the CLI's `train` and `sample` get `--backend
 * tensorflow`, in-process training gets `backend: "tensorflow"`, and `useTestBackend` switches to it.
 */
export const ON_TENSORFLOW = process.env.TFGPT_BACKEND === "tensorflow";
if (process.env.TFGPT_BACKEND !== undefined && process.env.TFGPT_BACKEND !== "" && !ON_TENSORFLOW) {
  throw new Error(`TFGPT_BACKEND must be "tensorflow" or unset, received ${JSON.stringify(process.env.TFGPT_BACKEND)}`);
}
/** What in-process `runTrain` / `runSample` configs spread in: the tensorflow backend in its pass. */
export const BACKEND_OPTION: { backend?: "tensorflow" } = ON_TENSORFLOW ? { backend: "tensorflow" } : {};

/** Switches tfjs to the test backend: cpu, or tensorflow in the tensorflow pass. */
export async function useTestBackend(): Promise<void> {
  const tf = await import("@tensorflow/tfjs");
  if (ON_TENSORFLOW) {
    const tfjsNode = "@tensorflow/tfjs-node"; // a variable: the type check must pass without the optional package
    await import(tfjsNode);
  }
  const name = ON_TENSORFLOW ? "tensorflow" : "cpu";
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to start`);
}

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
  const result = spawnSync(process.execPath, [CLI, ...withTestBackend(args)], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `args` with `--backend tensorflow` added to `train` and `sample` in the tensorflow pass (unless they name a backend). */
export function withTestBackend(args: readonly string[]): string[] {
  const runsModel = args[0] === "train" || args[0] === "sample";
  return ON_TENSORFLOW && runsModel && !args.includes("--backend") ? [...args, "--backend", "tensorflow"] : [...args];
}

/**
 * TensorFlow's C++ logging at load time (absl's "WARNING: All log messages before
 * absl::InitializeLog() ..." and e.g. "I0000 00:00:... port.cc:153] oneDNN custom operations are
 * on ..."): printed by the library to the process's stderr, not by tfgpt.
 */
const TENSORFLOW_LOG = /^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\])/;

/** stderr without TensorFlow's own load-time log lines. */
export function ownStderr(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !TENSORFLOW_LOG.test(l))
    .join("\n");
}

/** Asserts the CLI's error contract: one stderr line `tfgpt <cmd>: ...`, no stack trace. */
export function errorLine(result: CliResult, command: string): string {
  const lines = ownStderr(result.stderr).split("\n").filter((l) => l !== "");
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}:\n${result.stderr}`);
  const line = lines[0] as string;
  if (!line.startsWith(`tfgpt ${command}: `)) throw new Error(`unexpected error line: ${line}`);
  if (/\n\s+at /.test(result.stderr)) throw new Error(`stack trace printed:\n${result.stderr}`);
  return line;
}
