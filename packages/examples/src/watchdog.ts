/**
 * A watchdog on training steps. A step runs on the main thread, often inside WebAssembly: when
 * tfjs-wasm runs out of heap it can spin forever, and no JavaScript (not even a signal handler)
 * runs again. So the watchdog lives in a worker thread, reading a heartbeat the main thread
 * writes into shared memory after every step; when a step takes longer than its limit it writes
 * one line to stderr and ends the process (SIGKILL: the stuck thread cannot exit by itself; the
 * last checkpoint is complete, as checkpoints are atomic).
 *
 * The limit adapts: the first step may take `firstSeconds` (it includes compiling kernels and the
 * first validation pass), later ones `max(minSeconds, factor x the slowest step so far)`.
 * `TFGPT_STEP_TIMEOUT` (seconds) sets one fixed limit for every step instead.
 */
import { Worker } from "node:worker_threads";

/** Limits of the watchdog. */
export interface WatchdogOptions {
  readonly firstSeconds?: number;
  readonly minSeconds?: number;
  readonly factor?: number;
  /** What to do, for the message: e.g. `continue with: tfgpt train --resume runs/x`. */
  readonly hint: string;
}

// Runs in the worker (CommonJS, eval). Slots: 0 last beat (ms), 1 limit (ms, 0: disarmed), 2 step.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const view = new Float64Array(workerData.shared);
setInterval(() => {
  const limit = view[1];
  if (!(limit > 0)) return;
  const waited = Date.now() - view[0];
  if (waited <= limit) return;
  fs.writeSync(2, "\\ntfgpt train: step " + (view[2] + 1) + " has run " + Math.round(waited / 1000) + " s without finishing (limit " +
    Math.round(limit / 1000) + " s): the backend is stuck (tfjs-wasm out of memory?); stopping; " + workerData.hint + "\\n");
  process.kill(process.pid, "SIGKILL");
}, workerData.pollMs);
`;

/** The main thread's side: {@link StepWatchdog.beat} after every step, {@link StepWatchdog.stop} at the end. */
export class StepWatchdog {
  private readonly view: Float64Array;
  private readonly worker: Worker;
  private readonly minMs: number;
  private readonly factor: number;
  private slowest = 0;

  constructor(options: WatchdogOptions) {
    const override = Number(process.env.TFGPT_STEP_TIMEOUT);
    const fixed = Number.isFinite(override) && override > 0 ? override : undefined;
    this.minMs = 1000 * (fixed ?? options.minSeconds ?? 120);
    this.factor = fixed !== undefined ? 0 : (options.factor ?? 20);
    this.view = new Float64Array(new SharedArrayBuffer(3 * 8));
    this.view[0] = Date.now();
    this.view[1] = 1000 * (fixed ?? options.firstSeconds ?? 300);
    this.view[2] = 0;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { shared: this.view.buffer, hint: options.hint, pollMs: Math.min(1000, this.minMs / 4) },
    });
    this.worker.unref();
  }

  /** Step `step` finished: the next one starts now, with a limit from the slowest so far. */
  beat(step: number, stepMs?: number): void {
    const now = Date.now();
    this.slowest = Math.max(this.slowest, stepMs ?? now - this.view[0]!);
    this.view[2] = step;
    this.view[0] = now;
    this.view[1] = Math.max(this.minMs, this.factor * this.slowest);
  }

  /** Time spent outside a step (validation, checkpoint) does not count: restart the clock. */
  resume(): void {
    this.view[0] = Date.now();
  }

  /** Disarms and ends the worker. */
  async stop(): Promise<void> {
    this.view[1] = 0;
    await this.worker.terminate();
  }
}
