/**
 * The config of `tfgpt evaluate`, kept apart from `evaluate.ts` so that a bad flag is reported
 * without loading tfjs.
 */
import { z } from "zod";
import { backendFlag, integerFlag, LIMITS, stringFlag } from "./options.js";

/** The validated command line of `tfgpt evaluate`. */
export const EvaluateConfigSchema = z.object({
  /** A run directory (its latest checkpoint), a checkpoint directory, or a pretrained GPT-2 directory. Required. */
  checkpoint: z.string({ error: "`--checkpoint` is required" }).min(1, { error: "`--checkpoint` must not be empty" }),
  /**
   * The examples: labelled texts (classify), an instruction JSON (instruct), or a text file (a
   * language model). Default for a finetune run: its own validation split.
   */
  data: stringFlag("data").optional(),
  /** Examples (or windows) per forward pass. Default 8. */
  batchSize: integerFlag("batch-size", 1, LIMITS.batchSize).default(8),
  /** Print one JSON object instead of the report. */
  json: z.boolean().default(false),
  backend: backendFlag,
});
export type EvaluateConfig = z.output<typeof EvaluateConfigSchema>;
