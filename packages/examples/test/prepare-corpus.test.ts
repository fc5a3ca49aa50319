/**
 * `tfgpt prepare` at corpus scale: JSONL/gzip/parquet inputs against tiktoken's ids (fixtures made
 * by test/fixtures/corpus/make_fixtures.py), llm.c and nanoGPT layouts byte for byte, bad input,
 * fan-out over ranks + merge (token totals equal one process), per-rank resume.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/io.js";
import { PrepareConfigSchema, rankShare, resolveRank, runPrepare } from "../src/prepare.js";
import { verifyShardDir } from "../src/prepare-manifest.js";
import { runTrain, TrainConfigSchema } from "../src/train.js";
import { errorLine, runCli } from "./helpers.js";

const FIX = path.resolve(import.meta.dirname, "fixtures/corpus");
const fx = (name: string) => path.join(FIX, name);
const expected = JSON.parse(readFileSync(fx("expected.json"), "utf8")) as Record<string, number[]>;
const ALL = [fx("docs.jsonl"), fx("docs.jsonl.gz"), fx("docs.parquet")];
const allIds = [...(expected["docs.jsonl"] ?? []), ...(expected["docs.jsonl.gz"] ?? []), ...(expected["docs.parquet"] ?? [])];

const tmp = mkdtempSync(path.join(os.tmpdir(), "tfgpt-corpus-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(tmp, `o${n++}`);
const config = (extra: Record<string, unknown>) => PrepareConfigSchema.parse({ files: ALL, out: fresh(), env: {}, ...extra });

/** The ids of an llm.c shard, read as llm.c's dataloader does: 256 int32 header, then uint16/uint32 ids. */
function llmcIds(file: string): number[] {
  const b = readFileSync(file);
  const header = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + 1024));
  expect(header[0]).toBe(20240520);
  const body = b.buffer.slice(b.byteOffset + 1024, b.byteOffset + b.byteLength);
  const ids = header[1] === 1 ? new Uint16Array(body) : new Uint32Array(body);
  expect(ids.length).toBe(header[2]);
  return [...ids];
}

/** All ids of a shard directory in name order (rank, then shard number). */
function dirIds(dir: string, filter = (_: string) => true): number[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bin") && filter(f))
    .sort((a, b) => {
      const key = (s: string) => s.replace(/_(train|val)_(\d+)\.bin$/, "_$2");
      return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
    })
    .flatMap((f) => llmcIds(path.join(dir, f)));
}

