import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataLoader } from "../src/data-loader.js";
import { DatasetError } from "../src/errors.js";
import { GPTDataset } from "../src/gpt-dataset.js";
import { ShardWriter, listShards, openShards, readShardHeader } from "../src/node-shards.js";
import { ShardedTokenStore } from "../src/shard-store.js";
import { SHARD_MAGIC, decodeShard, encodeShard, shardFileName, shardSplitOf } from "../src/shards.js";
import { TokenStore } from "../src/token-store.js";

const tmp = mkdtempSync(path.join(tmpdir(), "tfgpt-shards-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(): string {
  const dir = path.join(tmp, `d${dirCount++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const iota = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/**
 * llm.c's format read the way its documentation describes it, with nothing from the package:
 * 256 little-endian int32 (magic, version, count), then the tokens: as llm.c's `data_common.py`
 * writes them, magic 20240520 version 1 for uint16 tokens, magic 20240801 version 7 for uint32.
 */
function referenceRead(bytes: Buffer): { header: number[]; tokens: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = Array.from({ length: 256 }, (_, i) => view.getInt32(i * 4, true));
  const [magic, version, count] = header as [number, number, number];
  const width = magic === 20240520 && version === 1 ? 2 : magic === 20240801 && version === 7 ? 4 : 0;
  if (width === 0) throw new Error(`not llm.c's header: magic ${magic} version ${version}`);
  if (bytes.byteLength !== 1024 + count * width) throw new Error("bad size");
  const tokens: number[] = [];
  for (let i = 0; i < count; i++) tokens.push(width === 2 ? view.getUint16(1024 + 2 * i, true) : view.getUint32(1024 + 4 * i, true));
  return { header, tokens };
}

/** Writes `parts` as shards `<prefix>_train_NNNNNN.bin` (one per part) and returns the directory. */
function writeShards(parts: number[][], vocabSize = 50257): string {
  const dir = freshDir();
  parts.forEach((ids, s) => writeFileSync(path.join(dir, shardFileName("t", "train", s)), encodeShard(ids, vocabSize > 65536 ? 7 : 1)));
  return dir;
}

describe("shard format", () => {
  it("writes llm.c's header and tokens, byte for byte what a reference reader expects", () => {
    const dir = freshDir();
    const writer = new ShardWriter({ outDir: dir, prefix: "x", vocabSize: 50257, shardTokens: 1000 });
    const ids = iota(2500, 7).map((i) => i % 50257);
    writer.write([50256, 1, 2], "val");
    writer.write(ids, "train");
    const files = writer.finish();
    expect(files.map((f) => path.basename(f.path))).toEqual([
      "x_val_000000.bin",
      "x_train_000001.bin",
      "x_train_000002.bin",
      "x_train_000003.bin",
    ]);
    expect(files.map((f) => f.tokens)).toEqual([3, 1000, 1000, 500]);
    expect(readdirSync(dir).some((n) => n.includes(".tmp"))).toBe(false); // temp files renamed away
    const all: number[] = [];
    for (const f of files) {
      const bytes = readFileSync(f.path);
      expect(bytes.byteLength).toBe(1024 + 2 * f.tokens);
      const { header, tokens } = referenceRead(bytes);
      expect(header.slice(0, 3)).toEqual([SHARD_MAGIC, 1, f.tokens]);
      expect(header.slice(3).every((v) => v === 0)).toBe(true);
      // Byte for byte: the file equals the layout built by hand.
      const expected = Buffer.alloc(1024 + 2 * tokens.length);
      expected.writeInt32LE(20240520, 0);
      expected.writeInt32LE(1, 4);
      expected.writeInt32LE(tokens.length, 8);
      tokens.forEach((t, i) => expected.writeUInt16LE(t, 1024 + 2 * i));
      expect(bytes.equals(expected)).toBe(true);
      all.push(...tokens);
    }
    expect(all).toEqual([50256, 1, 2, ...ids]);
    // Our reader agrees with the reference reader.
    const store = openShards(dir, { split: "train", vocabSize: 50257 });
    expect(Array.from(store.slice(0, store.length))).toEqual(ids);
    expect(Array.from(openShards(dir, { split: "val" }).slice(0, 3))).toEqual([50256, 1, 2]);
  });

  it("uses llm.c's uint32 header (magic 20240801, version 7) when the vocabulary needs more than 65,536 ids", () => {
    const dir = freshDir();
    const writer = new ShardWriter({ outDir: dir, prefix: "big", vocabSize: 100277 });
    const ids = [0, 65535, 65536, 100276];
    writer.write(ids, "train");
    const [file] = writer.finish();
    const bytes = readFileSync(file?.path as string);
    expect(bytes.byteLength).toBe(1024 + 4 * ids.length);
    expect(referenceRead(bytes)).toMatchObject({ tokens: ids });
    expect(referenceRead(bytes).header.slice(0, 3)).toEqual([20240801, 7, ids.length]);
    expect(Array.from(decodeShard(bytes, "big.bin", { vocabSize: 100277 }))).toEqual(ids);
    expect(Array.from(openShards(file?.path as string, { vocabSize: 100277 }).slice(0, 4))).toEqual(ids);
  });

  it("still reads tfgpt's old uint32 layout (magic 20240520, version 2) with a deprecation note", async () => {
    const ids = [0, 65535, 65536, 100276];
    const bytes = Buffer.alloc(1024 + 4 * ids.length);
    bytes.writeInt32LE(20240520, 0);
    bytes.writeInt32LE(2, 4);
    bytes.writeInt32LE(ids.length, 8);
    ids.forEach((t, i) => bytes.writeUInt32LE(t, 1024 + 4 * i));
    const file = path.join(freshDir(), "old_train_000000.bin");
    writeFileSync(file, bytes);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      expect(readShardHeader(file)).toMatchObject({ version: 2, numTokens: 4, bytesPerToken: 4, deprecation: expect.stringMatching(/20240801, version 7/) });
      expect(Array.from(openShards(file, { vocabSize: 100277 }).slice(0, 4))).toEqual(ids);
      expect(Array.from(decodeShard(bytes, "old.bin"))).toEqual(ids);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => w.name)).toEqual(["DeprecationWarning"]); // once per file
    expect(warnings[0]?.message).toContain(file);
    expect(() => encodeShard(ids, 2 as never)).toThrow(/`version` must be 1 \(uint16 tokens\) or 7/);
  });

  it("reads a shard written by hand from the documented layout (as llm.c's Python writes it)", () => {
    const tokens = [50256, 464, 2068, 7586];
    const bytes = Buffer.alloc(1024 + 8);
    bytes.writeInt32LE(20240520, 0);
    bytes.writeInt32LE(1, 4);
    bytes.writeInt32LE(4, 8);
    tokens.forEach((t, i) => bytes.writeUInt16LE(t, 1024 + 2 * i));
    const file = path.join(freshDir(), "hand_val_000000.bin");
    writeFileSync(file, bytes);
    expect(readShardHeader(file)).toMatchObject({ version: 1, numTokens: 4, bytesPerToken: 2 });
    expect(Array.from(openShards(file).slice(0, 4))).toEqual(tokens);
    expect(Buffer.from(encodeShard(tokens)).equals(bytes)).toBe(true);
  });

  it("writes and reads nanoGPT's headerless uint16 train.bin / val.bin", () => {
    const dir = freshDir();
    const writer = new ShardWriter({ outDir: dir, vocabSize: 50257, format: "nanogpt" });
    writer.write([1, 2, 3], "val");
    writer.write(iota(10), "train");
    writer.write(iota(5, 10), "train");
    writer.finish();
    expect(readdirSync(dir).sort()).toEqual(["train.bin", "val.bin"]);
    const train = readFileSync(path.join(dir, "train.bin"));
    expect(train.byteLength).toBe(30);
    expect(Array.from({ length: 15 }, (_, i) => train.readUInt16LE(2 * i))).toEqual(iota(15));
    expect(Array.from(openShards(dir, { split: "train" }).slice(0, 15))).toEqual(iota(15));
    expect(() => new ShardWriter({ outDir: dir, vocabSize: 100277, format: "nanogpt" })).toThrow(/needs more than 16 bits/);
  });

  it("names and splits files as llm.c does", () => {
    expect(shardFileName("fineweb", "val", 0)).toBe("fineweb_val_000000.bin");
    expect(shardSplitOf("fineweb_train_000012.bin")).toBe("train");
    expect(shardSplitOf("val.bin")).toBe("val");
    expect(shardSplitOf("other.bin")).toBeUndefined();
  });
});

