/**
 * Every fenced `ts`/`js` code block of every README (root, packages/*, bench) and docs/*.md runs
 * as written, against the built packages, in a temporary directory:
 * - blocks of one file run in document order in one working directory, so files an earlier block
 *   writes (`tok/pg84.tiktoken`) are there for a later one; variables do not carry over;
 * - `../shared/data` there points at the test corpora (TFGPT_DATA_DIR), `node_modules` at the
 *   repository's (so `@tfgpt/*` are the built workspaces), and `gpt2/` holds the tiny GPT-2
 *   fixtures in the layout the READMEs download (Hugging Face files; `gpt2/124M`, OpenAI's);
 * - other languages (sh, yaml, diagrams) are not run; a block right after a line
 *   `<!-- no-run: reason -->` is skipped (the reason is required).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

const REPO_ROOT = path.resolve(import.meta.dirname, "..");
const DATA_DIR = process.env.TFGPT_DATA_DIR ?? path.resolve(REPO_ROOT, "../shared/data");
const FIXTURES = path.join(REPO_ROOT, "packages/layers/test/fixtures");
const RUN_LANGS = new Set(["ts", "typescript", "js", "javascript", "mjs"]);

export interface CodeBlock {
  file: string;
  line: number;
  lang: string;
  code: string;
  /** The `<!-- no-run: reason -->` reason, when marked. */
  noRun?: string;
}

/** The fenced code blocks of a Markdown text, with the line of each opening fence. */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] as string);
    if (open === null) continue;
    const fence = open[2] as string;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] as string).trim().startsWith(fence)) body.push(lines[j++] as string);
    const marker = /^<!--\s*no-run(?::\s*(.*?))?\s*-->$/.exec((lines[i - 1] ?? "").trim());
    blocks.push({ file, line: i + 1, lang: (open[3] as string).toLowerCase(), code: body.join("\n"), ...(marker ? { noRun: marker[1] ?? "" } : {}) });
    i = j;
  }
  return blocks;
}

function markdownFiles(): string[] {
  const files = ["README.md", "bench/README.md"];
  for (const dir of ["packages", "docs"]) {
    for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      if (dir === "packages" && entry.isDirectory()) files.push(`packages/${entry.name}/README.md`);
      if (dir === "docs" && entry.isFile() && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
    }
  }
  return files.filter((f) => {
    try {
      return readFileSync(path.join(REPO_ROOT, f)).length > 0;
    } catch {
      return false;
    }
  });
}

const sandboxRoot = mkdtempSync(path.join(os.tmpdir(), "tfgpt-readme-"));
afterAll(() => rmSync(sandboxRoot, { recursive: true, force: true }));

/** A working directory as a reader of the READMEs has it (see the module comment). */
function sandbox(name: string): string {
  const root = path.join(sandboxRoot, name.replace(/[^\w.-]+/g, "_"));
  const cwd = path.join(root, "work");
  mkdirSync(path.join(root, "shared"), { recursive: true });
  mkdirSync(path.join(cwd, "gpt2"), { recursive: true });
  symlinkSync(DATA_DIR, path.join(root, "shared", "data"));
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(cwd, "node_modules"));
  const hf = path.join(FIXTURES, "hf-gpt2-tiny");
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "generation_config.json"]) symlinkSync(path.join(hf, f), path.join(cwd, "gpt2", f));
  symlinkSync(path.join(FIXTURES, "openai-gpt2-tiny"), path.join(cwd, "gpt2", "124M"));
  return cwd;
}

async function runBlock(block: CodeBlock, cwd: string, index: number): Promise<void> {
  const js = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: "block.ts",
  }).outputText;
  const file = path.join(cwd, `block-${index}-line-${block.line}.mjs`);
  writeFileSync(file, js);
  try {
    await promisify(execFile)(process.execPath, [file], { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`${block.file}:${block.line} (${block.lang}) failed:\n${stderr || message}`);
  }
}

const files = markdownFiles();
const all = files.flatMap((f) => codeBlocks(f, readFileSync(path.join(REPO_ROOT, f), "utf8")));
const runnable = all.filter((b) => RUN_LANGS.has(b.lang) && b.noRun === undefined);

describe.concurrent("README code blocks", () => {
  it(`the count: ${runnable.length} of ${all.length} blocks in ${files.length} files run (the rest are other languages or marked no-run with a reason)`, () => {
    console.log(`README code blocks: ${runnable.length} run, ${all.length - runnable.length} not (${files.length} files)`);
    expect(runnable.length).toBeGreaterThanOrEqual(15);
    for (const b of all.filter((x) => x.noRun !== undefined)) expect(b.noRun, `${b.file}:${b.line} no-run needs a reason`).not.toBe("");
  });

  for (const file of files) {
    const blocks = runnable.filter((b) => b.file === file);
    if (blocks.length === 0) continue;
    it(`${file}: ${blocks.length} block(s) run in order`, async () => {
      const cwd = sandbox(file);
      for (const [i, block] of blocks.entries()) await runBlock(block, cwd, i);
    }, 300_000);
  }
});
