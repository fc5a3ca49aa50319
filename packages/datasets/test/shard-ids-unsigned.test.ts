/** Shard ids are unsigned: a uint32 id >= 2^31 must not wrap negative and pass the vocabulary check. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkShardIds, decodeShard, encodeShard } from "../src/shards.js";
import { openShards } from "../src/node.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tfgpt-ids-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("shard ids are checked as unsigned values", () => {
  const big = 2 ** 31 + 5;
  // tfgpt's old uint32 layout (20240520, version 2), still read: the header of a version-7 shard rewritten.
  const bytes = encodeShard([1, 2, big, 3], 7);
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(0, 20240520, true);
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(4, 2, true);

  it("decodeShard refuses an id >= 2^31 with its unsigned value", () => {
    expect(() => decodeShard(bytes, "s.bin", { vocabSize: 100 })).toThrow("s.bin: token 2 is 2147483653, not below the vocabulary size 100");
    expect(() => decodeShard(encodeShard([1, 2, big, 3], 7), "s7.bin", { vocabSize: 100 })).toThrow("s7.bin: token 2 is 2147483653");
  });

  it("openShards (read through an Int32Array) refuses it too", () => {
    const file = path.join(tmp, "x_train_000000.bin");
    writeFileSync(file, bytes);
    expect(() => openShards(file, { vocabSize: 100 })).toThrow("token 2 is 2147483653, not below the vocabulary size 100");
  });

  it("checkShardIds takes a negative Int32 as its uint32 value", () => {
    expect(() => checkShardIds(Int32Array.of(0, -1), 50257, "n.bin")).toThrow("token 1 is 4294967295");
    expect(() => checkShardIds(Int32Array.of(0, 50256), 50257, "n.bin")).not.toThrow();
  });
});
