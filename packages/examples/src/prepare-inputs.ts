/**
 * The inputs of `tfgpt prepare`: text, JSONL (`.jsonl`, `.jsonl.gz`, `.json.gz`) and parquet
 * files, named directly, by directory or by glob, cut into work units and read as documents.
 *
 * A unit is a whole file, or one parquet row group (when a fan-out has fewer files than ranks).
 * Each unit has a size in "input bytes" (a file's size; a row group's compressed size) that
 * progress and the val split count in; reading a unit reports each document's start and its text
 * with the input bytes it stands for, so the position after a unit is exactly its end.
 *
 * Memory: a text file is read 1 MiB at a time, a JSONL file line by line, a parquet file one row
 * group at a time (the text column only), never a whole file.
 */
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { FileMetaData } from "hyparquet";
import { CliError } from "./errors.js";

/** Bytes read from a text file at a time. */
const READ_BYTES = 1 << 20;

/** What kind of input a file is, by its name. */
export type InputKind = "text" | "jsonl" | "jsonl.gz" | "parquet";

/** The kind of `file` by its extension: `.parquet`, `.jsonl`, `.jsonl.gz`/`.json.gz`, anything else is text. */
export function inputKind(file: string): InputKind {
  const name = file.toLowerCase();
  if (name.endsWith(".parquet")) return "parquet";
  if (name.endsWith(".jsonl.gz") || name.endsWith(".json.gz")) return "jsonl.gz";
  if (name.endsWith(".jsonl")) return "jsonl";
  return "text";
}

/** Extensions a directory input is searched for. */
const DIR_EXTENSIONS = [".txt", ".jsonl", ".jsonl.gz", ".json.gz", ".parquet"];

/** An input file. */
export interface InputFile {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** A unit of work: a file, or one row group of a parquet file. */
export interface InputUnit {
  /** Stable id: the file's index in the sorted input list, and `:g<N>` for a row group. */
  readonly id: string;
  readonly file: string;
  readonly kind: InputKind;
  /** Input bytes this unit counts for (progress and the val split). */
  readonly size: number;
  /** The row group, for a row-group unit. */
  readonly rowGroup?: number;
}

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/** `*` within a name, `**` any directories, `?` one character, `[abc]` a class. */
function globRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && pattern[i + 1] === "*") {
      re += pattern[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += pattern[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else out.push(full);
  }
}

/** The files a glob matches, sorted. */
async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split("/");
  const fixed: string[] = [];
  for (const p of parts) {
    if (hasGlob(p)) break;
    fixed.push(p);
  }
  const base = fixed.length === 0 ? "." : fixed.join("/") || "/";
  const all: string[] = [];
  try {
    await walk(base, all);
  } catch {
    return [];
  }
  const re = globRegExp(pattern.startsWith("./") ? pattern.slice(2) : pattern);
  return all.filter((f) => re.test(base === "." ? path.relative(".", f) : f)).sort();
}

/**
 * The input files, in order: a file is itself, a directory its text/JSONL/parquet files (sorted,
 * recursively), a glob (quoted, so the shell leaves it) the files it matches, sorted.
 *
 * @throws CliError for a missing input, a directory without inputs or a glob that matches nothing.
 */
export async function listInputs(inputs: readonly string[]): Promise<InputFile[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      if (hasGlob(input)) {
        const matched = await expandGlob(input);
        if (matched.length === 0) throw new CliError(`${input}: the pattern matches no file`);
        files.push(...matched);
        continue;
      }
      throw new CliError(`${input}: no such file or directory`);
    }
    if (info.isDirectory()) {
      const all: string[] = [];
      await walk(input, all);
      const found = all.filter((f) => DIR_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e))).sort();
      if (found.length === 0) throw new CliError(`${input}: no ${DIR_EXTENSIONS.join(", ")} files in this directory`);
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  const result: InputFile[] = [];
  for (const file of files) {
    const info = await stat(file);
    result.push({ file, size: info.size, mtimeMs: info.mtimeMs });
  }
  return result;
}

/** A parquet file's footer, read once per process. */
const metadataCache = new Map<string, Promise<FileMetaData>>();

/** The metadata of a parquet file. @throws CliError naming the file when it is not parquet or cut. */
export function parquetMetadataOf(file: string): Promise<FileMetaData> {
  let m = metadataCache.get(file);
  if (m === undefined) {
    m = (async () => {
      const { asyncBufferFromFile, parquetMetadataAsync } = await import("hyparquet");
      try {
        return await parquetMetadataAsync(await asyncBufferFromFile(file));
      } catch (err) {
        throw new CliError(`${file}: not a readable parquet file, corrupt or truncated (${(err as Error).message})`);
      }
    })();
    metadataCache.set(file, m);
  }
  return m;
}

