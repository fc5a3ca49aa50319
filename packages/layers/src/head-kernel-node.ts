import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { CTRL, headKernel, type HeadKernelWorkers } from "./head-kernel.js";
import { parseOptions } from "./errors.js";

/** Options of `enableHeadKernelThreads`. */
export const HeadKernelThreadsOptionsSchema = z.strictObject({
  /** Threads in all, the calling one included (default: every core, at most 8). */
  threads: z.number().int().min(1).max(64).default(() => Math.min(8, os.availableParallelism())).describe("an integer from 1 to 64"),
});
/** Options of `enableHeadKernelThreads` as given. */
export type HeadKernelThreadsOptions = z.input<typeof HeadKernelThreadsOptionsSchema>;

/**
 * Runs the head kernel (the fused vocabulary head + cross-entropy that `GPTModel` trains with on
 * the `wasm` and `cpu` backends) on `threads` threads: the calling one and `threads - 1` workers
 * sharing its memory. `selectBackend` calls this for the CPU backends. The workers are
 * `unref`'d: a script exits by itself. Returns the threads now in use.
 *
 * @example
 * enableHeadKernelThreads({ threads: 2 }); // 2
 */
export function enableHeadKernelThreads(options: HeadKernelThreadsOptions = {}): number {
  const { threads } = parseOptions(HeadKernelThreadsOptionsSchema, options, "enableHeadKernelThreads");
  const kernel = headKernel();
  if (!kernel.shared) return kernel.threads;
  kernel.setWorkers(threads - 1, (module, memory, count, epoch) => {
    const script = workerScript();
    // Workers inherit the Node flags, but `--input-type` (set by `node -e`) makes them fail to start.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith("--input-type"));
    const errors: string[] = [];
    const workers = Array.from({ length: count }, (_, slot) => {
      const worker = new Worker(script, { workerData: { module, memory, control: CTRL, epoch, slot }, execArgv });
      // A worker that fails to start never reports ready, so the calls go on without it.
      worker.on("error", (error) => errors.push(error.message));
      worker.unref();
      return worker;
    });
    const pool: HeadKernelWorkers = {
      count,
      errors,
      terminate: () => {
        for (const worker of workers) void worker.terminate();
      },
    };
    return pool;
  });
  return kernel.threads;
}

/** The worker script next to this module (`dist/`), or the built one when running from `src/` (tests). */
function workerScript(): URL {
  const beside = new URL("./head-kernel-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL("../dist/head-kernel-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`the worker script ${fileURLToPath(beside)} is missing; build the package (npx tsc -b)`);
}
