/**
 * The config of `tfgpt convert`, kept apart from `convert.ts` so that a bad flag is reported
 * without loading tfjs.
 */
import { z } from "zod";
import { choiceFlag } from "./options.js";

/** The validated config of `tfgpt convert`. */
export const ConvertConfigSchema = z.object({
  /** A Hugging Face GPT-2 directory, or a tfgpt run / checkpoint directory. Required. */
  from: z.string({ error: "`--from` is required" }).min(1, { error: "`--from` must not be empty" }),
  /** The directory to write; must not exist yet. Required. */
  to: z.string({ error: "`--to` is required" }).min(1, { error: "`--to` must not be empty" }),
  /** `hf` (config.json + model.safetensors) or `tfjs` (a tfgpt run directory). Default: the other format than `--from`'s. */
  format: choiceFlag("format", ["hf", "tfjs"] as const).optional(),
});
export type ConvertConfig = z.output<typeof ConvertConfigSchema>;
