import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import os from "node:os";
import { getThreadsCount, setWasmBackend } from "../src/wasm-threads.js";

/** A backend the tests can run on. */
export type TestBackend = "cpu" | "wasm" | "tensorflow";

/**
 * `TFGPT_BACKEND=tensorflow` runs the suite a second time on `@tensorflow/tfjs-node` (`.ci/run`
 * does after `npm run setup:tensorflow`): unset, the tests run on cpu and wasm.
 */
export const ON_TENSORFLOW = parseTestBackend(process.env.TFGPT_BACKEND) === "tensorflow";

/** The backends every layer is tested on: cpu and wasm, or tensorflow alone in the tensorflow pass. */
export const BACKENDS: readonly TestBackend[] = ON_TENSORFLOW ? ["tensorflow"] : ["cpu", "wasm"];

/** The backend of tests written for one backend: wasm, or tensorflow in the tensorflow pass. */
export const MAIN_BACKEND: TestBackend = ON_TENSORFLOW ? "tensorflow" : "wasm";

/** Why a test is skipped in the tensorflow pass, shown in its name, e.g. "[skipped on tensorflow: ...]". */
export function offTensorflow(name: string, reason: string): string {
  return ON_TENSORFLOW ? `${name} [skipped on tensorflow: ${reason}]` : name;
}

function parseTestBackend(value: string | undefined): "tensorflow" | undefined {
  if (value === undefined || value === "") return undefined;
  if (value === "tensorflow") return "tensorflow";
  throw new Error(`TFGPT_BACKEND must be "tensorflow" or unset, received ${JSON.stringify(value)}`);
}

/** Threads the tests run wasm on: multi-threaded wherever the machine has 2 cores or more (issue 9). */
export const WASM_TEST_THREADS = Math.min(2, os.availableParallelism());

/**
 * Switches tfjs to `name`, failing the test if it cannot start. `wasm` is the package's
 * multi-threaded wasm (`setWasmBackend`), and the test fails if it fell back to one thread
 * where threads were asked for: the suite must pass with threads on.
 */
export async function useBackend(name: TestBackend): Promise<void> {
  if (name === "tensorflow") {
    // A variable, not a literal: the package is optional (npm run setup:tensorflow), and the type
    // check must pass without it. Where it is not installed, the test fails here.
    const tfjsNode = "@tensorflow/tfjs-node";
    await import(tfjsNode);
    const ok = await tf.setBackend("tensorflow");
    if (!ok) throw new Error("backend tensorflow failed to start");
  } else if (name === "wasm") {
    const { threads, notes } = await setWasmBackend({ threads: WASM_TEST_THREADS });
    if (threads !== WASM_TEST_THREADS) throw new Error(`wasm runs on ${threads} thread(s), not ${WASM_TEST_THREADS}: ${notes.join("; ")}`);
    if (getThreadsCount() !== threads) throw new Error("wasm thread count changed after initialization");
  } else {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend ${name} failed to start`);
  }
  if (tf.getBackend() !== name) throw new Error(`backend ${name} failed to start`);
}

/** Largest absolute difference between two tensors (as a number). */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}