describe("bad shards are DatasetErrors naming the file and the problem", () => {
  const good = encodeShard(iota(100));
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(freshDir(), name);
    writeFileSync(file, bytes);
    return file;
  };
  const expectError = (file: string, pattern: RegExp, options = {}) => {
    let error: unknown;
    try {
      openShards(file, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(pattern);
  };

  it("wrong magic", () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setInt32(0, 12345, true);
    expectError(write("m_train_000000.bin", bytes), /not an llm\.c shard: magic number 12345, expected 20240520 or 20240801/);
  });

  it("unknown version", () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setInt32(4, 3, true);
    expectError(write("v_train_000000.bin", bytes), /unknown shard version 3 for magic 20240520, expected 1 /);
  });

  it("a size that disagrees with the header's count", () => {
    const bytes = new Uint8Array(good.byteLength + 6);
    bytes.set(good);
    expectError(write("s_train_000000.bin", bytes), /size 1230 bytes disagrees with the header's 100 tokens \(1224 bytes expected\)/);
  });

  it("a truncated file (in the tokens, and shorter than the header)", () => {
    expectError(write("t_train_000000.bin", good.subarray(0, 1100)), /truncated shard: the header says 100 tokens \(1224 bytes\), the file has 1100 bytes/);
    expectError(write("h_train_000000.bin", good.subarray(0, 500)), /truncated shard: 500 bytes, shorter than the 1024-byte llm\.c header/);
    expectError(write("val.bin", new Uint8Array(7)), /truncated nanoGPT token file: 7 bytes/);
  });

  it("ids at or above the vocabulary", () => {
    const file = write("i_train_000000.bin", encodeShard([1, 2, 50257, 3]));
    expectError(file, /token 2 is 50257, not below the vocabulary size 50257/, { vocabSize: 50257 });
    expect(() => decodeShard(encodeShard([1, 70000]), "mem.bin", { vocabSize: 50257 })).toThrow(/mem\.bin: token 1 is 70000/);
  });

  it("a missing file and an empty directory", () => {
    const missing = path.join(tmp, "nope.bin");
    expectError(missing, /no such shard file/);
    expect(() => listShards(freshDir(), "train")).toThrow(/no train shards/);
  });
});

