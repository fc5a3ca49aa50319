/**
 * OpenAI's GPT-2 release (`hparams.json` + a TensorFlow checkpoint, the files "LLMs from scratch"
 * downloads in chapter 5) mapped onto Hugging Face's GPT-2 names, so that one name table
 * (`gpt2WeightTable`: HF -> ours) loads both. The release's `[1, in, out]` Conv1D kernels are
 * stored with a leading 1; their values are laid out as our `[in, out]` kernels.
 */
import * as tf from "@tensorflow/tfjs";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "./errors.js";
import { createGPT, parseGPTConfig, type GPTConfigInput } from "./gpt.js";
import type { GPTModel } from "./gpt-model.js";
import { checkBackendCapacity, gpt2WeightTable, weightsByPath, type FromPretrainedOptions } from "./pretrained.js";
import type { TensorBundle } from "./tensor-bundle.js";

const positiveInt = z.number().int().positive().describe("a positive integer");

/** zod schema of `hparams.json` in an OpenAI GPT-2 release. */
export const OpenAIHParamsSchema = z.object({
  n_vocab: positiveInt,
  n_ctx: positiveInt,
  n_embd: positiveInt,
  n_head: positiveInt,
  n_layer: positiveInt,
});

/** `hparams.json` of an OpenAI GPT-2 release (124M: 50257, 1024, 768, 12, 12). */
export type OpenAIHParams = z.output<typeof OpenAIHParamsSchema>;

/** Validates `hparams.json`'s content; `what` names the file in the error. */
export function parseOpenAIHParams(value: unknown, what = "hparams.json"): OpenAIHParams {
  try {
    return parseOptions(OpenAIHParamsSchema.loose(), value, what);
  } catch (error) {
    throw new LayerConfigError(`${what}: ${(error as Error).message}`);
  }
}

/** The `createGPT` config of a release: GPT-2's architecture (qkv bias, tied head, no dropout). */
export function configFromOpenAIHParams(h: OpenAIHParams): GPTConfigInput {
  return { vocabSize: h.n_vocab, contextLength: h.n_ctx, embeddingDim: h.n_embd, numHeads: h.n_head, numLayers: h.n_layer, dropout: 0, qkvBias: true, tieWeights: true };
}

/**
 * The release's variables and the shapes `hparams` gives them, as
 * `[openaiName, hfName, expectedShape]` (expected = as stored, before squeezing).
 */
export function openAIGPT2Variables(h: OpenAIHParams): Array<[string, string, number[]]> {
  const C = h.n_embd;
  const list: Array<[string, string, number[]]> = [
    ["model/wte", "wte.weight", [h.n_vocab, C]],
    ["model/wpe", "wpe.weight", [h.n_ctx, C]],
  ];
  for (let i = 0; i < h.n_layer; i++) {
    const o = `model/h${i}/`;
    const f = `h.${i}.`;
    list.push(
      [`${o}ln_1/g`, `${f}ln_1.weight`, [C]],
      [`${o}ln_1/b`, `${f}ln_1.bias`, [C]],
      [`${o}attn/c_attn/w`, `${f}attn.c_attn.weight`, [1, C, 3 * C]],
      [`${o}attn/c_attn/b`, `${f}attn.c_attn.bias`, [3 * C]],
      [`${o}attn/c_proj/w`, `${f}attn.c_proj.weight`, [1, C, C]],
      [`${o}attn/c_proj/b`, `${f}attn.c_proj.bias`, [C]],
      [`${o}ln_2/g`, `${f}ln_2.weight`, [C]],
      [`${o}ln_2/b`, `${f}ln_2.bias`, [C]],
      [`${o}mlp/c_fc/w`, `${f}mlp.c_fc.weight`, [1, C, 4 * C]],
      [`${o}mlp/c_fc/b`, `${f}mlp.c_fc.bias`, [4 * C]],
      [`${o}mlp/c_proj/w`, `${f}mlp.c_proj.weight`, [1, 4 * C, C]],
      [`${o}mlp/c_proj/b`, `${f}mlp.c_proj.bias`, [C]],
    );
  }
  list.push(["model/ln_f/g", "ln_f.weight", [C]], ["model/ln_f/b", "ln_f.bias", [C]]);
  return list;
}

/**
 * Checks that an opened release checkpoint has every GPT-2 variable of `hparams` with the shape
 * `hparams` implies, without reading any tensor data.
 *
 * @throws LayerConfigError naming the missing variable, or the variable with both shapes.
 */
export function checkOpenAIGPT2Variables(bundle: TensorBundle, hparams: OpenAIHParams): void {
  for (const [name, , expected] of openAIGPT2Variables(hparams)) {
    const entry = bundle.index.entries.get(name);
    if (entry === undefined) throw new LayerConfigError(`${bundle.what}: no variable ${JSON.stringify(name)} (an OpenAI GPT-2 checkpoint with n_layer ${hparams.n_layer} has it)`, name);
    if (entry.shape.join(",") !== expected.join(",")) {
      throw new LayerConfigError(`${bundle.what}: variable ${JSON.stringify(name)} has shape [${entry.shape.join(", ")}], hparams.json implies [${expected.join(", ")}]`, name);
    }
  }
}

/**
 * Builds the GPT-2 of `hparams` and fills it from an opened release checkpoint, one tensor at a
 * time, through the same name table as Hugging Face files (`gpt2WeightTable`). Every variable's
 * presence and shape, and the model's size against the backend, are checked before anything is
 * allocated; the model is disposed if a read fails (a CRC mismatch, a truncated data file), so
 * nothing half-loaded is returned.
 *
 * @example
 * ```ts
 * // Browser: the files of OpenAI's release fetched as ArrayBuffers.
 * const bundle = tensorBundleFromBuffers(indexBuffer, [dataBuffer]);
 * const model = await loadOpenAIGPT2(bundle, parseOpenAIHParams(hparamsJson));
 * ```
 */
export async function loadOpenAIGPT2(bundle: TensorBundle, hparams: OpenAIHParams, options: FromPretrainedOptions = {}): Promise<GPTModel> {
  const config = parseGPTConfig(configFromOpenAIHParams(hparams));
  checkOpenAIGPT2Variables(bundle, hparams);
  checkBackendCapacity(config, options.maxWeightBytes);
  const openaiName = new Map(openAIGPT2Variables(hparams).map(([openai, hf]) => [hf, openai]));
  const model = createGPT(config, { initialize: "zeros" });
  try {
    const weights = weightsByPath(model);
    for (const row of gpt2WeightTable(config)) {
      const variable = weights.get(row.path);
      const name = openaiName.get(row.hf);
      if (variable === undefined || name === undefined) throw new Error(`unreachable: no weight or variable for ${row.hf}`);
      const { values } = await bundle.readFloat32(name);
      tf.tidy(() => {
        variable.write(tf.tensor(values, [...row.shape], "float32"));
      });
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
