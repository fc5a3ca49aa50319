import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// `?url`: Vite copies each binary into the build and gives its served address, so the wasm
// backend fetches the files from this site instead of a CDN.
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";

setWasmPaths({
  "tfjs-backend-wasm.wasm": wasmPlain,
  "tfjs-backend-wasm-simd.wasm": wasmSimd,
  "tfjs-backend-wasm-threaded-simd.wasm": wasmThreadedSimd,
});

/** What the page may ask for: `auto` is webgl on a real GPU, else wasm, else cpu. */
export const BACKEND_CHOICES = ["auto", "webgl", "wasm", "cpu"] as const;

/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The backend in use and why the better ones were passed over. */
export interface BackendInfo {
  readonly name: string;
  readonly notes: readonly string[];
}

/**
 * The WebGL renderer's name when it is a software rasterizer (SwiftShader, llvmpipe): tfjs's
 * webgl backend then runs on the CPU through GL emulation, far slower than wasm with SIMD.
 */
function softwareRenderer(): string | undefined {
  try {
    const gl = document.createElement("canvas").getContext("webgl2") ?? document.createElement("canvas").getContext("webgl");
    if (gl === null) return "no WebGL context";
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(info === null ? gl.getParameter(gl.RENDERER) : gl.getParameter(info.UNMASKED_RENDERER_WEBGL));
    return /swiftshader|llvmpipe|software/i.test(renderer) ? renderer : undefined;
  } catch (error) {
    return String(error);
  }
}

/**
 * Switches tfjs to the best available backend for `choice` and waits until it is ready.
 *
 * @param choice `"auto"` (default) tries webgl (skipped on a software renderer), then wasm, then cpu;
 *   a named backend is tried first, then the others.
 * @example
 * const { name } = await initBackend("auto"); // "webgl" on a laptop, "wasm" in headless CI
 */
export async function initBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  const notes: string[] = [];
  const order: string[] = choice === "auto" ? ["webgl", "wasm", "cpu"] : [choice, ...["webgl", "wasm", "cpu"].filter((b) => b !== choice)];
  for (const name of order) {
    if (name === "webgl" && choice === "auto") {
      const software = softwareRenderer();
      if (software !== undefined) {
        notes.push(`skipped webgl: ${software}`);
        continue;
      }
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name: tf.getBackend(), notes };
      }
      notes.push(`${name} unavailable`);
    } catch (error) {
      notes.push(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${notes.join("; ")})`);
}
