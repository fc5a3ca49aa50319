// Row 1b: what a page pays for the tokenizers: the production JS of a one-line page built by Vite
// for each entry of @tfgpt/tokenizers (the main entry registers all five encodings; `core` +
// `encodings/<name>` one; `loadTiktoken` splits each table into its own chunk), and of the web app.
// Sizes in bytes, deterministic (no timing). Args (argv[2] JSON): {} .
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { sendResult } from "../lib/child.js";
import { repoRoot } from "../lib/data.js";

const ENTRIES = {
  "main entry (all five encodings)": `import { getTokenizer } from "@tfgpt/tokenizers"; console.log(getTokenizer("gpt2").encode("hi"));`,
  ...Object.fromEntries(
    ["gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base"].map((name) => [
      `core + encodings/${name}`,
      `import { getTokenizer } from "@tfgpt/tokenizers/core"; import "@tfgpt/tokenizers/encodings/${name}"; console.log(getTokenizer("${name}").encode("hi"));`,
    ]),
  ),
  "core + loadTiktoken (first load)": `import { loadTiktoken } from "@tfgpt/tokenizers/core"; loadTiktoken("cl100k_base").then((t) => console.log(t.encode("hi")));`,
};

/** JS files under `dir` (a Vite build): total bytes, gzip bytes, and the entry chunk's bytes (what the first load fetches). */
function jsSizes(dir) {
  let bytes = 0;
  let gzip = 0;
  let entry = 0;
  const entryFile = /src="\/?([^"]+\.js)"/.exec(readFileSync(path.join(dir, "index.html"), "utf8"))?.[1];
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".js")) files.push(p);
    }
  };
  walk(dir);
  for (const f of files) {
    const content = readFileSync(f);
    bytes += content.length;
    gzip += gzipSync(content).length;
    if (entryFile !== undefined && f.endsWith(entryFile)) entry = content.length;
  }
  return { bytes, gzip, entry, files: files.length };
}

const { build } = await import("vite");
// Inside the repository, so that the pages resolve @tfgpt/tokenizers from its node_modules.
mkdirSync(path.join(repoRoot, "bench/out"), { recursive: true });
const work = mkdtempSync(path.join(repoRoot, "bench/out/bundle-"));
const sizes = {};
try {
  for (const [label, code] of Object.entries(ENTRIES)) {
    const dir = mkdtempSync(path.join(work, "page-"));
    writeFileSync(path.join(dir, "index.html"), `<!doctype html><script type="module" src="./main.js"></script>`);
    writeFileSync(path.join(dir, "main.js"), code);
    await build({ root: dir, logLevel: "silent", configFile: false, resolve: { preserveSymlinks: false }, build: { outDir: path.join(dir, "dist"), emptyOutDir: true, chunkSizeWarningLimit: 1e9 } });
    sizes[label] = jsSizes(path.join(dir, "dist"));
  }
  const web = path.join(repoRoot, "packages/web");
  await build({ root: web, logLevel: "silent", build: { outDir: path.join(work, "web-dist"), emptyOutDir: true, chunkSizeWarningLimit: 1e9 } });
  sizes["the web app (packages/web)"] = jsSizes(path.join(work, "web-dist"));
} finally {
  rmSync(work, { recursive: true, force: true });
}
sendResult({ sizes });
