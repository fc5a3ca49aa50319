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
import { writeFileAtomic } from "./atomic.js";
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
  /** Input documents, in order, with their sizes and modification times. */
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
  shards: z.array(ShardEntrySchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Writes the journal of a starting job. */
export async function writeJournal(outDir: string, job: PrepareJob): Promise<void> {
  await writeFileAtomic(journalPath(outDir, job.prefix), `${JSON.stringify(job, null, 1)}\n`);
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
  for (const key of ["encoding", "format", "prefix", "shardTokens", "valFraction", "newline"] as const) {
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
): Promise<string> {
  const shards = [];
  for (const f of files) {
    shards.push({ file: path.basename(f.path), split: f.split, tokens: f.tokens, bytes: (await stat(f.path)).size, sha256: await sha256File(f.path) });
  }
  const tokens = { train: 0, val: 0 };
  for (const s of shards) tokens[s.split] += s.tokens;
  const manifest: Manifest = { format: "tfgpt-prepare-manifest", version: 1, tokenizer, job, tokens, documents, shards };
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
  for (const name of manifests) {
    let manifest: Manifest;
    try {
      manifest = ManifestSchema.parse(JSON.parse(await readFile(path.join(dir, name), "utf8")));
    } catch {
      throw new CliError(`${path.join(dir, name)} is corrupt: not a tfgpt prepare manifest`);
    }
    for (const shard of manifest.shards) listed.set(shard.file, shard);
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
