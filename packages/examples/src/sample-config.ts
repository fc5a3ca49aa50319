/**
 * The config of `tfgpt sample`, kept apart from `sample.ts` so that a bad flag is reported
 * without loading tfjs.
 */
import { z } from "zod";
import { backendFlag, integerFlag, numberFlag } from "./options.js";

/** The validated config of `tfgpt sample`. */
export const SampleConfigSchema = z.object({
  /** A run directory (its latest checkpoint), a checkpoint directory, or a Hugging Face GPT-2 directory. Required. */
  checkpoint: z.string({ error: "`--checkpoint` is required" }).min(1, { error: "`--checkpoint` must not be empty" }),
  /** The text to continue. Required. */
  prompt: z.string({ error: "`--prompt` is required" }).min(1, { error: "`--prompt` must not be empty" }),
  /** Tokens to generate. Default 50. */
  maxNewTokens: integerFlag("max-new-tokens", 1, 100_000).default(50),
  /** 0 is greedy. Default 0. */
  temperature: numberFlag("temperature", { min: 0, max: 100 }).default(0),
  /** Sample among the K most likely tokens. Default: all. */
  topK: integerFlag("top-k").optional(),
  /** Nucleus sampling: among the fewest most likely tokens whose probabilities reach P. Default: off. */
  topP: numberFlag("top-p", { min: 0, max: 1, exclusiveMin: true }).optional(),
  /** Sampling seed. Default 0. */
  seed: integerFlag("seed", 0, 2 ** 32 - 1).default(0),
  /** Backend. Default `"auto"`. */
  backend: backendFlag,
});
export type SampleConfig = z.output<typeof SampleConfigSchema>;

