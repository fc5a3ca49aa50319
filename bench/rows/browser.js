// Row 7: our GPT in headless chromium per tfjs backend (webgpu, webgl, wasm, cpu): training and
// generation tokens/s with the device named, from packages/web/scripts/measure-backends.mjs (the
// page test/gpu/index.html). Without a GPU, webgpu and webgl run on SwiftShader (a CPU emulating
// a GPU): a correctness run, not a GPU speed.
// argv[2] JSON: {backends: string[], shape: "micro"|"tiny", steps, newTokens}
import { childArgs, sendResult } from "../lib/child.js";
import { errorText } from "../lib/stats.js";

const args = childArgs();
try {
  const { measureBackends } = await import("../../packages/web/scripts/measure-backends.mjs");
  const rows = await measureBackends({ ...args, onRow: (row) => console.error(JSON.stringify(row)) });
  sendResult({ shape: args.shape, steps: args.steps, newTokens: args.newTokens, rows });
} catch (err) {
  sendResult({ shape: args.shape, error: `fails: ${errorText(err)}` });
}
