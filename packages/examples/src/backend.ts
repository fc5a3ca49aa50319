/**
 * Backend choice for the commands that run a model: `--backend auto|tensorflow|wasm|cpu`
 * mapped onto `selectBackend` of `@tfgpt/layers/node`, announced on stderr.
 */
import * as tf from "@tensorflow/tfjs";
import { selectBackend, type BackendName } from "@tfgpt/layers/node";
import type { BackendChoice } from "./options.js";

/**
 * Silences tfjs's console warnings (e.g. "install the node backend"): the CLI's stderr carries
 * our own lines only, and a failing command exactly one.
 */
export function quietTfjs(): void {
  tf.env().set("PROD", true);
}

/**
 * Activates the backend asked for and returns the line saying which one runs (e.g. "backend:
 * wasm (2 threads)"); callers print it once their inputs proved good, so that a failing command
 * still prints exactly one line.
 * `"tensorflow"` accepts TensorFlow on the GPU or the CPU, whichever is installed.
 *
 * @throws LayerConfigError when the backend asked for is not available (the message says why).
 */
export async function useBackend(choice: BackendChoice): Promise<string> {
  quietTfjs();
  const prefer: "auto" | BackendName[] = choice === "auto" ? "auto" : choice === "tensorflow" ? ["tensorflow-gpu", "tensorflow"] : [choice];
  const selection = await selectBackend({ prefer });
  return selection.description;
}
