import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { getTokenizer } from "@tfgpt/tokenizers";
import { readText } from "@tfgpt/tokenizers/node";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import { PrepareConfigSchema, runPrepare } from "../src/prepare.js";
import { DATA_DIR, errorLine, runCli } from "./helpers.js";

const pg84 = path.join(DATA_DIR, "pg84.txt");
const verdict = path.join(DATA_DIR, "the-verdict.txt");
const tmp = mkdtempSync(path.join(tmpdir(), "tfgpt-prepare-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const EOT = 50256;

/** llm.c's documented layout, parsed with nothing but a Buffer: header ints and tokens. */
function readShard(file: string): { magic: number; version: number; count: number; size: number; tokens: number[] } {
  const bytes = readFileSync(file);
  const [magic, version, count] = [bytes.readInt32LE(0), bytes.readInt32LE(4), bytes.readInt32LE(8)];
  const tokens = Array.from({ length: (bytes.byteLength - 1024) / 2 }, (_, i) => bytes.readUInt16LE(1024 + 2 * i));
  return { magic, version, count, size: bytes.byteLength, tokens };
}

/** All tokens of a prepared directory in shard order (val shard 0 first). */
function allTokens(dir: string): number[] {
  const files = readdirSync(dir)
    .filter((n) => n.endsWith(".bin"))
    .sort((a, b) => a.slice(-10).localeCompare(b.slice(-10))); // by shard index across splits
  return files.flatMap((n) => readShard(path.join(dir, n)).tokens);
}

describe("tfgpt prepare", () => {
  const out = path.join(tmp, "pg84");

  it("writes pg84 as llm.c shards: header 20240520/1/count, size 1024 + 2 x tokens, EOT then the text's ids", async () => {
    const r = runCli(["prepare", pg84, "--out", out, "--encoding", "gpt2"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/448,967\/448,967 bytes \(100%\), 106,391 tokens, 2 shards written/);
    expect(readdirSync(out).sort()).toEqual(["pg84.manifest.json", "pg84_train_000001.bin", "pg84_val_000000.bin"]);
    let total = 0;
    for (const name of readdirSync(out).filter((n) => n.endsWith(".bin"))) {
      const shard = readShard(path.join(out, name));
      expect([shard.magic, shard.version]).toEqual([20240520, 1]);
      expect(shard.size).toBe(1024 + 2 * shard.count);
      total += shard.count;
    }
    expect(total).toBe(106_391); // 106,390 ids of the text (read as Python does) + one EOT
    const ids = getTokenizer("gpt2").encode(await readText(pg84), { allowedSpecial: [], disallowedSpecial: [] });
    expect(allTokens(out)).toEqual([EOT, ...ids]);
    // The val split is about --val-fraction (0.1) of the tokens, and comes first.
    const val = readShard(path.join(out, "pg84_val_000000.bin")).count;
    expect(val / total).toBeGreaterThan(0.09);
    expect(val / total).toBeLessThan(0.11);
    expect(r.stdout).toContain("pg84_val_000000.bin\tval\t");
  });

  it("feeds tfgpt batches (a directory reads its train shards), and a truncated copy fails with one line", () => {
    const ok = runCli(["batches", out, "--max-length", "4", "--stride", "4", "--batch-size", "2", "--json"]);
    expect(ok.code).toBe(0);
    const train = readShard(path.join(out, "pg84_train_000001.bin")).tokens;
    expect((JSON.parse(ok.stdout) as { inputs: number[][] }).inputs).toEqual([train.slice(0, 4), train.slice(4, 8)]);
    const broken = path.join(tmp, "broken_train_000000.bin");
    copyFileSync(path.join(out, "pg84_train_000001.bin"), broken);
    truncateSync(broken, 100_000);
    const bad = runCli(["batches", broken, "--max-length", "4", "--stride", "4", "--batch-size", "2"]);
    expect(bad.code).toBe(1);
    expect(errorLine(bad, "batches")).toBe(
      `tfgpt batches: ${broken}: truncated shard: the header says ${train.length} tokens (${1024 + 2 * train.length} bytes), the file has 100000 bytes`,
    );
  });

  it("refuses an --out that already holds shards of the prefix", () => {
    const r = runCli(["prepare", pg84, "--out", out]);
    expect(r.code).toBe(1);
    expect(errorLine(r, "prepare")).toMatch(/already holds pg84_train_000001\.bin/);
  });

  it("streams in small pieces, in parallel workers, with many shards: the same tokens", async () => {
    const text = await readText(pg84);
    const ids = getTokenizer("gpt2").encode(text, { allowedSpecial: [], disallowedSpecial: [] });
    for (const workers of [1, 2]) {
      const dir = path.join(tmp, `small-${workers}`);
      const io = memoryIO();
      const config = PrepareConfigSchema.parse({ files: [pg84], out: dir, shardTokens: "30000", valFraction: "0.25", workers: String(workers) });
      const result = await runPrepare({ ...config, pieceChars: 20_000 }, io);
      expect(result.tokens).toBe(106_391);
      expect(result.files.map((f) => path.basename(f.path))).toEqual([
        "pg84_val_000000.bin",
        "pg84_train_000001.bin",
        "pg84_train_000002.bin",
        "pg84_train_000003.bin",
      ]);
      expect(result.files.map((f) => f.tokens).slice(1, 3)).toEqual([30_000, 30_000]);
      expect(allTokens(dir)).toEqual([EOT, ...ids]);
    }
  });

  it("writes llm.c's uint32 header (magic 20240801, version 7) for a vocabulary over 65,536 ids (cl100k_base)", async () => {
    const dir = path.join(tmp, "verdict-cl100k");
    const r = runCli(["prepare", verdict, "--out", dir, "--encoding", "cl100k_base", "--val-fraction", "0"]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["the-verdict.manifest.json", "the-verdict_train_000000.bin"]);
    const bytes = readFileSync(path.join(dir, "the-verdict_train_000000.bin"));
    const [magic, version, count] = [bytes.readInt32LE(0), bytes.readInt32LE(4), bytes.readInt32LE(8)];
    expect([magic, version]).toEqual([20240801, 7]);
    expect(bytes.byteLength).toBe(1024 + 4 * count);
    const tokens = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(1024 + 4 * i));
    const tok = getTokenizer("cl100k_base");
    const ids = tok.encode(await readText(verdict), { allowedSpecial: [], disallowedSpecial: [] });
    expect(tokens).toEqual([100257, ...ids]);
  });

  it("a directory is one document per .txt file (sorted), each after an EOT; --format nanogpt writes train.bin/val.bin", async () => {
    const docs = path.join(tmp, "docs");
    mkdirSync(docs);
    writeFileSync(path.join(docs, "b.txt"), "Second document.\r\n");
    writeFileSync(path.join(docs, "a.txt"), "First <|endoftext|> document.");
    writeFileSync(path.join(docs, "skip.md"), "not a document");
    const tok = getTokenizer("gpt2");
    const ordinary = { allowedSpecial: [], disallowedSpecial: [] } as const;
    const expected = [EOT, ...tok.encode("First <|endoftext|> document.", ordinary), EOT, ...tok.encode("Second document.\n", ordinary)];
    const llmc = path.join(tmp, "docs-llmc");
    await runPrepare(PrepareConfigSchema.parse({ files: [docs], out: llmc, valFraction: "0" }), memoryIO());
    expect(readdirSync(llmc).sort()).toEqual(["docs.manifest.json", "docs_train_000000.bin"]);
    expect(readShard(path.join(llmc, "docs_train_000000.bin")).tokens).toEqual(expected);
    const nano = path.join(tmp, "docs-nano");
    await runPrepare(PrepareConfigSchema.parse({ files: [docs, verdict], out: nano, format: "nanogpt", valFraction: "0" }), memoryIO());
    expect(readdirSync(nano).sort()).toEqual(["docs.manifest.json", "train.bin"]);
    const bytes = readFileSync(path.join(nano, "train.bin"));
    const tokens = Array.from({ length: bytes.byteLength / 2 }, (_, i) => bytes.readUInt16LE(2 * i));
    expect(tokens.slice(0, expected.length)).toEqual(expected);
    expect(tokens.length).toBe(expected.length + 1 + 5145); // EOT + The Verdict's 5,145 tokens
  });
});