function rowGroupSize(meta: FileMetaData, g: number): number {
  const rg = meta.row_groups[g];
  if (rg === undefined) return 0;
  if (rg.total_compressed_size !== undefined) return Number(rg.total_compressed_size);
  return rg.columns.reduce((s, c) => s + Number(c.meta_data?.total_compressed_size ?? 0), 0);
}

/**
 * The work units of `files`: a unit per file, or, with `rowGroups`, a unit per row group of each
 * parquet file (other files stay whole).
 */
export async function listUnits(files: readonly InputFile[], rowGroups: boolean): Promise<InputUnit[]> {
  const units: InputUnit[] = [];
  for (const [i, f] of files.entries()) {
    const kind = inputKind(f.file);
    if (kind !== "parquet") {
      units.push({ id: String(i), file: f.file, kind, size: f.size });
      continue;
    }
    const meta = await parquetMetadataOf(f.file);
    if (!rowGroups) {
      let size = 0;
      for (let g = 0; g < meta.row_groups.length; g++) size += rowGroupSize(meta, g);
      units.push({ id: String(i), file: f.file, kind, size });
      continue;
    }
    for (let g = 0; g < meta.row_groups.length; g++) {
      units.push({ id: `${i}:g${g}`, file: f.file, kind, size: rowGroupSize(meta, g), rowGroup: g });
    }
  }
  return units;
}

/** How documents are read out of JSONL and parquet rows. */
export interface ReadOptions {
  /** The field (JSONL) or column (parquet) that holds a document's text. */
  readonly textField: string;
  /** `"lf"` turns CRLF/CR into LF in text files (Python's default); `"keep"` keeps them. */
  readonly newline: "lf" | "keep";
  /** Count and skip JSONL lines that are not JSON or lack the text field, instead of failing. */
  readonly skipBadLines: boolean;
}

/** Callbacks of {@link readUnit}: a document starts, and a piece of its text (with its input bytes). */
export interface DocumentSink {
  startDocument(): Promise<void>;
  text(text: string, inputBytes: number): Promise<void>;
  /** A JSONL line skipped under `skipBadLines`. */
  skipped(where: string, why: string): void;
}

/** Reads one unit's documents into `sink`; the input bytes reported add up to `unit.size`. */
export async function readUnit(unit: InputUnit, options: ReadOptions, sink: DocumentSink): Promise<void> {
  if (unit.kind === "text") return readTextUnit(unit, options.newline, sink);
  if (unit.kind === "parquet") return readParquetUnit(unit, options, sink);
  return readJsonlUnit(unit, options, sink);
}

/** A text file is one document (an empty file is none), decoded chunk by chunk. */
async function readTextUnit(unit: InputUnit, newline: "lf" | "keep", sink: DocumentSink): Promise<void> {
  if (unit.size === 0) return;
  const handle = await open(unit.file, "r");
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const buffer = new Uint8Array(READ_BYTES);
  let carryCR = "";
  let read = 0;
  try {
    await sink.startDocument();
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
      const last = bytesRead === 0;
      let text = carryCR + (last ? decoder.decode() : decoder.decode(buffer.subarray(0, bytesRead), { stream: true }));
      carryCR = "";
      if (newline === "lf") {
        // A "\r" at a chunk's end may be the first half of "\r\n": decide with the next chunk.
        if (!last && text.endsWith("\r")) {
          carryCR = "\r";
          text = text.slice(0, -1);
        }
        text = text.replace(/\r\n?/g, "\n");
      }
      // The unit's size is its size when listed; a file that grew is read to its end anyway.
      const bytes = last ? Math.max(0, unit.size - read) : Math.min(bytesRead, Math.max(0, unit.size - read));
      read += bytes;
      await sink.text(text, bytes);
      if (last) return;
    }
  } finally {
    await handle.close();
  }
}

/** The document text of a JSONL line, or why it has none. */
function lineText(line: string, field: string): string | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "not a JSON object" };
  const text = (value as Record<string, unknown>)[field];
  if (typeof text !== "string") {
    const keys = Object.keys(value).slice(0, 20).join(", ");
    return { error: text === undefined ? `no "${field}" field (it has: ${keys || "no fields"}); choose one with --text-field` : `"${field}" is not a string` };
  }
  return text;
}

/** The uncompressed size a gzip file records (its last member's, mod 2^32); 0 when unknown. */
async function gzipRecordedSize(file: string, size: number): Promise<number> {
  if (size < 18) return 0;
  const handle = await open(file, "r");
  try {
    const tail = Buffer.alloc(4);
    await handle.read(tail, 0, 4, size - 4);
    return tail.readUInt32LE(0);
  } finally {
    await handle.close();
  }
}

/**
 * A JSONL file (plain or gzip), line by line: each non-blank line is a JSON object and one
 * document. A line's input bytes are its share of the file (for gzip: its uncompressed bytes
 * scaled by the compression ratio the gzip trailer records), capped so the total is the file size.
 */
