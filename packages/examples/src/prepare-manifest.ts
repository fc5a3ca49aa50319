/**
 * The completeness marker of `tfgpt prepare`. While a job runs, `<prefix>.prepare-partial.json`
 * (its settings and inputs) says that the directory holds an unfinished shard set; the last thing
 * a job writes is `<prefix>.manifest.json`: the shards (name, split, tokens, bytes, SHA-256), the
 * token counts, the tokenizer and the settings; the journal is then removed. Readers of a shard
 * directory (`batches`, `train`) call {@link verifyShardDir}: a directory with a journal, without
 * a manifest, with a `.bin` file no manifest lists, or with a shard that differs from its entry is
 * refused with one line. `prepare --resume` reads the journal to continue the same job.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "@tfgpt/common/node";
import { CliError } from "./errors.js";

/** `<prefix>.manifest.json`: written last by a finished `prepare`. */
export function manifestPath(outDir: string, prefix: string): string {
  return path.join(outDir, `${prefix}.manifest.json`);
}

/** `<prefix>.prepare-partial.json`: present while a `prepare` job is unfinished. */
export function journalPath(outDir: string, prefix: string): string {
  return path.join(outDir, `${prefix}.prepare-partial.json`);
}

const MANIFEST_SUFFIX = ".manifest.json";
const JOURNAL_SUFFIX = ".prepare-partial.json";

/** What determines a job's output: a `--resume` must agree on all of it. */
export const PrepareJobSchema = z.object({
  encoding: z.string(),
  format: z.string(),
  prefix: z.string(),
  shardTokens: z.number().int(),
  valFraction: z.number(),
  newline: z.string(),
  /** The JSONL field / parquet column of the text (absent: `"text"`). */
  textField: z.string().optional(),
  /** A fan-out rank: its rank, the world size, the set's prefix, its units (ids) and the units in all. */
  rank: z.number().int().nonnegative().optional(),
  worldSize: z.number().int().positive().optional(),
  basePrefix: z.string().optional(),
  units: z.array(z.string()).optional(),
  unitCount: z.number().int().nonnegative().optional(),
  /** Input files, in order, with their sizes and modification times. */
  inputs: z.array(z.object({ file: z.string(), size: z.number(), mtimeMs: z.number() })),
});
export type PrepareJob = z.infer<typeof PrepareJobSchema>;