describe("prepare: JSONL, gzip and parquet inputs", () => {
  it("gives tiktoken's ids for every document (llm.c's [<|endoftext|>] + encode_ordinary), one shard byte-equal to llm.c's write_datafile", async () => {
    const c = config({ valFraction: 0 });
    const result = await runPrepare(c, memoryIO());
    expect(result.documents).toBe(60);
    expect(result.tokens).toBe(allIds.length);
    expect(dirIds(c.out)).toEqual(allIds);
    const one = config({ files: [fx("docs.jsonl")], valFraction: 0 });
    await runPrepare(one, memoryIO());
    expect(readFileSync(path.join(one.out, "docs_train_000000.bin")).equals(readFileSync(fx("docs.llmc.bin")))).toBe(true);
    const nano = config({ files: [fx("docs.jsonl")], valFraction: 0, format: "nanogpt" });
    await runPrepare(nano, memoryIO());
    // nanoGPT's np.memmap(train.bin, dtype=np.uint16): the same bytes prepare.py writes.
    expect(readFileSync(path.join(nano.out, "train.bin")).equals(readFileSync(fx("docs.nanogpt.bin")))).toBe(true);
  });

  it("reads another field with --text-field, a directory, and a glob", async () => {
    const c = config({ files: [fx("content.jsonl")], textField: "content", valFraction: 0 });
    await runPrepare(c, memoryIO());
    expect(dirIds(c.out)).toEqual(expected["content.jsonl"]);
    const dir = path.join(tmp, "in");
    rmSync(dir, { recursive: true, force: true });
    for (const f of ALL) copyFileSync(f, path.join(tmp, path.basename(f)));
    const d = config({ files: [`${tmp}/docs.*`], valFraction: 0, prefix: "g" });
    await runPrepare(d, memoryIO());
    // Sorted: docs.jsonl, docs.jsonl.gz, docs.parquet.
    expect(dirIds(d.out)).toEqual(allIds);
  });

  it("names the bad input: missing column, truncated parquet/gzip, a line that is not JSON (and --skip-bad-lines counts it)", async () => {
    await expect(runPrepare(config({ files: [fx("docs.parquet")], textField: "body" }), memoryIO())).rejects.toThrow(
      `${fx("docs.parquet")}: no column "body" (it has: id, text); choose one with --text-field`,
    );
    await expect(runPrepare(config({ files: [fx("docs.jsonl")], textField: "body" }), memoryIO())).rejects.toThrow(
      `${fx("docs.jsonl")}:1: no "body" field (it has: id, text)`,
    );
    const cutParquet = path.join(tmp, "cut.parquet");
    writeFileSync(cutParquet, readFileSync(fx("docs.parquet")).subarray(0, 3000));
    await expect(runPrepare(config({ files: [cutParquet] }), memoryIO())).rejects.toThrow(`${cutParquet}: not a readable parquet file, corrupt or truncated`);
    // A damaged row group (footer intact): named with its number.
    const bad = Buffer.from(readFileSync(fx("docs.parquet")));
    for (let i = 8; i < 400; i++) bad[i] = 0xff;
    const badParquet = path.join(tmp, "bad.parquet");
    writeFileSync(badParquet, bad);
    await expect(runPrepare(config({ files: [badParquet] }), memoryIO())).rejects.toThrow(/bad\.parquet: row group 0 is corrupt or truncated/);
    const cutGz = path.join(tmp, "cut.jsonl.gz");
    writeFileSync(cutGz, readFileSync(fx("docs.jsonl.gz")).subarray(0, 600));
    await expect(runPrepare(config({ files: [cutGz] }), memoryIO())).rejects.toThrow(`${cutGz}: corrupt or truncated gzip data after line`);
    const lines = readFileSync(fx("docs.jsonl"), "utf8").split("\n");
    lines.splice(2, 0, '{"text": "unterminated');
    const badJsonl = path.join(tmp, "bad.jsonl");
    writeFileSync(badJsonl, lines.join("\n"));
    await expect(runPrepare(config({ files: [badJsonl] }), memoryIO())).rejects.toThrow(
      new RegExp(`^${badJsonl.replace(/[.]/g, "\\.")}:3: not JSON \\(.*\\); --skip-bad-lines counts and skips such lines$`),
    );
    const io = memoryIO();
    const skipped = await runPrepare(config({ files: [badJsonl], skipBadLines: true, valFraction: 0 }), io);
    expect(skipped.skipped).toBe(1);
    expect(skipped.tokens).toBe(expected["docs.jsonl"]?.length);
    expect(io.err()).toContain(`skipped ${badJsonl}:3: not JSON`);
    expect(io.err()).toContain("skipped 1 bad line/row");
  });
});