describe("ShardedTokenStore windows", () => {
  const parts = [iota(50), iota(7, 50), iota(40, 57), iota(33, 97)]; // token i == i across shards
  const dir = writeShards(parts);

  it("without crossShards cuts each shard on its own: no window spans a shard end", () => {
    const store = openShards(dir, { vocabSize: 50257 });
    expect(store.length).toBe(130);
    const ds = new GPTDataset(store, { maxLength: 8, stride: 3 });
    // Per shard: len(range(0, n - 8, 3)): 50 -> 14, 7 -> 0, 40 -> 11, 33 -> 9.
    expect(ds.length).toBe(14 + 0 + 11 + 9);
    const bounds = [0, 50, 57, 97, 130];
    for (let i = 0; i < ds.length; i++) {
      const { input, target } = ds.get(i);
      const first = input[0] as number;
      expect(Array.from(input)).toEqual(iota(8, first));
      expect(Array.from(target)).toEqual(iota(8, first + 1));
      const shard = bounds.findIndex((b) => b > first) - 1;
      expect(first + 8).toBeLessThan(bounds[shard + 1] as number); // target's last token is in the same shard
      expect((first - (bounds[shard] as number)) % 3).toBe(0);
    }
  });

  it("with crossShards gives exactly the windows of the concatenated ids", () => {
    const store = openShards(dir, { crossShards: true });
    const ds = new GPTDataset(store, { maxLength: 8, stride: 3 });
    const flat = new GPTDataset(TokenStore.from(iota(130)), { maxLength: 8, stride: 3 });
    expect(ds.length).toBe(flat.length);
    for (let i = 0; i < ds.length; i++) expect(Array.from(ds.get(i).input)).toEqual(Array.from(flat.get(i).input));
    const a = new DataLoader(ds, { batchSize: 5 });
    const b = new DataLoader(flat, { batchSize: 5 });
    expect(a.batchAt(0, 3)).toEqual(b.batchAt(0, 3));
  });

  it("fails clearly when no shard holds one window", () => {
    const store = ShardedTokenStore.fromBuffers([{ name: "a", bytes: encodeShard(iota(5)) }, { name: "b", bytes: encodeShard(iota(5)) }]);
    expect(() => new GPTDataset(store, { maxLength: 8, stride: 1 })).toThrow(/no shard has `maxLength` \+ 1 = 9 tokens \(the largest has 5\)/);
    expect(new GPTDataset(new ShardedTokenStore(store.shards, { crossShards: true }), { maxLength: 8, stride: 1 }).length).toBe(2);
  });

  it("holds O(shards) numbers, never per-window copies, whatever the stride", () => {
    const store = openShards(dir);
    const bytesHeld = (value: unknown, seen = new Set<unknown>()): number => {
      if (typeof value !== "object" || value === null || seen.has(value)) return 0;
      seen.add(value);
      if (ArrayBuffer.isView(value)) return value.byteLength;
      let total = 0;
      for (const v of Object.values(value)) total += bytesHeld(v, seen);
      if (value instanceof Map) for (const v of value.values()) total += bytesHeld(v, seen);
      return total;
    };
    const held = [1, 2, 8].map((stride) => {
      const ds = new GPTDataset(store, { maxLength: 8, stride });
      const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 1 });
      loader.nextBatch();
      return bytesHeld(ds);
    });
    // Shard offsets + window bounds + one window's read buffer: the same for every stride.
    expect(held[0]).toBe(held[2]);
    expect(held[0]).toBeLessThan(2 * 8 * 5 + 4 * 9 + 2 * 9 + 64);
    // An in-memory dataset holds its N ids once (2 bytes each for gpt2), whatever the stride.
    const ids = TokenStore.from(iota(130), { vocabSize: 50257 });
    for (const stride of [1, 8]) expect(bytesHeld(new GPTDataset(ids, { maxLength: 8, stride }))).toBe(2 * 130);
  });
});

