/**
 * TensorFlow checkpoints (tensor bundle V2) read without TensorFlow, on a fixture written by
 * TensorFlow 2.21's tf.compat.v1.train.Saver in the layout of OpenAI's GPT-2 release
 * (scripts/make-openai-checkpoint-fixture.py: hf-gpt2-tiny's weights as OpenAI's files).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { crc32c, maskCrc, unmaskCrc } from "../src/crc32c.js";
import { checkOpenAIGPT2Variables, openAIGPT2Variables, parseOpenAIHParams } from "../src/openai-gpt2.js";
import { snappyDecompress } from "../src/snappy.js";
import { openTensorBundle } from "../src/tensor-bundle-node.js";
import { bundleShardName, tensorBundleFromBuffers } from "../src/tensor-bundle.js";

const fixture = path.join(import.meta.dirname, "fixtures", "openai-gpt2-tiny");
const reference = JSON.parse(readFileSync(path.join(fixture, "reference.json"), "utf8")) as { first: Record<string, number[]> };
const hparams = parseOpenAIHParams(JSON.parse(readFileSync(path.join(fixture, "hparams.json"), "utf8")));
const tmp = mkdtempSync(path.join(tmpdir(), "tfgpt-bundle-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the fixture directory in which `edit` has changed one file. */
function brokenCopy(name: string, edit: (file: string) => void): string {
  const dir = mkdtempSync(path.join(tmp, "broken-"));
  cpSync(fixture, dir, { recursive: true });
  edit(path.join(dir, name));
  return dir;
}

const flipByte = (at: (size: number) => number) => (file: string) => {
  const bytes = readFileSync(file);
  const i = at(bytes.length);
  bytes[i] = bytes[i]! ^ 0xff;
  writeFileSync(file, bytes);
};

describe("crc32c and snappy", () => {
  it("crc32c matches the standard check value and masks as LevelDB does", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720's 32 zero bytes
    for (const c of [0, 1, 0xe3069283, 0xffffffff]) expect(unmaskCrc(maskCrc(c))).toBe(c);
    expect(maskCrc(0)).toBe(0xa282ead8);
  });

  it("decompresses literals, 1-byte, 2-byte and overlapping copies", () => {
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    // "abc" literal, then copy offset 3 length 9 (overlapping): "abcabcabcabc".
    expect(text(snappyDecompress(Uint8Array.from([12, 0x08, 97, 98, 99, ((9 - 4) << 2) | 1, 3])))).toBe("abcabcabcabc");
    // "xy" literal, copy2 offset 2 length 6: "xyxyxyxy".
    expect(text(snappyDecompress(Uint8Array.from([8, 0x04, 120, 121, ((6 - 1) << 2) | 2, 2, 0])))).toBe("xyxyxyxy");
    // A literal whose length is in one extra byte (tag 60 << 2): 61 bytes.
    const long = Uint8Array.from([61, 60 << 2, 60, ...new Array<number>(61).fill(65)]);
    expect(text(snappyDecompress(long))).toBe("A".repeat(61));
  });

  it("refuses corrupt snappy data with a message", () => {
    expect(() => snappyDecompress(Uint8Array.from([4, ((4 - 4) << 2) | 1, 1]), "blk")).toThrow(/blk: corrupt Snappy data: copy offset 1 at output 0/);
    expect(() => snappyDecompress(Uint8Array.from([9, 0x08, 97, 98, 99]), "blk")).toThrow(/3 bytes decoded, the header says 9/);
    expect(() => snappyDecompress(Uint8Array.from([2, 0x08, 97]), "blk")).toThrow(/literal past the end/);
  });
});

