#!/usr/bin/env node
/**
 * Encoding throughput of this package against js-tiktoken, gpt-tokenizer and tiktoken (WASM), all
 * in one process, on two inputs:
 * - "frankenstein": pg84.txt (CRLF -> LF) x `copies`;
 * - "mix": a text that is none of our corpora, built from files installed under node_modules:
 *   TypeScript's lib.es5.d.ts and part of lib.dom.d.ts (code and doc comments), its compiler
 *   messages in Japanese, Korean, Chinese, Russian, German and Polish (JSON, CJK, Cyrillic,
 *   Latin with diacritics) and every package's README.md (Markdown, sorted by name). Special-token
 *   strings like <|endoftext|> are removed from it so that every library encodes it as plain text.
 * Rounds interleave the contenders (the machine is shared); best and median MB/s are reported, and
 * every contender's ids are checked against js-tiktoken's and tiktoken (WASM)'s (OpenAI's Rust
 * core; it and we differ from js-tiktoken where JavaScript's regex semantics do, e.g. on U+FEFF).
 *
 * Usage (after `npx tsc -b`): node scripts/throughput.mjs [encoding=gpt2] [copies=20] [rounds=3]
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getEncoding } from "js-tiktoken";
import { getTokenizer } from "../dist/index.js";

const encoding = process.argv[2] ?? "gpt2";
const copies = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 3);
const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(here, "../../../../shared/data");

/** The non-corpus mix (deterministic for a given set of installed packages). */
function textMix() {
  const require = createRequire(import.meta.url);
  const tsLib = path.dirname(require.resolve("typescript"));
  const modules = path.resolve(tsLib, "../..");
  const parts = [readFileSync(path.join(tsLib, "lib.es5.d.ts"), "utf8"), readFileSync(path.join(tsLib, "lib.dom.d.ts"), "utf8").slice(0, 600_000)];
  for (const lang of ["ja", "ko", "zh-cn", "ru", "de", "pl"]) parts.push(readFileSync(path.join(tsLib, lang, "diagnosticMessages.generated.json"), "utf8"));
  for (const name of readdirSync(modules).sort()) {
    const readme = path.join(modules, name, "README.md");
    if (!name.startsWith(".") && existsSync(readme)) parts.push(readFileSync(readme, "utf8"));
  }
  return parts.join("\n").replace(/\r\n?/g, "\n").replace(/<\|[a-z_]+\|>/gi, "");
}

const inputs = {
  [`frankenstein x ${copies}`]: readFileSync(path.join(dataDir, "pg84.txt"), "utf8").replace(/\r\n?/g, "\n").repeat(copies),
  "non-corpus mix": textMix(),
};

const gptTokenizerModule = {
  gpt2: "gpt-tokenizer/encoding/r50k_base", r50k_base: "gpt-tokenizer/encoding/r50k_base", p50k_base: "gpt-tokenizer/encoding/p50k_base",
  cl100k_base: "gpt-tokenizer/encoding/cl100k_base", o200k_base: "gpt-tokenizer/encoding/o200k_base",
}[encoding];
const contenders = [
  ["ours", () => { const t = getTokenizer(encoding); return (s) => t.encode(s); }],
  ["js-tiktoken", () => { const t = getEncoding(encoding); return (s) => t.encode(s); }],
  ["gpt-tokenizer", async () => { const m = await import(gptTokenizerModule); return (s) => m.encode(s); }],
  ["tiktoken (wasm)", async () => { const m = await import("tiktoken"); const t = m.get_encoding(encoding); return (s) => t.encode(s); }],
];
const encoders = [];
for (const [name, make] of contenders) {
  const encode = await make();
  encode("warm up"); // excludes lazy loading (not caches: those are part of each design)
  encoders.push({ name, encode });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`encoding ${encoding}, ${rounds} interleaved rounds, node ${process.version}, ${os.availableParallelism()} cpus, load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
for (const [inputName, text] of Object.entries(inputs)) {
  const mb = Buffer.byteLength(text) / 1e6;
  const results = encoders.map(({ name }) => ({ name, rates: [], ids: undefined }));
  for (let round = 0; round < rounds; round++) {
    encoders.forEach(({ encode }, i) => {
      const entry = results[i];
      const start = performance.now();
      const ids = encode(text);
      entry.rates.push(mb / ((performance.now() - start) / 1000));
      entry.ids ??= ids;
    });
  }
  const reference = results[1].ids;
  const wasm = results[3].ids;
  const ours = results[0];
  console.log(`\n${inputName}: ${mb.toFixed(2)} MB, ${reference.length} tokens`);
  console.log("| encoder | best MB/s | median MB/s | ours / it (best) | ids vs js-tiktoken | ids vs tiktoken (wasm) |\n|---|---:|---:|---:|---|---|");
  const equal = (a, b) => a.length === b.length && Array.prototype.every.call(a, (id, i) => id === b[i]);
  for (const { name, rates, ids } of results) {
    const same = equal(ids, reference);
    const best = Math.max(...rates);
    console.log(
      `| ${name} | ${best.toFixed(2)} | ${median(rates).toFixed(2)} | ${(Math.max(...ours.rates) / best).toFixed(2)}x | ${same ? "equal" : "DIFFERENT"} | ${equal(ids, wasm) ? "equal" : "DIFFERENT"} |`,
    );
  }
}
console.log(`\nload after: ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
