import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exists, replaceDirAtomic, writeFileAtomic } from "../src/node.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tfgpt-common-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("creates the parent directories and leaves no temporary file", async () => {
    const file = path.join(dir, "a", "b", "latest.json");
    await writeFileAtomic(file, '{"checkpoint":"x"}\n');
    expect(await readFile(file, "utf8")).toBe('{"checkpoint":"x"}\n');
    expect(await readdir(path.join(dir, "a", "b"))).toEqual(["latest.json"]);
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(file))]).toEqual([1, 2, 3]);
    expect(await readdir(path.join(dir, "a", "b"))).toEqual(["latest.json"]);
  });

  it("keeps the original and removes the temporary file when the write fails", async () => {
    const file = path.join(dir, "keep.txt");
    await writeFile(file, "old");
    // A directory in the way of the rename: the temp file is written, the rename fails.
    const blocked = path.join(dir, "blocked");
    await mkdir(path.join(blocked, "child"), { recursive: true });
    await expect(writeFileAtomic(blocked, "new")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(expect.arrayContaining(["blocked", "keep.txt"]));
    expect((await readdir(dir)).length).toBe(2);
    // Data that cannot be written (not a string or bytes): the original stays as it was.
    await expect(writeFileAtomic(file, 42 as never)).rejects.toThrow();
    expect(await readFile(file, "utf8")).toBe("old");
    expect((await readdir(dir)).sort()).toEqual(["blocked", "keep.txt"]);
  });
});

describe("exists", () => {
  it("is true for files and directories, false for what is not there", async () => {
    await writeFile(path.join(dir, "f"), "");
    expect(await exists(path.join(dir, "f"))).toBe(true);
    expect(await exists(dir)).toBe(true);
    expect(await exists(path.join(dir, "nope", "f"))).toBe(false);
  });
});

describe("replaceDirAtomic", () => {
  it("replaces a directory whole (parents created, nothing left beside it); a failed fill changes nothing", async () => {
    const target = path.join(dir, "runs", "model");
    await replaceDirAtomic(target, async (d) => writeFile(path.join(d, "a.txt"), "one"));
    await replaceDirAtomic(target, async (d) => writeFile(path.join(d, "b.txt"), "two"));
    expect(await readdir(target)).toEqual(["b.txt"]);
    expect(await readdir(path.join(dir, "runs"))).toEqual(["model"]);
    await expect(
      replaceDirAtomic(target, async (d) => {
        await writeFile(path.join(d, "c.txt"), "half");
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    expect(await readdir(target)).toEqual(["b.txt"]);
    expect(await readFile(path.join(target, "b.txt"), "utf8")).toBe("two");
    expect(await readdir(path.join(dir, "runs"))).toEqual(["model"]);
  });
});
