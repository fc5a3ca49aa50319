/** prepare's manifest: readers refuse an unfinished, unlisted or changed shard set; --resume checks the job. */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchesConfigSchema, firstBatch } from "../src/batches.js";
import { memoryIO } from "../src/io.js";
import { PrepareConfigSchema, runPrepare } from "../src/prepare.js";
import { DATA_DIR } from "./helpers.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tfgpt-manifest-"));
const verdict = path.join(DATA_DIR, "the-verdict.txt");
const out = path.join(tmp, "v");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await runPrepare(PrepareConfigSchema.parse({ files: [verdict], out, shardTokens: "2000" }), memoryIO());
});

const batch = (dir: string) => firstBatch(BatchesConfigSchema.parse({ file: dir, maxLength: "4", stride: "4", batchSize: "2" }));

/** A copy of the prepared directory, to damage. */
function copy(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(out, dir, { recursive: true });
  return dir;
}

describe("prepare manifest", () => {
  it("lists every shard with its tokens, bytes and SHA-256, and a complete directory reads", async () => {
    const manifest = JSON.parse(readFileSync(path.join(out, "the-verdict.manifest.json"), "utf8")) as {
      tokens: { train: number; val: number };
      shards: { file: string; tokens: number; sha256: string }[];
      tokenizer: { name: string };
    };
    const bins = readdirSync(out).filter((n) => n.endsWith(".bin")).sort();
    expect(manifest.shards.map((s) => s.file).sort()).toEqual(bins);
    expect(manifest.tokens.train + manifest.tokens.val).toBe(5146); // The Verdict's 5,145 gpt2 tokens + one EOT
    expect(manifest.tokenizer.name).toBe("gpt2");
    expect(readdirSync(out).some((n) => n.endsWith(".prepare-partial.json"))).toBe(false);
    expect((await batch(out)).inputs).toHaveLength(2);
  });

  it("refuses a changed shard, a stray shard, a missing manifest and an unfinished job, each in one line", async () => {
    const changed = copy("changed");
    const shard = path.join(changed, readdirSync(changed).find((n) => n.includes("_train_")) as string);
    const bytes = readFileSync(shard);
    bytes.writeUInt8((bytes.readUInt8(bytes.length - 1) ^ 1) & 0xff, bytes.length - 1);
    writeFileSync(shard, bytes);
    await expect(batch(changed)).rejects.toThrow(`${shard} does not match its manifest's SHA-256`);

    const stray = copy("stray");
    writeFileSync(path.join(stray, "other_train_000000.bin"), readFileSync(shard));
    await expect(batch(stray)).rejects.toThrow("other_train_000000.bin is not listed in");

    const bare = copy("bare");
    rmSync(path.join(bare, "the-verdict.manifest.json"));
    await expect(batch(bare)).rejects.toThrow(`${bare} has no *.manifest.json (tfgpt prepare writes it last)`);

    const unfinished = copy("unfinished");
    writeFileSync(path.join(unfinished, "the-verdict.prepare-partial.json"), "{}");
    await expect(batch(unfinished)).rejects.toThrow("holds an unfinished tfgpt prepare");
  });

  it("prepare refuses to start over an unfinished job, and --resume refuses other flags or a finished job", async () => {
    const dir = path.join(tmp, "job");
    const config = (extra: Record<string, unknown>) => PrepareConfigSchema.parse({ files: [verdict], out: dir, shardTokens: "2000", ...extra });
    await runPrepare(config({}), memoryIO());
    await expect(runPrepare(config({ resume: true }), memoryIO())).rejects.toThrow("has no unfinished prepare of the-verdict (it is complete)");
    // Simulate a job killed after its first shards: the journal is back, the manifest not yet written.
    const manifest = path.join(dir, "the-verdict.manifest.json");
    const job = (JSON.parse(readFileSync(manifest, "utf8")) as { job: unknown }).job;
    rmSync(manifest);
    writeFileSync(path.join(dir, "the-verdict.prepare-partial.json"), JSON.stringify(job));
    await expect(runPrepare(config({}), memoryIO())).rejects.toThrow("holds an unfinished prepare of the-verdict: continue it with --resume");
    await expect(runPrepare(config({ resume: true, shardTokens: "3000" }), memoryIO())).rejects.toThrow(
      "the unfinished job in",
    );
    const resumed = await runPrepare(config({ resume: true }), memoryIO());
    expect(resumed.tokens).toBe(5146);
    expect(readdirSync(dir).filter((n) => n.endsWith(".bin"))).toEqual(readdirSync(out).filter((n) => n.endsWith(".bin")));
  });

  it("an empty input writes nothing (not a lone <|endoftext|> shard)", async () => {
    const empty = path.join(tmp, "empty.txt");
    writeFileSync(empty, "");
    await expect(runPrepare(PrepareConfigSchema.parse({ files: [empty], out: path.join(tmp, "e") }), memoryIO())).rejects.toThrow(
      "no text to prepare: " + empty + " is empty",
    );
    expect(readdirSync(tmp)).not.toContain("e");
  });
});