describe("tensor bundles", () => {
  it("reads every variable TensorFlow wrote, with its dtype, shape and values", async () => {
    const bundle = await openTensorBundle(fixture);
    try {
      expect(bundle.index.numShards).toBe(1);
      expect(bundle.names).toHaveLength(2 + 12 * hparams.n_layer + 2);
      expect(new Set(bundle.names)).toEqual(new Set(openAIGPT2Variables(hparams).map(([n]) => n)));
      const w = await bundle.readFloat32("model/h1/mlp/c_proj/w");
      expect(w.shape).toEqual([1, 4 * hparams.n_embd, hparams.n_embd]);
      for (const [name, first] of Object.entries(reference.first)) {
        const { values } = await bundle.readFloat32(name);
        expect(Array.from(values.subarray(0, 4))).toEqual(first.map((x) => Math.fround(x)));
      }
      expect(bundle.entry("model/wte")).toMatchObject({ dtype: "float32", shape: [hparams.n_vocab, hparams.n_embd], shard: 0 });
    } finally {
      await bundle.close();
    }
  });

  it("opens a prefix, a directory (its `checkpoint` file) and in-memory buffers alike", async () => {
    const fromPrefix = await openTensorBundle(path.join(fixture, "model.ckpt"));
    const bytes = (await fromPrefix.readFloat32("model/wpe")).values;
    await fromPrefix.close();
    const inMemory = tensorBundleFromBuffers(readFileSync(path.join(fixture, "model.ckpt.index")), [
      readFileSync(bundleShardName(path.join(fixture, "model.ckpt"), 0, 1)),
    ]);
    expect((await inMemory.readFloat32("model/wpe")).values).toEqual(bytes);
    expect(() => tensorBundleFromBuffers(readFileSync(path.join(fixture, "model.ckpt.index")), [])).toThrow(/the index names 1 data shard\(s\), 0 given/);
    // TensorFlow writes absolute paths into `checkpoint`: a moved directory still opens.
    const moved = brokenCopy("checkpoint", (f) => writeFileSync(f, 'model_checkpoint_path: "/elsewhere/run/model.ckpt"\n'));
    const fromMoved = await openTensorBundle(moved);
    expect((await fromMoved.readFloat32("model/wpe")).values).toEqual(bytes);
    await fromMoved.close();
  });

  it("names the missing variable, or the variable whose shape disagrees with hparams, before reading data", async () => {
    const bundle = await openTensorBundle(fixture);
    expect(() => checkOpenAIGPT2Variables(bundle, hparams)).not.toThrow();
    expect(() => checkOpenAIGPT2Variables(bundle, { ...hparams, n_layer: 3 })).toThrow(/no variable "model\/h2\/ln_1\/g"/);
    expect(() => checkOpenAIGPT2Variables(bundle, { ...hparams, n_vocab: 50257 })).toThrow(
      /variable "model\/wte" has shape \[384, 32\], hparams.json implies \[50257, 32\]/,
    );
    await expect(bundle.readFloat32("model/nope")).rejects.toThrow(/no variable "model\/nope" in the checkpoint/);
    await bundle.close();
    expect(() => parseOpenAIHParams({ n_vocab: 10, n_ctx: 0, n_embd: 4, n_head: 1, n_layer: 1 }, "x/hparams.json")).toThrow(
      /x\/hparams.json: `n_ctx` must be a positive integer, received 0/,
    );
  });

  it("bad input: missing files, bad magic, corrupt index block, truncated data, flipped data byte", async () => {
    await expect(openTensorBundle(path.join(tmp, "nothing"))).rejects.toThrow(/no checkpoint index .*nothing\.index/);
    const noData = brokenCopy("model.ckpt.data-00000-of-00001", (f) => rmSync(f));
    await expect(openTensorBundle(noData)).rejects.toThrow(/missing checkpoint data file .*model\.ckpt\.data-00000-of-00001/);
    const badMagic = brokenCopy("model.ckpt.index", flipByte((n) => n - 1));
    await expect(openTensorBundle(badMagic)).rejects.toThrow(/bad footer magic .*: not a TensorFlow index/);
    const badBlock = brokenCopy("model.ckpt.index", flipByte(() => 20));
    await expect(openTensorBundle(badBlock)).rejects.toThrow(/model\.ckpt\.index: checksum mismatch in the block at byte 0/);
    const shortIndex = brokenCopy("model.ckpt.index", (f) => truncateSync(f, 30));
    await expect(openTensorBundle(shortIndex)).rejects.toThrow(/too short for a table/);

    const truncated = brokenCopy("model.ckpt.data-00000-of-00001", (f) => truncateSync(f, 20_000));
    const t = await openTensorBundle(truncated);
    const late = [...t.index.entries.values()].find((e) => e.offset + e.size > 20_000)!;
    await expect(t.readFloat32(late.name)).rejects.toThrow(new RegExp(`variable "${late.name}": ${late.size} bytes at offset ${late.offset} of shard 0 but only \\d+ could be read \\(truncated data file\\?\\)`));
    await t.close();

    const wte = (await openTensorBundle(fixture)).entry("model/wte");
    const flipped = brokenCopy("model.ckpt.data-00000-of-00001", flipByte(() => wte.offset + 5));
    const f = await openTensorBundle(flipped);
    await expect(f.readFloat32("model/wte")).rejects.toThrow(/variable "model\/wte" fails its CRC-32C check \(corrupt data file\)/);
    await f.close();
  });
});
