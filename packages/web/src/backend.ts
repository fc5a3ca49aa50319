import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// `?url`: Vite copies each binary into the build and gives its served address, so the wasm
// backend fetches the files from this site instead of a CDN.
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import { selectBrowserBackend, type BrowserBackendSelection } from "@tfgpt/layers";
import type { BackendChoice, BackendInfo } from "./backend-choice.js";

setWasmPaths({
  "tfjs-backend-wasm.wasm": wasmPlain,
  "tfjs-backend-wasm-simd.wasm": wasmSimd,
  "tfjs-backend-wasm-threaded-simd.wasm": wasmThreadedSimd,
});

export { BACKEND_CHOICES, describeBackend, type BackendChoice, type BackendInfo } from "./backend-choice.js";

/** The webgpu backend's code (~330 kB minified) is a separate chunk, fetched only when tried. */
const load = { webgpu: () => import("@tensorflow/tfjs-backend-webgpu") };

function toInfo(selection: BrowserBackendSelection, notes: readonly string[]): BackendInfo {
  return {
    name: selection.backend,
    device: selection.device,
    software: selection.software,
    notes: [...notes, ...selection.skipped.map((s) => `skipped ${s.name}: ${s.reason}`)],
  };
}

/**
 * Switches tfjs to the best available backend for `choice` and waits until it is ready, through
 * `@tfgpt/layers`' `selectBrowserBackend`.
 *
 * `auto` tries webgpu, then webgl, each only on a hardware GPU (on SwiftShader or llvmpipe they
 * are a CPU emulating a GPU, far slower than wasm with SIMD), then wasm, then cpu. A named
 * backend is tried first, even on a software device (the browser test runs webgpu and webgl on
 * SwiftShader that way), then the others as `auto` would. `notes` says why each better backend
 * was passed over.
 *
 * @example
 * const { name, device } = await initBackend("auto"); // "webgpu" on a laptop, "wasm" in headless CI
 */
export async function initBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  const notes: string[] = [];
  if (choice !== "auto") {
    try {
      return toInfo(await selectBrowserBackend({ prefer: choice, load }), notes);
    } catch (error) {
      notes.push(error instanceof Error ? error.message : String(error));
    }
  }
  try {
    return toInfo(await selectBrowserBackend({ prefer: "auto", load }), notes);
  } catch (error) {
    throw new Error(`no tfjs backend could start (${[...notes, error instanceof Error ? error.message : String(error)].join("; ")})`);
  }
}