describe("prepare: fan-out over ranks, merge", () => {
  it("shares are disjoint and cover everything; Slurm and Kubernetes variables fill rank and world size", () => {
    for (const [count, world] of [[6, 4], [3, 5], [100, 7]] as const) {
      const seen: number[] = [];
      for (let r = 0; r < world; r++) {
        const [a, b] = rankShare(count, r, world);
        for (let i = a; i < b; i++) seen.push(i);
      }
      expect(seen).toEqual([...Array(count).keys()]);
    }
    expect(resolveRank({}, { SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_MIN: "4", SLURM_ARRAY_TASK_COUNT: "4" })).toMatchObject({ rank: 3, worldSize: 4 });
    expect(resolveRank({ worldSize: 8 }, { JOB_COMPLETION_INDEX: "5" })).toMatchObject({ rank: 5, worldSize: 8 });
    expect(resolveRank({ rank: 1, worldSize: 2 }, { JOB_COMPLETION_INDEX: "5" })).toMatchObject({ rank: 1, worldSize: 2 });
    expect(resolveRank({}, {})).toMatchObject({ rank: 0, worldSize: 1 });
    expect(() => resolveRank({}, { JOB_COMPLETION_INDEX: "5" })).toThrow("`--rank` 5 (from JOB_COMPLETION_INDEX) needs `--world-size`");
    expect(() => resolveRank({ rank: 4, worldSize: 4 }, {})).toThrow("`--rank` must be in [0, 4) for --world-size 4, received 4");
  });

  it("W ranks (files, or row groups when fewer files than ranks) merge into the single-process token stream; merge checks the set", async () => {
    const single = config({});
    const one = await runPrepare(single, memoryIO());
    for (const world of [2, 5]) {
      const dirs: string[] = [];
      let total = 0;
      for (let r = 0; r < world; r++) {
        // Each rank in its own directory, as on separate machines; rank 1 from Slurm's variables.
        const c = config(r === 1 ? { env: { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: String(world) } } : { rank: r, worldSize: world });
        total += (await runPrepare(c, memoryIO())).tokens;
        dirs.push(c.out);
      }
      expect(total).toBe(one.tokens);
      const out = fresh();
      const merged = await runPrepare(PrepareConfigSchema.parse({ merge: true, files: dirs, out }), memoryIO());
      expect(merged.tokens).toBe(one.tokens);
      expect(merged.documents).toBe(60);
      // Rank order, val then train per rank: the single process's stream.
      expect(dirIds(out)).toEqual(allIds);
      await verifyShardDir(out);
      const manifest = JSON.parse(readFileSync(path.join(out, "docs.manifest.json"), "utf8")) as { tokens: { train: number; val: number }; parts: string[] };
      expect(manifest.tokens.train + manifest.tokens.val).toBe(one.tokens);
      expect(manifest.parts).toHaveLength(world);
      if (world === 2) {
        const io = memoryIO();
        await expect(runPrepare(PrepareConfigSchema.parse({ merge: true, files: [dirs[0]], out: fresh() }), io)).rejects.toThrow("rank 1 of 2 missing");
        await expect(runPrepare(PrepareConfigSchema.parse({ merge: true, files: [dirs[0], dirs[0], dirs[1]], out: fresh() }), io)).rejects.toThrow(
          "rank 0 appears twice",
        );
        // A reader refuses a directory holding ranks that were never merged.
        await expect(verifyShardDir(dirs[0] as string)).rejects.toThrow("one rank of a fan-out prepare, and no merged manifest");
        // Rank 1 with another tokenizer.
        const other = config({ rank: 1, worldSize: 2, encoding: "r50k_base" });
        await runPrepare(other, memoryIO());
        await expect(runPrepare(PrepareConfigSchema.parse({ merge: true, files: [dirs[0], other.out], out: fresh() }), io)).rejects.toThrow(
          "come from different jobs (tokenizer gpt2 (50257) vs r50k_base (50257))",
        );
        // Rank 1 of a world of 3 next to rank 0 of 2: their shares overlap.
        const three = config({ rank: 1, worldSize: 3 });
        await runPrepare(three, memoryIO());
        await expect(runPrepare(PrepareConfigSchema.parse({ merge: true, files: [dirs[0], three.out], out: fresh() }), io)).rejects.toThrow(
          "come from different jobs (worldSize 2 vs 3)",
        );
      }
    }
  });

  it("ranks on machines that mount the corpus elsewhere (other paths, fresh copies) merge; a changed input is named", async () => {
    const r0 = config({ rank: 0, worldSize: 2 });
    await runPrepare(r0, memoryIO());
    // Rank 1's machine: the same files copied under another directory (new mtimes).
    const elsewhere = path.join(tmp, "mnt", "corpus");
    mkdirSync(elsewhere, { recursive: true });
    for (const f of ALL) copyFileSync(f, path.join(elsewhere, path.basename(f)));
    const r1 = config({ rank: 1, worldSize: 2, files: ALL.map((f) => path.join(elsewhere, path.basename(f))) });
    await runPrepare(r1, memoryIO());
    const out = fresh();
    const merged = await runPrepare(PrepareConfigSchema.parse({ merge: true, files: [r0.out, r1.out], out }), memoryIO());
    expect(dirIds(out)).toEqual(allIds);
    expect(merged.tokens).toBe(allIds.length);
    // A rank whose copy of an input differs (one more line) is another job, and the message says which file.
    const changed = path.join(tmp, "changed", "corpus");
    mkdirSync(changed, { recursive: true });
    for (const f of ALL) copyFileSync(f, path.join(changed, path.basename(f)));
    writeFileSync(path.join(changed, "docs.jsonl"), `${readFileSync(fx("docs.jsonl"), "utf8")}{"text": "one more"}\n`);
    const bad = config({ rank: 1, worldSize: 2, files: ALL.map((f) => path.join(changed, path.basename(f))) });
    await runPrepare(bad, memoryIO());
    await expect(runPrepare(PrepareConfigSchema.parse({ merge: true, files: [r0.out, bad.out], out: fresh() }), memoryIO())).rejects.toThrow(
      /come from different jobs \(input docs\.jsonl: \d+ vs \d+ bytes\)/,
    );
  });

  it("the CLI takes --rank/--world-size and --merge, and its errors are one line", () => {
    const out = fresh();
    for (const r of ["0", "1"]) {
      const res = runCli(["prepare", ...ALL, "--out", out, "--rank", r, "--world-size", "2"]);
      expect(res.code).toBe(0);
    }
    const merged = runCli(["prepare", "--merge", out, "--out", out]);
    expect(merged.code).toBe(0);
    expect(merged.stderr).toContain(`merged 2 ranks: ${allIds.length.toLocaleString("en-US")} tokens`);
    const missing = runCli(["prepare", fx("docs.parquet"), "--out", fresh(), "--text-field", "body"]);
    expect(missing.code).toBe(1);
    expect(errorLine(missing, "prepare")).toContain('no column "body" (it has: id, text)');
  });
});

