// Every weight path (tfjs `originalName`), shape and trainable flag of small models, in the order
// `model.weights` lists them, pinned in `fixtures/weight-names.json`: checkpoints, the Hugging
// Face and OpenAI mappings, LoRA targets and the finetune optimizer restore all find weights by
// these paths. The fixture was written by this test on the code before the layers were composed
// (issue 24): `TFGPT_WRITE_WEIGHT_NAMES=/tmp/weight-names.json npx vitest run test/weight-names.test.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { CausalSelfAttention } from "../src/attention.js";
import { createClassifier } from "../src/classifier.js";
import { createGPT, GPT_PRESETS } from "../src/gpt.js";
import { applyLoRA } from "../src/lora.js";
import { TokenAndPositionEmbedding } from "../src/token-and-position-embedding.js";
import { TransformerBlock } from "../src/transformer-block.js";
import "../src/register.js";
import { useBackend } from "./backends.js";
import { saveAndLoad } from "./layer-harness.js";

type Inventory = Record<string, string[]>;

const small = { ...GPT_PRESETS.tiny, vocabSize: 61, contextLength: 8, embeddingDim: 16, numLayers: 2 };

function list(weights: tf.LayerVariable[]): string[] {
  return weights.map((w) => `${w.originalName} [${w.shape.join(",")}]${w.trainable ? "" : " frozen"}`);
}

async function loaded(model: tf.LayersModel): Promise<tf.LayersModel> {
  return (await saveAndLoad(model)).loaded;
}

async function inventory(): Promise<Inventory> {
  const out: Inventory = {};
  const gpt = createGPT(small);
  out["gpt"] = list(gpt.weights);
  out["gpt qkvBias"] = list(createGPT({ ...small, qkvBias: true }).weights);
  out["gpt untied"] = list(createGPT({ ...small, tieWeights: false }).weights);
  out["gpt loaded"] = list((await loaded(createGPT({ ...small, qkvBias: true }))).weights);
  const lora = createGPT({ ...small, qkvBias: true });
  applyLoRA(lora, { rank: 2, alpha: 4, targets: ["c_attn", "h1/mlp"] });
  out["gpt lora"] = list(lora.weights);
  out["gpt lora loaded"] = list((await loaded(lora)).weights);
  out["classifier"] = list(createClassifier(createGPT(small), { numClasses: 2 }).weights);
  const block = new TransformerBlock({ embeddingDim: 16, numHeads: 2, qkvBias: true, name: "blk" });
  block.apply(tf.zeros([1, 3, 16]));
  out["block applied"] = list(block.weights);
  const unbuilt = new TransformerBlock({ embeddingDim: 16, numHeads: 2, name: "blk2" });
  unbuilt.enableLoRA({ rank: 2, alpha: 2, dropout: 0, kernels: ["attn/c_proj"] });
  out["block enableLoRA unbuilt"] = list(unbuilt.weights);
  const attn = new CausalSelfAttention({ embeddingDim: 16, numHeads: 2, qkvBias: true, name: "att" });
  attn.apply(tf.zeros([1, 3, 16]));
  out["attention applied"] = list(attn.weights);
  for (const kind of ["learned", "sinusoidal"] as const) {
    const tape = new TokenAndPositionEmbedding({ vocabSize: 61, maxLength: 8, embeddingDim: 16, kind, name: `tape_${kind}` });
    tape.apply(tf.zeros([1, 3], "int32"));
    out[`token and position ${kind}`] = list(tape.weights);
  }
  const ids = tf.input({ shape: [null], dtype: "int32" });
  const tape = new TokenAndPositionEmbedding({ vocabSize: 61, maxLength: 8, embeddingDim: 16, name: "emb" });
  out["token and position in a model"] = list(tf.model({ inputs: ids, outputs: tape.apply(ids) as tf.SymbolicTensor }).weights);
  return out;
}

describe("weight paths", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("are the pinned ones (GPT, qkv bias, untied, loaded, LoRA, classifier, each composed layer)", async () => {
    const actual = await inventory();
    const target = process.env["TFGPT_WRITE_WEIGHT_NAMES"];
    if (target !== undefined && target !== "") writeFileSync(target, `${JSON.stringify(actual, null, 1)}\n`);
    const pinned = JSON.parse(readFileSync(new URL("./fixtures/weight-names.json", import.meta.url), "utf8")) as Inventory;
    expect(actual).toEqual(pinned);
  });
});