async function readJsonlUnit(unit: InputUnit, options: ReadOptions, sink: DocumentSink): Promise<void> {
  const gz = unit.kind === "jsonl.gz";
  const ratio = gz ? unit.size / Math.max(1, await gzipRecordedSize(unit.file, unit.size)) : 1;
  const source = createReadStream(unit.file, { highWaterMark: 1 << 20 });
  const gunzip = gz ? createGunzip() : undefined;
  let streamError: Error | undefined;
  const input = gunzip ? source.pipe(gunzip) : source;
  source.on("error", (e) => (streamError ??= e));
  gunzip?.on("error", (e) => (streamError ??= e));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let given = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      // A byte order mark before the first line marks the file's encoding, it is no part of the JSON.
      const line = lineNo === 1 && raw.startsWith("\ufeff") ? raw.slice(1) : raw;
      const bytes = Math.min(Math.max(0, unit.size - given), Math.round((Buffer.byteLength(line) + 1) * ratio));
      given += bytes;
      if (line.trim() === "") {
        continue;
      }
      const text = lineText(line, options.textField);
      if (typeof text !== "string") {
        const where = `${unit.file}:${lineNo}`;
        if (!options.skipBadLines) throw new CliError(`${where}: ${text.error}; --skip-bad-lines counts and skips such lines`);
        sink.skipped(where, text.error);
        continue;
      }
      await sink.startDocument();
      await sink.text(text, bytes);
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    streamError ??= err as Error;
  } finally {
    lines.close();
    source.destroy();
  }
  if (streamError !== undefined) {
    throw new CliError(`${unit.file}: ${gz ? "corrupt or truncated gzip data" : "cannot read"} after line ${lineNo} (${streamError.message})`);
  }
  await sink.text("", Math.max(0, unit.size - given));
}

/** UTF-8 as `readText` decodes it: a BOM is kept as U+FEFF (as Python's `bytes.decode` and pyarrow do), invalid bytes become U+FFFD. */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Parquet: each row of the text column is a document; a row group is read at a time. */
async function readParquetUnit(unit: InputUnit, options: ReadOptions, sink: DocumentSink): Promise<void> {
  const meta = await parquetMetadataOf(unit.file);
  const columns = topLevelColumns(meta);
  if (!columns.includes(options.textField)) {
    throw new CliError(`${unit.file}: no column "${options.textField}" (it has: ${columns.join(", ") || "none"}); choose one with --text-field`);
  }
  const { asyncBufferFromFile, parquetRead } = await import("hyparquet");
  const { compressors } = await import("hyparquet-compressors");
  const file = await asyncBufferFromFile(unit.file);
  const groups = unit.rowGroup === undefined ? meta.row_groups.map((_, g) => g) : [unit.rowGroup];
  for (const g of groups) {
    let groupStart = 0;
    for (let i = 0; i < g; i++) groupStart += Number(meta.row_groups[i]?.num_rows ?? 0);
    const rowsIn = Number(meta.row_groups[g]?.num_rows ?? 0);
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file,
        metadata: meta,
        columns: [options.textField],
        rowStart: groupStart,
        rowEnd: groupStart + rowsIn,
        compressors,
        // hyparquet's own TextDecoder would drop a leading U+FEFF of a row.
        parsers: { stringFromBytes: (bytes: Uint8Array | undefined) => bytes && utf8.decode(bytes) },
        onComplete: (r: unknown[][]) => {
          rows = r;
        },
      });
    } catch (err) {
      throw new CliError(`${unit.file}: row group ${g} is corrupt or truncated (${(err as Error).message})`);
    }
    const size = rowGroupSize(meta, g);
    let textBytes = 0;
    for (const row of rows) textBytes += typeof row[0] === "string" ? (row[0] as string).length : 0;
    let groupGiven = 0;
    for (const [r, row] of rows.entries()) {
      const text = row[0];
      if (typeof text !== "string") {
        const where = `${unit.file}: row group ${g}, row ${r}`;
        const why = `"${options.textField}" is ${text === null || text === undefined ? "null" : `not a string (${typeof text})`}`;
        if (!options.skipBadLines) throw new CliError(`${where}: ${why}; --skip-bad-lines counts and skips such rows`);
        sink.skipped(where, why);
        continue;
      }
      const bytes = Math.min(size - groupGiven, Math.round((size * text.length) / Math.max(1, textBytes)));
      groupGiven += bytes;
      await sink.startDocument();
      await sink.text(text, bytes);
    }
    rows = [];
    await sink.text("", size - groupGiven);
  }
}

/** The names of a parquet file's top-level columns. */
function topLevelColumns(meta: FileMetaData): string[] {
  const names: string[] = [];
  const schema = meta.schema;
  let i = 1;
  const skip = (at: number): number => {
    // A node and all its descendants: returns the index after them.
    const n = schema[at]?.num_children ?? 0;
    let next = at + 1;
    for (let c = 0; c < n; c++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    const el = schema[i];
    if (el === undefined) break;
    names.push(el.name);
    i = skip(i);
  }
  return names;
}
