/** `ShardWriter` creates `outDir` and its parents before its first file, for both formats. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ShardWriter, openShards } from "../src/node-shards.js";

const dir = mkdtempSync(path.join(tmpdir(), "tfgpt-shard-dirs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = Int32Array.from({ length: 250 }, (_, i) => i);

describe("ShardWriter into a directory that does not exist yet", () => {
  it("llm.c shards: outDir and its parents are created, and the shards read back", () => {
    const outDir = path.join(dir, "a", "b", "shards");
    const writer = new ShardWriter({ outDir, prefix: "x", vocabSize: 50257, shardTokens: 100 });
    expect(existsSync(path.join(dir, "a"))).toBe(false); // nothing is created before there is something to write
    writer.write(ids, "train");
    const files = writer.finish();
    expect(files.map((f) => path.basename(f.path))).toEqual(["x_train_000000.bin", "x_train_000001.bin", "x_train_000002.bin"]);
    expect(readdirSync(outDir).sort()).toEqual(["x_train_000000.bin", "x_train_000001.bin", "x_train_000002.bin"]);
    const store = openShards(outDir, { split: "train" });
    expect(store.length).toBe(250);
    expect(Array.from(store.slice(95, 105))).toEqual([95, 96, 97, 98, 99, 100, 101, 102, 103, 104]);
  });

  it("nanoGPT train.bin/val.bin: outDir and its parents are created", () => {
    const outDir = path.join(dir, "c", "d");
    const writer = new ShardWriter({ outDir, vocabSize: 50257, format: "nanogpt" });
    writer.write(ids.subarray(0, 20), "val");
    writer.write(ids, "train");
    expect(writer.finish().map((f) => [path.basename(f.path), f.tokens])).toEqual([["val.bin", 20], ["train.bin", 250]]);
    expect(readdirSync(outDir).sort()).toEqual(["train.bin", "val.bin"]);
  });
});
