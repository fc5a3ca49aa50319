import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import os from "node:os";
import { getThreadsCount, setWasmBackend } from "../src/wasm-threads.js";

/** The backends every layer is tested on (tfjs-node is optional and not installed in CI). */
export const BACKENDS = ["cpu", "wasm"] as const;

/** Threads the tests run wasm on: multi-threaded wherever the machine has 2 cores or more (issue 9). */
export const WASM_TEST_THREADS = Math.min(2, os.availableParallelism());

/**
 * Switches tfjs to `name`, failing the test if it cannot start. `wasm` is the package's
 * multi-threaded wasm (`setWasmBackend`), and the test fails if it fell back to one thread
 * where threads were asked for: the suite must pass with threads on.
 */
export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  if (name === "wasm") {
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
