import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readText, readTextSync } from "../src/read-text.js";
import { dataFile } from "./data.js";

const dir = mkdtempSync(path.join(tmpdir(), "tfgpt-read-text-"));
const file = path.join(dir, "mixed.txt");
writeFileSync(file, Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from("a\r\nb\rc\nd\r\n\r\ne"), 0x97, 0x21]));

describe("readText", () => {
  it("reads like Python's open().read(): BOM kept, CRLF and CR become LF", async () => {
    expect(await readText(file)).toBe("\ufeffa\nb\nc\nd\n\ne\ufffd!");
    expect(readTextSync(file, { newline: "lf" })).toBe("\ufeffa\nb\nc\nd\n\ne\ufffd!");
  });

  it("keeps the text as stored with newline keep", async () => {
    expect(await readText(file, { newline: "keep" })).toBe("\ufeffa\r\nb\rc\nd\r\n\r\ne\ufffd!");
    expect(readTextSync(file, { newline: "keep" })).toBe("\ufeffa\r\nb\rc\nd\r\n\r\ne\ufffd!");
  });

  it("reads pg84.txt with its BOM and without CR in lf mode", () => {
    const text = readTextSync(dataFile("pg84.txt"));
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text.includes("\r")).toBe(false);
    expect(readTextSync(dataFile("pg84.txt"), { newline: "keep" }).includes("\r\n")).toBe(true);
    expect(text.includes("\ufffd")).toBe(false); // valid UTF-8
  });

  it("reads pg84-cp1252.txt's 1,207 invalid bytes as U+FFFD, as Python's errors=\"replace\"", () => {
    const text = readTextSync(dataFile("pg84-cp1252.txt"));
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(text.match(/\ufffd/g)?.length).toBe(1207);
  });

  it("reports invalid UTF-8 it replaced: a count and the first offset (pg84-cp1252.txt: 1,207), a warning by default, an error with errors strict", async () => {
    const cp1252 = dataFile("pg84-cp1252.txt");
    const reports: unknown[] = [];
    const text = readTextSync(cp1252, { onInvalidUtf8: (report) => reports.push(report) });
    expect(text.match(/\ufffd/g)?.length).toBe(1207);
    const firstOffset = Buffer.from(readFileSync(cp1252)).findIndex((b, i) => i >= 3 && b >= 0x80);
    expect(reports).toEqual([{ path: cp1252, replaced: 1207, firstOffset }]);
    // The small file: one stray 0x97 (cp1252's em dash) at byte 16.
    const small: unknown[] = [];
    await readText(file, { onInvalidUtf8: (report) => small.push(report) });
    expect(small).toEqual([{ path: file, replaced: 1, firstOffset: 16 }]);
    // Default: one Node warning naming the file and the count.
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      readTextSync(file);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/mixed\.txt: 1 invalid UTF-8 sequence replaced by U\+FFFD \(the first at byte 16\)/)]);
    // Strict, as Python's default errors="strict".
    expect(() => readTextSync(cp1252, { errors: "strict" })).toThrow(new RegExp(`pg84-cp1252\\.txt" as UTF-8: byte ${firstOffset} \\(0x[0-9a-f]{2}\\) is not valid UTF-8 \\(1207 invalid sequences\\)`));
    await expect(readText(file, { errors: "strict" })).rejects.toThrow(/byte 16 \(0x97\)/);
    // Valid UTF-8, including a real U+FFFD in the file, reports nothing.
    const valid = path.join(dir, "valid.txt");
    writeFileSync(valid, "ok \ufffd é 😀\n");
    const none: unknown[] = [];
    expect(readTextSync(valid, { errors: "strict", onInvalidUtf8: (r) => none.push(r) })).toBe("ok \ufffd é 😀\n");
    readTextSync(dataFile("pg84.txt"), { onInvalidUtf8: (r) => none.push(r) });
    expect(none).toEqual([]);
    // Truncated and overlong sequences, surrogates encoded in UTF-8.
    for (const [bytes, offset] of [[[0x61, 0xe2, 0x82], 1], [[0xc0, 0xaf], 0], [[0x61, 0xed, 0xa0, 0x80], 1], [[0xf4, 0x90, 0x80, 0x80], 0]] as const) {
      const bad = path.join(dir, "bad.bin");
      writeFileSync(bad, Buffer.from(bytes));
      const got: { firstOffset: number }[] = [];
      readTextSync(bad, { onInvalidUtf8: (r) => got.push(r) });
      expect(got[0]?.firstOffset).toBe(offset);
    }
  });

  it("names the path of a missing file or a directory", async () => {
    const missing = path.join(dir, "missing.txt");
    await expect(readText(missing)).rejects.toThrow(new RegExp(`cannot read ".*missing\\.txt": no such file`));
    expect(() => readTextSync(missing)).toThrow(/missing\.txt": no such file/);
    await expect(readText(dir)).rejects.toThrow(/it is a directory/);
    expect(() => readTextSync(dir)).toThrow(/it is a directory/);
  });

  it("validates the newline option", () => {
    expect(() => readTextSync(file, { newline: "crlf" as never })).toThrow(/`newline` must be "lf" or "keep", received "crlf"/);
    expect(() => readTextSync(file, { encoding: "latin1" } as never)).toThrow(/readTextSync has no option `encoding` \(known: newline, errors, onInvalidUtf8\)/);
    expect(() => readTextSync(file, { errors: "ignore" as never })).toThrow(/`errors` must be "replace" or "strict"/);
    expect(() => readTextSync(file, { onInvalidUtf8: 1 as never })).toThrow(/`onInvalidUtf8` must be a function/);
  });
});