describe("prepare: training reads a merged set", () => {
  it("tfgpt train --text MERGEDDIR trains on the ranks' shards (val from the ranks' val shards)", async () => {
    const out = fresh();
    for (const r of [0, 1]) await runPrepare(config({ encoding: "byte", rank: r, worldSize: 2, out }), memoryIO());
    await runPrepare(PrepareConfigSchema.parse({ merge: true, files: [out], out }), memoryIO());
    const io = memoryIO();
    const run = await runTrain(
      TrainConfigSchema.parse({ text: out, encoding: "byte", context: 16, batchSize: 2, steps: 2, evalEvery: 2, out: fresh(), model: { embeddingDim: 16, numHeads: 2, numLayers: 1 } }),
      io,
    );
    expect(run.step).toBe(2);
    expect(run.valLoss).toBeGreaterThan(0);
  });
});

describe("prepare: per-rank resume", () => {
  it("an interrupted rank keeps the shards of its finished units and encodes only the rest; the result equals an uninterrupted run", async () => {
    const base = { rank: 1, worldSize: 2, checkpointBytes: 1, shardTokens: 100 };
    // Rank 1 of 2 over 3 files has 2 units: docs.jsonl.gz and docs.parquet.
    const straight = config(base);
    await runPrepare(straight, memoryIO());
    const out = fresh();
    let calls = 0;
    const signal = {
      get aborted() {
        return ++calls > 25; // stop inside the second unit
      },
    } as unknown as AbortSignal;
    await expect(runPrepare(config({ ...base, out }), memoryIO(signal))).rejects.toThrow("interrupted");
    const journal = JSON.parse(readFileSync(path.join(out, "docs-r00001.prepare-partial.json"), "utf8")) as { progress: { unitsDone: number; shards: { file: string }[] } };
    expect(journal.progress.unitsDone).toBe(1);
    // The shards of the finished unit; those written after it are redone.
    const kept = journal.progress.shards.map((s) => s.file);
    expect(kept.length).toBeGreaterThan(0);
    const mtimes = new Map(kept.map((f) => [f, statSync(path.join(out, f)).mtimeMs]));
    const io = memoryIO();
    await runPrepare(config({ ...base, out, resume: true }), io);
    expect(io.err()).toContain("1 of 2 input units already done");
    for (const [f, t] of mtimes) expect(statSync(path.join(out, f)).mtimeMs).toBe(t); // not rewritten
    const names = readdirSync(straight.out).filter((f) => f.endsWith(".bin")).sort();
    expect(readdirSync(out).filter((f) => f.endsWith(".bin")).sort()).toEqual(names);
    for (const f of names) expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(straight.out, f)))).toBe(true);
  });
});
