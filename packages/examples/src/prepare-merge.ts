/**
 * `tfgpt prepare --merge DIR... --out DIR`: joins the ranks of a fan-out prepare into one shard
 * set. Every rank's manifest must be there once, all made by the same job (tokenizer, settings,
 * inputs, world size), their units disjoint and together all the units; every shard must match
 * its manifest (size and SHA-256). The shards are then linked (or copied) into `--out` unless
 * they are already there, and `<prefix>.manifest.json` lists them all in rank order, so readers
 * see the ranks' tokens in the order one process would have written them.
 */
import { copyFile, link, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { writeFileAtomic } from "@tfgpt/common/node";
import { CliError } from "./errors.js";
import type { CommandIO } from "./io.js";
import { ManifestSchema, manifestPath, sha256File, type Manifest } from "./prepare-manifest.js";
import type { PrepareConfig, PrepareResult } from "./prepare.js";

interface RankManifest {
  readonly dir: string;
  readonly name: string;
  readonly manifest: Manifest;
}

/**
 * The inputs as ranks on different machines see the same corpus: each file's path relative to
 * the directory all the inputs share, and its size. Absolute paths (another mount point) and
 * modification times (a copy) may differ between machines; `--resume` on one machine still checks
 * both.
 */
function portableInputs(m: Manifest): { file: string; size: number }[] {
  const dirs = m.job.inputs.map((f) => path.dirname(f.file).split(path.sep));
  let common = dirs[0] ?? [];
  for (const d of dirs) {
    let k = 0;
    while (k < common.length && k < d.length && common[k] === d[k]) k++;
    common = common.slice(0, k);
  }
  const root = common.join(path.sep) || path.sep;
  return m.job.inputs.map((f) => ({ file: path.relative(root, f.file), size: f.size }));
}

/** What every rank of one job must agree on. */
function jobKey(m: Manifest): string {
  const { rank: _r, units: _u, prefix: _p, ...rest } = m.job;
  return JSON.stringify({ tokenizer: m.tokenizer, ...rest, inputs: portableInputs(m) });
}

/** The first field in which two ranks' jobs differ. */
function firstDifference(a: Manifest, b: Manifest): string {
  if (a.tokenizer.name !== b.tokenizer.name || a.tokenizer.vocabSize !== b.tokenizer.vocabSize) {
    return `tokenizer ${a.tokenizer.name} (${a.tokenizer.vocabSize}) vs ${b.tokenizer.name} (${b.tokenizer.vocabSize})`;
  }
  for (const key of ["encoding", "format", "shardTokens", "valFraction", "newline", "textField", "worldSize", "basePrefix", "unitCount"] as const) {
    if (a.job[key] !== b.job[key]) return `${key} ${JSON.stringify(a.job[key])} vs ${JSON.stringify(b.job[key])}`;
  }
  const [x, y] = [portableInputs(a), portableInputs(b)];
  if (x.length !== y.length) return `${x.length} vs ${y.length} input files`;
  const k = x.findIndex((f, i) => f.file !== y[i]?.file || f.size !== y[i]?.size);
  const [f, g] = [x[k], y[k]];
  if (f && g) return f.file !== g.file ? `input ${k + 1}: ${f.file} vs ${g.file}` : `input ${f.file}: ${f.size} vs ${g.size} bytes`;
  return "settings";
}

/**
 * Checks the rank manifests in `config.files` and writes the merged manifest into `config.out`.
 *
 * @throws CliError naming the directory and manifest for: no rank manifest, an unfinished rank,
 *   mixed tokenizers or settings, a rank twice or missing, overlapping units, a bad shard.
 */
export async function runMerge(config: PrepareConfig, io: CommandIO): Promise<PrepareResult> {
  const ranks: RankManifest[] = [];
  for (const dir of config.files) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      throw new CliError(`${dir}: no such directory (\`--merge\` takes the directories the ranks wrote)`);
    }
    const journal = names.find((n) => n.endsWith(".prepare-partial.json") && /-r\d{5}\.prepare-partial\.json$/.test(n));
    if (journal !== undefined) {
      throw new CliError(`${path.join(dir, journal)}: that rank has not finished; run it again with --resume, then merge`);
    }
    let found = 0;
    for (const name of names.filter((n) => n.endsWith(".manifest.json")).sort()) {
      let manifest: Manifest;
      try {
        manifest = ManifestSchema.parse(JSON.parse(await readFile(path.join(dir, name), "utf8")));
      } catch {
        throw new CliError(`${path.join(dir, name)} is corrupt: not a tfgpt prepare manifest`);
      }
      if (manifest.job.worldSize === undefined || manifest.job.worldSize < 2) continue;
      ranks.push({ dir, name, manifest });
      found++;
    }
    if (found === 0) throw new CliError(`${dir}: no rank manifest (*-rNNNNN.manifest.json) of a tfgpt prepare --world-size run`);
  }
  const first = ranks[0] as RankManifest;
  const worldSize = first.manifest.job.worldSize as number;
  for (const r of ranks) {
    if (jobKey(r.manifest) !== jobKey(first.manifest)) {
      throw new CliError(
        `${path.join(r.dir, r.name)} and ${path.join(first.dir, first.name)} come from different jobs (${firstDifference(first.manifest, r.manifest)}): merge only the ranks of one prepare`,
      );
    }
  }
  const byRank = new Map<number, RankManifest>();
  for (const r of ranks) {
    const rank = r.manifest.job.rank as number;
    const other = byRank.get(rank);
    if (other !== undefined) {
      throw new CliError(`rank ${rank} appears twice: ${path.join(other.dir, other.name)} and ${path.join(r.dir, r.name)} (overlapping ranks)`);
    }
    byRank.set(rank, r);
  }
  const missing = [...Array(worldSize).keys()].filter((k) => !byRank.has(k));
  if (missing.length > 0) {
    throw new CliError(`rank${missing.length === 1 ? "" : "s"} ${missing.join(", ")} of ${worldSize} missing: run ${missing.length === 1 ? "it" : "them"} (or name the directory ${missing.length === 1 ? "it" : "they"} wrote), then merge`);
  }
  const owner = new Map<string, number>();
  for (const [rank, r] of byRank) {
    for (const unit of r.manifest.job.units ?? []) {
      const other = owner.get(unit);
      if (other !== undefined) throw new CliError(`ranks ${other} and ${rank} both hold input unit ${unit} (overlapping ranks): prepare them again with one --world-size`);
      owner.set(unit, rank);
    }
  }
  const unitCount = first.manifest.job.unitCount ?? 0;
  if (owner.size !== unitCount) {
    throw new CliError(`the ranks hold ${owner.size} of the job's ${unitCount} input units: some input was prepared by no rank`);
  }
  await mkdir(config.out, { recursive: true });
  const outNames = new Set(await readdir(config.out));
  const shards: Manifest["shards"] = [];
  const parts: string[] = [];
  let documents = 0;
  let skipped = 0;
  const tokens = { train: 0, val: 0 };
  const sameDir = (dir: string) => path.resolve(dir) === path.resolve(config.out);
  for (let rank = 0; rank < worldSize; rank++) {
    const r = byRank.get(rank) as RankManifest;
    for (const s of r.manifest.shards) {
      const from = path.join(r.dir, s.file);
      const size = await stat(from).then((x) => x.size, () => -1);
      if (size !== s.bytes) throw new CliError(`${from}: ${size < 0 ? "missing" : `${size} bytes, its manifest says ${s.bytes}`}: prepare rank ${rank} again`);
      if ((await sha256File(from)) !== s.sha256) throw new CliError(`${from} does not match its manifest's SHA-256: prepare rank ${rank} again`);
      if (!sameDir(r.dir)) {
        if (outNames.has(s.file)) throw new CliError(`\`--out\` ${config.out} already holds ${s.file}: merge into an empty directory`);
        const to = path.join(config.out, s.file);
        const tmp = `${to}.tmp-${process.pid}`;
        await link(from, tmp).catch(() => copyFile(from, tmp));
        await rename(tmp, to).catch(async (err: unknown) => {
          await rm(tmp, { force: true });
          throw err;
        });
      }
      shards.push(s);
    }
    if (!sameDir(r.dir)) await writeFileAtomic(path.join(config.out, r.name), await readFile(path.join(r.dir, r.name)));
    parts.push(r.name);
    documents += r.manifest.documents;
    skipped += r.manifest.skipped ?? 0;
    tokens.train += r.manifest.tokens.train;
    tokens.val += r.manifest.tokens.val;
  }
  const { rank: _r, worldSize: _w, units: _u, ...job } = first.manifest.job;
  const prefix = first.manifest.job.basePrefix ?? "merged";
  const merged: Manifest = {
    format: "tfgpt-prepare-manifest",
    version: 1,
    tokenizer: first.manifest.tokenizer,
    job: { ...job, prefix },
    tokens,
    documents,
    skipped,
    shards,
    parts,
  };
  const file = manifestPath(config.out, prefix);
  await writeFileAtomic(file, `${JSON.stringify(merged, null, 1)}\n`);
  const total = tokens.train + tokens.val;
  io.stderr.write(
    `merged ${worldSize} ranks: ${total.toLocaleString("en-US")} tokens (${merged.tokenizer.name}; train ${tokens.train.toLocaleString("en-US")}, val ${tokens.val.toLocaleString("en-US")}) from ${documents.toLocaleString("en-US")} documents in ${shards.length} shards; manifest ${file}\n`,
  );
  for (const s of shards) io.stdout.write(`${path.join(config.out, s.file)}\t${s.split}\t${s.tokens} tokens\n`);
  return {
    files: shards.map((s) => ({ path: path.join(config.out, s.file), split: s.split, tokens: s.tokens })),
    tokens: total,
    documents,
    bytes: 0,
    skipped,
  };
}
