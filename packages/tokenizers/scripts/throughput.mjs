// Quick throughput comparison (not a test): node scripts/throughput.mjs [encoding] [repeats]
// Frankenstein (CRLF -> LF) x repeats, encoded by js-tiktoken, gpt-tokenizer, tiktoken (wasm) and ours.
import { readFileSync } from "node:fs";
import { getEncoding } from "js-tiktoken";
import { getTokenizer } from "../dist/index.js";

const encoding = process.argv[2] ?? "gpt2";
const repeats = Number(process.argv[3] ?? 20);
const text = readFileSync(new URL("../../../../shared/data/pg84.txt", import.meta.url), "utf8").replace(/\r\n?/g, "\n").repeat(repeats);
const mb = Buffer.byteLength(text) / 1e6;

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
// Rounds interleave the contenders and the best round counts, because the machine is shared.
const rounds = Number(process.argv[4] ?? 3);
const encoders = [];
for (const [name, make] of contenders) {
  const encode = await make();
  encode("warm up"); // exclude lazy loading (not caches: those are part of the design)
  encoders.push({ name, encode, best: Infinity, ids: undefined });
}
for (let round = 0; round < rounds; round++) {
  for (const entry of encoders) {
    const start = performance.now();
    const ids = entry.encode(text);
    entry.best = Math.min(entry.best, (performance.now() - start) / 1000);
    entry.ids ??= Array.from(ids);
  }
}
const reference = encoders[1].ids;
for (const { name, best, ids } of encoders) {
  const same = ids.length === reference.length && ids.every((id, i) => id === reference[i]);
  console.log(`${name.padEnd(16)} ${(mb / best).toFixed(2).padStart(7)} MB/s  ${ids.length} ids  ${same ? "same ids as js-tiktoken" : "DIFFERENT ids"}`);
}
