#!/usr/bin/env node
/**
 * Times trainBpe on Frankenstein and checks that encoding the book reproduces the training.
 * Usage (after `npx tsc -b`): node scripts/train-bpe.mjs [vocabSize=4096]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createBpeTokenizer, trainBpe } from "../dist/index.js";
import { readTextSync } from "../dist/node.js";

const vocabSize = Number(process.argv[2] ?? 4096);
const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TFGPT_DATA_DIR ?? path.resolve(here, "../../../../shared/data");
const text = readTextSync(path.join(dataDir, "pg84.txt"));
const start = performance.now();
const model = trainBpe(text, { vocabSize });
const seconds = (performance.now() - start) / 1000;
const tok = createBpeTokenizer(model);
const ids = tok.encode(text);
console.log(
  JSON.stringify({
    vocabSize,
    seconds: +seconds.toFixed(2),
    ...model.stats,
    encodedTokens: ids.length,
    reproducesTraining: ids.length === model.stats.tokens,
    roundTrip: tok.decode(ids) === text,
    loadavg: (await import("node:os")).loadavg().map((x) => +x.toFixed(2)),
  }),
);
