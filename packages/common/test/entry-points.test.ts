import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as main from "../src/index.js";
import * as node from "../src/node.js";

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
  it("the main entry loads no Node built-in and no process.* (it runs in a browser)", () => {
    const files = reachable("index.ts");
    expect([...files.keys()].sort()).toEqual(["index.ts", "options.ts", "rng.ts", "schemas.ts"]);
    for (const [file, text] of files) {
      expect(text, file).not.toMatch(/from "(node:|fs|path|os|worker_threads)/);
      expect(text, file).not.toMatch(/\bprocess\./);
    }
  });

  it("nothing imports tfjs (the CLI's prepare must not load it through common)", () => {
    for (const file of readdirSync(srcDir)) expect(readFileSync(path.join(srcDir, file), "utf8"), file).not.toMatch(/@tensorflow/);
  });

  it("exports what the README documents", () => {
    expect(Object.keys(main).sort()).toEqual(["bool", "createRng", "describeValue", "fn", "nonNegativeInt", "oneOf", "parseOptions", "positiveInt"]);
    expect(Object.keys(node).filter((k) => !(k in main)).sort()).toEqual(["exists", "writeFileAtomic"]);
  });
});
