// The one launch of the page's scripts: Vite's dev server for this package on 127.0.0.1 (WebGPU
// needs a secure context: 127.0.0.1 is one), and Debian's headless chromium (driven by
// playwright-core) with WebGPU enabled and SwiftShader allowed where there is no GPU, in a fresh
// user-data directory that is removed on close. Used by measure-backends.mjs and profile-head.mjs
// (through `eachBackendOnCheckPage`), screenshot-webgpu.mjs (and measure-training.mjs, with
// `gpu: false`).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { createServer } from "vite";

/** This package's root (where vite.config.ts is). */
export const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Flags without which headless chromium on a server hides the GPU or phones home. */
const COMMON_ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** GPU allowed (no --disable-gpu), WebGPU on, SwiftShader allowed where there is no GPU. */
const GPU_ARGS = ["--enable-unsafe-webgpu", "--enable-unsafe-swiftshader"];

/**
 * Starts the server and the browser; `close()` stops both and removes the profile.
 * @param {{ gpu?: boolean, viewport?: { width: number, height: number } }} [options] `gpu` (default true): WebGPU/WebGL on (else --disable-gpu).
 * @returns {Promise<{ url: string, page: import("playwright-core").Page, close: () => Promise<void> }>} `url` ends with "/".
 */
export async function launchPage(options = {}) {
  const gpu = options.gpu ?? true;
  const server = await createServer({ root: webRoot, configFile: path.join(webRoot, "vite.config.ts"), logLevel: "warn", server: { host: "127.0.0.1", port: 0, hmr: false, watch: null } });
  await server.listen();
  const url = server.resolvedUrls?.local[0] ?? "";
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "tfgpt-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.TFGPT_CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      ...(options.viewport === undefined ? {} : { viewport: options.viewport }),
      args: [...COMMON_ARGS, ...(gpu ? GPU_ARGS : ["--disable-gpu"])],
    });
  } catch (error) {
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    url,
    page,
    close: async () => {
      await context.close();
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens test/gpu/index.html (the backend check page) and runs `measure(page, backend)` for each
 * backend in turn; a backend whose measurement throws gives `{backend, ...extra, error}` (the
 * message's first 12 lines). Each row goes to `onRow` as it comes; all are returned.
 * @template T
 * @param {{ backends: string[], measure: (page: import("playwright-core").Page, backend: string) => Promise<T>, extra?: object, onRow?: (row: T | object) => void }} args
 * @returns {Promise<Array<T | object>>}
 */
export async function eachBackendOnCheckPage({ backends, measure, extra = {}, onRow = () => {} }) {
  const rows = [];
  const { url, page, close } = await launchPage();
  try {
    page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${url}test/gpu/index.html`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 90_000 });
    for (const backend of backends) {
      let row;
      try {
        row = await measure(page, backend);
      } catch (error) {
        row = { backend, ...extra, error: error instanceof Error ? error.message.split("\n").slice(0, 12).join(" | ") : String(error) };
      }
      rows.push(row);
      onRow(row);
    }
  } finally {
    await close();
  }
  return rows;
}