const ShardEntrySchema = z.object({
  file: z.string(),
  split: z.enum(["train", "val"]),
  tokens: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const ManifestSchema = z.object({
  format: z.literal("tfgpt-prepare-manifest"),
  version: z.literal(1),
  tokenizer: z.object({ name: z.string(), vocabSize: z.number().int().positive() }),
  job: PrepareJobSchema,
  tokens: z.object({ train: z.number().int().nonnegative(), val: z.number().int().nonnegative() }),
  documents: z.number().int().nonnegative(),
  /** JSONL lines / parquet rows skipped under `--skip-bad-lines`. */
  skipped: z.number().int().nonnegative().optional(),
  shards: z.array(ShardEntrySchema),
  /** A merged fan-out: the rank manifests it joins (file names, in rank order). */
  parts: z.array(z.string()).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** How far a job got: the units finished and the shards that hold exactly them. */
export const JournalProgressSchema = z.object({
  unitsDone: z.number().int().nonnegative(),
  shards: z.array(z.object({ file: z.string(), split: z.enum(["train", "val"]), tokens: z.number().int(), bytes: z.number().int() })),
  position: z.number(),
  tokens: z.number().int(),
  documents: z.number().int(),
  skipped: z.number().int(),
});
export type JournalProgress = z.infer<typeof JournalProgressSchema>;

/** Writes the journal of a job: its settings and, after each resume point, its progress. */
export async function writeJournal(outDir: string, job: PrepareJob, progress?: JournalProgress): Promise<void> {
  await writeFileAtomic(journalPath(outDir, job.prefix), `${JSON.stringify({ ...job, progress }, null, 1)}\n`);
}

/** The progress an unfinished job recorded, or `undefined`. */
export async function readJournalProgress(outDir: string, prefix: string): Promise<JournalProgress | undefined> {
  try {
    const raw = JSON.parse(await readFile(journalPath(outDir, prefix), "utf8")) as { progress?: unknown };
    return raw.progress === undefined ? undefined : JournalProgressSchema.parse(raw.progress);
  } catch {
    return undefined;
  }
}

/** The journal of an unfinished job with this prefix, or `undefined`. */
export async function readJournal(outDir: string, prefix: string): Promise<PrepareJob | undefined> {
  let text: string;
  try {
    text = await readFile(journalPath(outDir, prefix), "utf8");
  } catch {
    return undefined;
  }
  try {
    return PrepareJobSchema.parse(JSON.parse(text));
  } catch {
    throw new CliError(`${journalPath(outDir, prefix)} is corrupt: remove it and the ${prefix}_* shards, then run prepare again`);
  }
}

/** The first setting in which `given` differs from `saved` (`"inputs"` for any input change), or `undefined`. */
export function jobDifference(saved: PrepareJob, given: PrepareJob): string | undefined {
  for (const key of ["encoding", "format", "prefix", "shardTokens", "valFraction", "newline", "textField", "rank", "worldSize"] as const) {
    if (saved[key] !== given[key]) return `${key}: ${JSON.stringify(saved[key])} then, ${JSON.stringify(given[key])} now`;
  }
  const a = saved.inputs;
  const b = given.inputs;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.file !== y.file || x.size !== y.size || x.mtimeMs !== y.mtimeMs) {
      return `input ${x?.file ?? y?.file ?? "?"} ${!x ? "was not an input" : !y ? "is missing" : "has changed"}`;
    }
  }
  return undefined;
}

/**
 * Writes the manifest of a finished job (checksums of its shards), then removes its journal.
 *
 * @param files the shards written, as `ShardWriter.finish` returns them.
 */
export async function writeManifest(
  outDir: string,
  job: PrepareJob,
  tokenizer: { name: string; vocabSize: number },
  files: readonly { path: string; split: "train" | "val"; tokens: number }[],
  documents: number,
  skipped = 0,
): Promise<string> {
  const shards = [];
  for (const f of files) {
    shards.push({ file: path.basename(f.path), split: f.split, tokens: f.tokens, bytes: (await stat(f.path)).size, sha256: await sha256File(f.path) });
  }
  const tokens = { train: 0, val: 0 };
  for (const s of shards) tokens[s.split] += s.tokens;
  const manifest: Manifest = { format: "tfgpt-prepare-manifest", version: 1, tokenizer, job, tokens, documents, skipped, shards };
  const file = manifestPath(outDir, job.prefix);
  await writeFileAtomic(file, `${JSON.stringify(manifest, null, 1)}\n`);
  await rm(journalPath(outDir, job.prefix), { force: true });
  return file;
}

const verified = new Map<string, Promise<void>>();

/**
 * Checks a shard directory against its manifests (once per process and directory): refuses an
 * unfinished job, a directory without a manifest, a `.bin` file no manifest lists, and a listed
 * shard that is missing or differs (size or SHA-256).
 *
 * @throws CliError naming the directory or file and what to do.
 */
export function verifyShardDir(dir: string): Promise<void> {
  const key = path.resolve(dir);
  let check = verified.get(key);
  if (check === undefined) {
    check = verifyUncached(dir);
    verified.set(key, check);
  }
  return check;
}

async function verifyUncached(dir: string): Promise<void> {
  const names = await readdir(dir);
  const journal = names.find((n) => n.endsWith(JOURNAL_SUFFIX));
  if (journal !== undefined) {
    throw new CliError(
      `${dir} holds an unfinished tfgpt prepare (${journal}): its shards are incomplete; continue it with tfgpt prepare ... --out ${dir} --resume`,
    );
  }
  const manifests = names.filter((n) => n.endsWith(MANIFEST_SUFFIX));
  if (manifests.length === 0) {
    throw new CliError(
      `${dir} has no *${MANIFEST_SUFFIX} (tfgpt prepare writes it last): the shard set may be incomplete; run tfgpt prepare again, or name a single .bin file`,
    );
  }
  const listed = new Map<string, z.infer<typeof ShardEntrySchema>>();
  const rankParts: string[] = [];
  const merged = new Set<string>();
  for (const name of manifests) {
    let manifest: Manifest;
    try {
      manifest = ManifestSchema.parse(JSON.parse(await readFile(path.join(dir, name), "utf8")));
    } catch {
      throw new CliError(`${path.join(dir, name)} is corrupt: not a tfgpt prepare manifest`);
    }
    if (manifest.job.worldSize !== undefined && manifest.job.worldSize > 1) rankParts.push(name);
    for (const part of manifest.parts ?? []) merged.add(part);
    for (const shard of manifest.shards) listed.set(shard.file, shard);
  }
  // One rank's manifest is part of a set: the set is complete only once merged.
  const unmerged = rankParts.find((n) => !merged.has(n));
  if (unmerged !== undefined) {
    throw new CliError(
      `${dir} holds ${unmerged}, one rank of a fan-out prepare, and no merged manifest for it: run tfgpt prepare --merge ${dir} --out ${dir} once every rank has finished`,
    );
  }
  const stray = names.find((n) => n.endsWith(".bin") && !listed.has(n));
  if (stray !== undefined) {
    throw new CliError(`${path.join(dir, stray)} is not listed in ${dir}'s manifest: a partial or foreign shard; remove it or prepare again`);
  }
  for (const shard of listed.values()) {
    const file = path.join(dir, shard.file);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) throw new CliError(`${file} is listed in ${dir}'s manifest but missing: prepare again`);
    if (size !== shard.bytes) throw new CliError(`${file} has ${size} bytes, its manifest says ${shard.bytes}: the shard was changed or cut; prepare again`);
    if ((await sha256File(file)) !== shard.sha256) {
      throw new CliError(`${file} does not match its manifest's SHA-256: the shard was changed; prepare again`);
    }
  }
}
