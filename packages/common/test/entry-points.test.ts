import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as main from "../src/index.js";
import * as node from "../src/node.js";

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src");

/** The source files the main entry exports from, with their text. */
function mainEntryFiles(): Map<string, string> {
  const index = readFileSync(path.join(srcDir, "index.ts"), "utf8");
  const files = new Map([["index.ts", index]]);
  for (const m of index.matchAll(/from "\.\/([\w-]+)\.js"/g)) files.set(`${m[1]}.ts`, readFileSync(path.join(srcDir, `${m[1]}.ts`), "utf8"));
  return files;
}

describe("entry points", () => {
  it("the main entry loads no Node built-in and no process.* (it runs in a browser)", () => {
    const files = mainEntryFiles();
    expect([...files.keys()].sort()).toEqual(["index.ts", "options.ts", "rng.ts", "schemas.ts"]);
    for (const [file, text] of files) {
      // Each of them imports nothing relative itself, so these are all the files the entry loads.
      expect(text.replace(/^export .* from "\.\/[\w-]+\.js";$/gm, ""), file).not.toMatch(/from "\.\//);
      expect(text, file).not.toMatch(/from "(node:|fs|path|os|worker_threads)/);
      expect(text, file).not.toMatch(/\bprocess\./);
    }
  });

  it("nothing imports tfjs (the CLI's prepare must not load it through common)", () => {
    for (const file of readdirSync(srcDir)) expect(readFileSync(path.join(srcDir, file), "utf8"), file).not.toMatch(/@tensorflow/);
  });

  it("exports what the README documents", () => {
    expect(Object.keys(main).sort()).toEqual(["bool", "createRng", "describeValue", "fn", "nonNegativeInt", "oneOf", "parseOptions", "positiveInt"]);
    expect(Object.keys(node).filter((k) => !(k in main)).sort()).toEqual(["exists", "replaceDirAtomic", "writeDirAtomic", "writeFileAtomic"]);
  });
});
