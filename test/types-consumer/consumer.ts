/**
 * A consumer of every published entry point, type-checked (no emit) by `../types.test.ts` under
 * `moduleResolution` node10, node16 and bundler. Each `@ts-expect-error` proves the entry's types
 * resolved: an import that fell back to `any` would leave the directive unused, which is an error.
 */
import "@tfgpt/tokenizers/encodings/gpt2";
import { chapter2 } from "@tfgpt/examples";
import { createRng } from "@tfgpt/common";
import { writeFileAtomic } from "@tfgpt/common/node";
import { createDataLoader } from "@tfgpt/datasets";
import { createDataLoaderFromFile } from "@tfgpt/datasets/node";
import { toTensors } from "@tfgpt/datasets/tf";
import { createGPT } from "@tfgpt/layers";
import { selectBackend } from "@tfgpt/layers/node";
import { getTokenizer } from "@tfgpt/tokenizers";
import { loadTiktoken } from "@tfgpt/tokenizers/core";
import { readText } from "@tfgpt/tokenizers/node";

export const used = [createRng, writeFileAtomic, chapter2, createDataLoader, createDataLoaderFromFile, toTensors, createGPT, selectBackend, getTokenizer, loadTiktoken, readText];

// @ts-expect-error createRng takes a number seed
createRng("seed");
// @ts-expect-error writeFileAtomic takes a path
void writeFileAtomic(1, "x");
// @ts-expect-error chapter2 takes the text first
chapter2(1);
// @ts-expect-error createDataLoader takes a string
createDataLoader(1);
// @ts-expect-error createDataLoaderFromFile takes a path
void createDataLoaderFromFile(1);
// @ts-expect-error toTensors takes a GPTDataset
toTensors("not a dataset");
// @ts-expect-error createGPT takes a config object
createGPT("gpt2");
// @ts-expect-error selectBackend takes an options object
void selectBackend(1);
// @ts-expect-error getTokenizer takes a name
getTokenizer(1);
// @ts-expect-error loadTiktoken takes a name
void loadTiktoken(1);
// @ts-expect-error readText takes a path
void readText(1);
