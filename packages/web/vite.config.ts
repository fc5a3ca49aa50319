import { defineConfig } from "vite";

/**
 * Vite config of the browser app. The `@tfgpt/*` packages are workspace links, so Vite reads
 * their built `dist/` as source; tfjs and the tokenizer rank tables are pre-bundled up front so
 * the dev server never reloads the page halfway through (the e2e test relies on that).
 */
export default defineConfig({
  // No COOP/COEP headers on purpose: with them tfjs-backend-wasm 4.22 picks its threaded build,
  // whose inlined pthread worker fails once bundled ("e is not defined"); single-threaded SIMD works.
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
  optimizeDeps: {
    include: [
      "@tensorflow/tfjs",
      "@tensorflow/tfjs-backend-wasm",
      "@tensorflow/tfjs-backend-webgpu",
      "zod",
      "js-tiktoken/ranks/gpt2",
      "js-tiktoken/ranks/cl100k_base",
      "js-tiktoken/ranks/o200k_base",
      "js-tiktoken/ranks/p50k_base",
      "js-tiktoken/ranks/r50k_base",
    ],
  },
  // The training worker is a module worker: ES output keeps webgpu's backend a separate chunk
  // that is only fetched when the worker tries webgpu (iife, the default, would inline it).
  worker: { format: "es" },
  build: {
    target: "es2022",
    // tfjs and the o200k/cl100k rank tables are large by nature; one warning per build is noise.
    chunkSizeWarningLimit: 12_000,
  },
});
