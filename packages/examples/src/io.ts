/**
 * What a command may touch besides its config: where its output goes and whether it was asked
 * to stop. Commands never use `process.*` directly, so they run the same in tests and in the CLI.
 */
import type { ProgressStream } from "./progress.js";

/** The output streams and stop signal handed to every command. */
export interface CommandIO {
  /** Results (ids, batches, sampled text): what a script would pipe on. */
  readonly stdout: { write(chunk: string): unknown };
  /** Progress and diagnostics; a terminal gets a live progress bar. */
  readonly stderr: ProgressStream;
  /** Aborted on Ctrl-C: long commands stop after the current step and save their state. */
  readonly signal?: AbortSignal;
}

/** An io that collects output in strings (for tests and programmatic use). */
export function memoryIO(signal?: AbortSignal): CommandIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk), isTTY: false },
    ...(signal ? { signal } : {}),
    out: () => out,
    err: () => err,
  };
}
