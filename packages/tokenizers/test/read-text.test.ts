import { mkdtempSync, writeFileSync } from "node:fs";
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

  it("names the path of a missing file or a directory", async () => {
    const missing = path.join(dir, "missing.txt");
    await expect(readText(missing)).rejects.toThrow(new RegExp(`cannot read ".*missing\\.txt": no such file`));
    expect(() => readTextSync(missing)).toThrow(/missing\.txt": no such file/);
    await expect(readText(dir)).rejects.toThrow(/it is a directory/);
    expect(() => readTextSync(dir)).toThrow(/it is a directory/);
  });

  it("validates the newline option", () => {
    expect(() => readTextSync(file, { newline: "crlf" as never })).toThrow(/`newline` must be "lf" or "keep", received "crlf"/);
    expect(() => readTextSync(file, { encoding: "latin1" } as never)).toThrow(/`encoding` is not an option of readTextSync/);
  });
});
