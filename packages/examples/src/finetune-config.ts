/**
 * The config of `tfgpt finetune` (kept apart from `finetune.ts` so that a bad flag is reported
 * without loading tfjs), and the settings a fine-tuning run is determined by (saved in its
 * checkpoints, restored on `--resume`).
 */
import { z } from "zod";
import { LORA_FLAG_FIELDS, loraFlagWithoutRank, LoRASettingsSchema } from "./lora-flags.js";
import { backendFlag, choiceFlag, integerFlag, LIMITS, numberFlag, stringFlag } from "./options.js";

/** The fine-tuning tasks: chapter 6's classification and chapter 7's instruction following. */
export const FINETUNE_TASKS = ["classify", "instruct"] as const;

/** `--trainable-blocks N|all`. */
const trainableBlocksFlag = z
  .string()
  .regex(/^(all|\d+)$/, { error: (i) => `\`--trainable-blocks\` must be a non-negative integer or "all", received ${JSON.stringify(i.input)}` })
  .transform((v) => (v === "all" ? ("all" as const) : Number(v)));

/** The validated command line of `tfgpt finetune`. */
export const FinetuneConfigSchema = z
  .object({
    task: choiceFlag("task", FINETUNE_TASKS).optional(),
    data: stringFlag("data").optional(),
    initFrom: stringFlag("init-from").optional(),
    out: stringFlag("out").optional(),
    resume: stringFlag("resume").optional(),
    overwrite: z.boolean().default(false),
    steps: integerFlag("steps", 1, LIMITS.steps).optional(),
    epochs: integerFlag("epochs", 1, LIMITS.epochs).optional(),
    batchSize: integerFlag("batch-size", 1, LIMITS.batchSize).optional(),
    context: integerFlag("context", 1, LIMITS.context).optional(),
    lr: numberFlag("lr", { min: 0, exclusiveMin: true, max: 1 }).optional(),
    valFraction: numberFlag("val-fraction", { min: 0, max: 0.5 }).optional(),
    seed: integerFlag("seed", 0, 2 ** 32 - 1).optional(),
    balance: z.boolean().optional(),
    trainableBlocks: trainableBlocksFlag.optional(),
    maskPrompt: z.boolean().optional(),
    batchByLength: z.boolean().optional(),
    samples: integerFlag("samples", 0, 100).default(3),
    maxNewTokens: integerFlag("max-new-tokens", 1, LIMITS.steps).default(35),
    checkpointEvery: integerFlag("checkpoint-every", 1, LIMITS.steps).optional(),
    evalEvery: integerFlag("eval-every", 1, LIMITS.steps).optional(),
    backend: backendFlag,
    /** LoRA: `--lora-rank` (and alpha, dropout, targets): train adapters (and a classifier's head) only. */
    ...LORA_FLAG_FIELDS,
  })
  .superRefine((c, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: "custom", message });
    const loraAlone = loraFlagWithoutRank(c);
    if (loraAlone !== undefined) issue(`\`${loraAlone}\` needs \`--lora-rank\``);
    if (c.resume !== undefined && c.loraRank !== undefined) issue("`--lora-rank` cannot be used with `--resume` (a resumed run keeps its adapters)");
    if (c.resume === undefined) {
      if (c.task === undefined) issue("`--task` is required (classify or instruct)");
      else if (c.data === undefined) issue("`--data` is required");
      else if (c.initFrom === undefined) issue("`--init-from` is required (a pretrained GPT-2 directory or a tfgpt checkpoint)");
    } else {
      const clash = (["initFrom", "task", "data", "balance", "trainableBlocks", "maskPrompt", "batchByLength"] as const).find((k) => c[k] !== undefined);
      if (clash !== undefined) issue(`\`--resume\` cannot be used with \`--${clash.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}\` (the checkpoint fixes it)`);
      if (c.overwrite) issue("`--overwrite` cannot be used with `--resume`");
    }
    if (c.steps !== undefined && c.epochs !== undefined) issue("`--steps` and `--epochs` cannot be used together");
    if (c.task === "instruct" && (c.balance !== undefined || c.trainableBlocks !== undefined)) issue("`--balance` and `--trainable-blocks` are for `--task classify`");
    if (c.task === "classify" && c.maskPrompt !== undefined) issue("`--mask-prompt` is for `--task instruct`");
    if (c.task === "classify" && c.batchByLength !== undefined) issue("`--batch-by-length` is for `--task instruct` (classify pads every text to the longest one, as the book)");
  });
export type FinetuneConfig = z.output<typeof FinetuneConfigSchema>;

/** What a fine-tuning run is determined by; saved in checkpoints. */
export const FinetuneSettingsSchema = z.object({
  task: z.enum(FINETUNE_TASKS),
  data: z.string(),
  initFrom: z.string(),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  context: z.number().int().positive(),
  lr: z.number().positive(),
  valFraction: z.number().min(0).max(0.5),
  seed: z.number().int().nonnegative(),
  balance: z.boolean(),
  trainableBlocks: z.union([z.number().int().nonnegative(), z.literal("all")]),
  maskPrompt: z.boolean(),
  /** Instruct: batches bucketed by length (ExampleLoader `lengths`). */
  batchByLength: z.boolean().optional(),
  /** Classification: the length every text is padded (or cut) to; `tfgpt evaluate` pads alike. */
  padLength: z.number().int().positive().optional(),
  /** Classification: the label set in class order. */
  labels: z.array(z.string()).optional(),
  /** LoRA adapters trained instead of the blocks (`--lora-rank` ...). */
  lora: LoRASettingsSchema.optional(),
});
export type FinetuneSettings = z.infer<typeof FinetuneSettingsSchema>;
