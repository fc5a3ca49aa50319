import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src");

/** Relative imports of a source file, followed from `entry`: the files its entry point loads. */
function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(path.join(srcDir, file), "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(/from "\.\/([\w-]+)\.js"/g)) visit(`${m[1]}.ts`);
  };
  visit(entry);
  return seen;
}

describe("entry points", () => {
  it("the main entry loads no Node built-in, no process.*, no tfjs (it must run in a browser)", () => {
    const files = reachable("index.ts");
    expect([...files.keys()]).not.toContain("tf-dataset.ts");
    expect([...files.keys()]).not.toContain("node.ts");
    for (const [file, text] of files) {
      expect(text, file).not.toMatch(/from "(node:|fs|path|os|worker_threads|@tensorflow|@tfgpt\/tokenizers\/node)/);
      expect(text, file).not.toMatch(/\bprocess\./);
    }
  });

  it("only tf-dataset.ts imports tfjs", () => {
    const importers = readdirSync(srcDir).filter((f) => readFileSync(path.join(srcDir, f), "utf8").includes('from "@tensorflow/tfjs"'));
    expect(importers).toEqual(["tf-dataset.ts"]);
  });
});