describe("sharded DataLoader: shuffle, ranks, resume", () => {
  // 6 shards of different sizes, token i == i; stride 2, maxLength 4.
  const sizes = [40, 25, 60, 9, 33, 48];
  const starts = sizes.map((_, s) => sizes.slice(0, s).reduce((a, b) => a + b, 0));
  const dir = writeShards(sizes.map((n, s) => iota(n, starts[s])));
  const dataset = new GPTDataset(openShards(dir, { vocabSize: 50257 }), { maxLength: 4, stride: 2 });
  const allStarts = Array.from({ length: dataset.length }, (_, i) => dataset.start(i)).sort((a, b) => a - b);
  const rowStarts = (inputs: Int32Array) => Array.from({ length: inputs.length / 4 }, (_, r) => inputs[r * 4] as number);
  const epoch = (loader: DataLoader<ShardedTokenStore>) => [...loader].flatMap((b) => rowStarts(b.inputs));

  it("shuffles shard order and window order per epoch, reproducibly from the seed", () => {
    const loader = new DataLoader(dataset, { batchSize: 5, shuffle: true, seed: 3 });
    const e0 = epoch(loader);
    const e1 = epoch(loader);
    expect([...e0].sort((a, b) => a - b)).toEqual(allStarts);
    expect([...e1].sort((a, b) => a - b)).toEqual(allStarts);
    expect(e0).not.toEqual(e1);
    expect(e0).not.toEqual(allStarts);
    // Shard by shard: the windows of one shard are consecutive in the epoch's order.
    const shardOf = (t: number) => starts.filter((s) => s <= t).length - 1;
    const runs = e0.map(shardOf).filter((s, i, a) => i === 0 || s !== a[i - 1]);
    expect(new Set(runs).size).toBe(runs.length);
    expect(runs).not.toEqual([...runs].sort((a, b) => a - b)); // shard order is shuffled too
    const again = new DataLoader(dataset, { batchSize: 5, shuffle: true, seed: 3 });
    expect(epoch(again)).toEqual(e0);
    expect(epoch(new DataLoader(dataset, { batchSize: 5, shuffle: true, seed: 4 }))).not.toEqual(e0);
  });

  it("gives ranks disjoint shares that together cover every window once per epoch", () => {
    for (const worldSize of [2, 3, 4]) {
      for (const e of [0, 1]) {
        const seen: number[] = [];
        for (let rank = 0; rank < worldSize; rank++) {
          const loader = new DataLoader(dataset, { batchSize: 3, shuffle: true, seed: 9, rank, worldSize });
          for (let b = 0; b < loader.numBatches; b++) seen.push(...rowStarts(loader.batchAt(e, b).inputs));
        }
        expect(seen.length).toBe(dataset.length);
        expect([...seen].sort((a, b) => a - b)).toEqual(allStarts);
      }
    }
  });

  it("resumes exactly: state() -> JSON -> restore() gives the uninterrupted batches", () => {
    const options = { batchSize: 4, shuffle: true, seed: 11, dropLast: true, rank: 1, worldSize: 2 };
    const reference = new DataLoader(dataset, options);
    const expected = Array.from({ length: 40 }, () => reference.nextBatch()); // crosses epochs
    for (const cut of [0, 7, 13, 25]) {
      const first = new DataLoader(dataset, options);
      for (let i = 0; i < cut; i++) first.nextBatch();
      const saved = JSON.parse(JSON.stringify(first.state())) as ReturnType<typeof first.state>;
      const resumed = new DataLoader(new GPTDataset(openShards(dir, { vocabSize: 50257 }), { maxLength: 4, stride: 2 }), options);
      resumed.restore(saved);
      for (let i = cut; i < 40; i++) expect(resumed.nextBatch()).toEqual(expected[i]);
    }
  });

  it("an in-memory store keeps its old (ungrouped) order", () => {
    const flat = new GPTDataset(iota(215), { maxLength: 4, stride: 2 });
    expect(flat.windowBounds).toBeUndefined();
    const loader = new DataLoader(flat, { batchSize: 5, shuffle: true, seed: 3 });
    expect(loader.batchAt(0, 0).inputs.length).toBe(20);
  });
});

describe("store sizes on disk", () => {
  it("every shard file is 1024 + 2 x tokens bytes", () => {
    const dir = writeShards([iota(10), iota(20)]);
    for (const file of listShards(dir)) expect(statSync(file).size).toBe(1024 + 2 * readShardHeader(file).numTokens);
  });
});
