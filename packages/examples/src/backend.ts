/**
 * Backend choice for the commands that run a model: `--backend auto|tensorflow|wasm|cpu`
 * mapped onto `selectBackend` of `@tfgpt/layers/node`, announced on stderr.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, selectBackend, tensorflowInstallHint, type BackendName } from "@tfgpt/layers/node";
import { CliError, UsageError } from "./errors.js";
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
 * @throws UsageError when `--backend tensorflow` is asked for and no TensorFlow package is
 *   installed (the message says how to install one); CliError when one is installed but does not
 *   load (the message says why); LayerConfigError when another backend is not available.
 */
export async function useBackend(choice: BackendChoice): Promise<string> {
  quietTfjs();
  const prefer: "auto" | BackendName[] = choice === "auto" ? "auto" : choice === "tensorflow" ? ["tensorflow-gpu", "tensorflow"] : [choice];
  try {
    const selection = await selectBackend({ prefer });
    return selection.description;
  } catch (error) {
    if (!(error instanceof BackendUnavailableError) || choice !== "tensorflow") throw error;
    // `--backend tensorflow` without the package: how to install it (a usage error, exit 2).
    if (error.tensorflowNotInstalled) throw new UsageError(`\`--backend tensorflow\`: @tensorflow/tfjs-node is not installed; ${tensorflowInstallHint()}`);
    // Installed but broken (e.g. an addon built against another libtensorflow): the reason.
    const reasons = error.skipped.filter((s) => !/ not installed$/.test(s.reason)).map((s) => s.reason);
    throw new CliError(`\`--backend tensorflow\`: ${reasons.join("; ")} (\`--backend auto\` falls back to wasm)`);
  }
}
