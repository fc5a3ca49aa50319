/**
 * The config of `tfgpt train`: the zod schema the command line is validated against (kept apart
 * from `train.ts` so that a bad flag is reported without loading tfjs), and the settings a run
 * is fully determined by, saved in its checkpoints.
 */
import { z } from "zod";
import { LORA_FLAG_FIELDS, loraFlagWithoutRank, LoRASettingsSchema } from "./lora-flags.js";
import { backendFlag, choiceFlag, integerFlag, LIMITS, numberFlag, stringFlag } from "./options.js";

/** Steps when neither `--steps` nor `--epochs` is given. */
export const DEFAULT_STEPS = 300;
/** The prompt of `--sample` (the book's). */
export const SAMPLE_PROMPT = "Every effort moves you";

/**
 * Defaults of the training controls, as `@tfgpt/layers`' `TRAINER_DEFAULTS` has them (a test
 * checks they agree; kept here too so that `--help` shows them without loading tfjs). `lr` is
 * the CLI's own (3e-3, for the small models it trains by default).
 */
export const TRAIN_DEFAULTS = {
  lr: 3e-3,
  lrSchedule: "constant",
  warmupSteps: 0,
  weightDecay: 0.1,
  gradClip: 1,
  gradAccum: 1,
  evalIters: 20,
  dropout: 0,
} as const;

/** The help lines of the training controls, their defaults from {@link TRAIN_DEFAULTS}. */
export const TRAIN_CONTROLS_HELP = `  --layers N            transformer blocks (default: the preset's)
  --heads N             attention heads (default: the preset's)
  --width N             embedding width C (default: the preset's)
  --dropout P           dropout rate while training (default ${TRAIN_DEFAULTS.dropout}; masks seeded by --seed and the step: resume stays bit-exact)
  --lr-schedule S       constant or cosine (default ${TRAIN_DEFAULTS.lrSchedule})
  --warmup-steps N      linear learning-rate warmup steps (default ${TRAIN_DEFAULTS.warmupSteps})
  --min-lr X            learning rate at the end of the cosine decay (default: --lr / 10)
  --lr-decay-steps N    step where the cosine decay ends (default: --steps of the first run)
  --weight-decay X      AdamW decay, on weight matrices only (default ${TRAIN_DEFAULTS.weightDecay})
  --grad-clip X         largest global gradient norm, 0 for none (default ${TRAIN_DEFAULTS.gradClip})
  --grad-accum N        micro-batches of --batch-size per optimizer step (default ${TRAIN_DEFAULTS.gradAccum})
  --eval-iters N        batches each validation (and train) loss estimate averages (default ${TRAIN_DEFAULTS.evalIters})
  --rank R --world-size W  data-parallel reader: this process reads only its share of every epoch's
                        windows (positions R, R+W, ... of the seeded order, the same on all ranks)`;

/** Overrides of the preset's shape (programmatic use and tests: tiny, fast models). */
export const ModelOverridesSchema = z
  .object({
    embeddingDim: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    numLayers: z.number().int().positive(),
    dropout: z.number().min(0).lt(1),
    tieWeights: z.boolean(),
  })
  .partial();

/**
 * The validated config of `tfgpt train`: what the command line said. Settings left out are
 * resolved by {@link runTrain}: from the defaults for a new run, from the checkpoint on `--resume`.
 */
export const TrainConfigSchema = z
  .object({
    /** Training text. Default: the shipped "The Verdict". */
    text: stringFlag("text").optional(),
    /** Tokenizer registry name. Default `"gpt2"`. */
    encoding: stringFlag("encoding").optional(),
    /** A tokenizer file saved by `tfgpt train-tokenizer`, instead of `encoding`. */
    tokenizer: stringFlag("tokenizer").optional(),
    /** Model preset of `@tfgpt/layers`. Default `"tiny"`. */
    preset: stringFlag("preset").optional(),
    /** Tokens per window. Default: the preset's context length, at most 64. */
    context: integerFlag("context", 1, LIMITS.context).optional(),
    /** Windows per step. Default 8. */
    batchSize: integerFlag("batch-size", 1, LIMITS.batchSize).optional(),
    /** Tokens between window starts. Default: `context` (no overlap). */
    stride: integerFlag("stride", 1, LIMITS.stride).optional(),
    /** Optimizer steps in total (a resumed run counts from its checkpoint). Default 300. */
    steps: integerFlag("steps", 1, LIMITS.steps).optional(),
    /** Epochs instead of steps: `epochs x` batches per epoch. */
    epochs: integerFlag("epochs", 1, LIMITS.epochs).optional(),
    /** Transformer blocks (overrides the preset's). */
    layers: integerFlag("layers", 1, 1024).optional(),
    /** Attention heads (overrides the preset's). */
    heads: integerFlag("heads", 1, 1024).optional(),
    /** Embedding width (overrides the preset's). */
    width: integerFlag("width", 1, 1 << 16).optional(),
    /** Dropout rate. Default 0. */
    dropout: numberFlag("dropout", { min: 0, max: 0.99 }).optional(),
    /** Learning-rate schedule. Default `"constant"`. */
    lrSchedule: choiceFlag("lr-schedule", ["constant", "cosine"]).optional(),
    /** Warmup steps. Default 0. */
    warmupSteps: integerFlag("warmup-steps", 0, LIMITS.steps).optional(),
    /** Cosine floor. Default `lr / 10`. */
    minLr: numberFlag("min-lr", { min: 0, max: 1 }).optional(),
    /** Where the cosine decay ends. Default: `steps`. */
    lrDecaySteps: integerFlag("lr-decay-steps", 1, LIMITS.steps).optional(),
    /** AdamW weight decay (matrices only). Default 0.1. */
    weightDecay: numberFlag("weight-decay", { min: 0, max: 1 }).optional(),
    /** Gradient clipping norm, 0 for none. Default 1. */
    gradClip: numberFlag("grad-clip", { min: 0 }).optional(),
    /** Gradient accumulation micro-batches. Default 1. */
    gradAccum: integerFlag("grad-accum", 1, 1 << 16).optional(),
    /** Batches per loss estimate. Default 20. */
    evalIters: integerFlag("eval-iters", 1, 1 << 20).optional(),
    /** AdamW learning rate. Default 0.003. */
    lr: numberFlag("lr", { min: 0, exclusiveMin: true, max: 1 }).optional(),
    /** Fraction of the tokens (the tail) held out for validation. Default 0.1. */
    valFraction: numberFlag("val-fraction", { min: 0, max: 0.5 }).optional(),
    /** Seed of the initial weights and of the shuffling. Default 0. */
    seed: integerFlag("seed", 0, 2 ** 32 - 1).optional(),
    /** Backend. Default `"auto"`. */
    backend: backendFlag,
    /** Run directory. Default `runs/train-<date>-<time>`. */
    out: stringFlag("out").optional(),
    /** Run or checkpoint directory to continue from. */
    resume: stringFlag("resume").optional(),
    /** Start from these weights (a Hugging Face GPT-2 directory or a tfgpt checkpoint): fine-tuning. */
    initFrom: stringFlag("init-from").optional(),
    /** Checkpoint every this many steps (and always at the end). */
    checkpointEvery: integerFlag("checkpoint-every", 1, LIMITS.steps).optional(),
    /** Validation loss every this many steps. Default: about 10 times a run. */
    evalEvery: integerFlag("eval-every", 1, LIMITS.steps).optional(),
    /** Print a greedy sample at the end. Default false. */
    sample: z.boolean().default(false),
    /** Replace a previous run in `out` instead of refusing. Default false. */
    overwrite: z.boolean().default(false),
    /** Shape overrides on top of the preset (not a CLI flag). */
    model: ModelOverridesSchema.optional(),
    /** Data-parallel reader: this process's rank among `worldSize` (both or neither). */
    rank: integerFlag("rank", 0, 1_000_000).optional(),
    /** Data-parallel readers in all. */
    worldSize: integerFlag("world-size", 1, 1_000_000).optional(),
    /** LoRA: `--lora-rank` (and alpha, dropout, targets): train adapters only. */
    ...LORA_FLAG_FIELDS,
  })
  .superRefine((c, ctx) => {
    if (c.steps !== undefined && c.epochs !== undefined) {
      ctx.addIssue({ code: "custom", message: "`--steps` and `--epochs` cannot be used together" });
    }
    if (c.encoding !== undefined && c.tokenizer !== undefined) {
      ctx.addIssue({ code: "custom", message: "`--encoding` and `--tokenizer` cannot be used together" });
    }
    if (c.initFrom !== undefined) {
      const clash = (["resume", "preset", "encoding", "tokenizer", "model", "layers", "heads", "width", "dropout"] as const).find((k) => c[k] !== undefined);
      if (clash !== undefined) {
        const flag = clash === "model" ? "model overrides" : `--${clash}`;
        ctx.addIssue({ code: "custom", message: `\`--init-from\` cannot be used with \`${flag}\` (the directory fixes the model and its tokenizer)` });
      }
    }
    const loraAlone = loraFlagWithoutRank(c);
    if (loraAlone !== undefined) ctx.addIssue({ code: "custom", message: `\`${loraAlone}\` needs \`--lora-rank\`` });
    if (c.resume !== undefined && c.loraRank !== undefined) {
      ctx.addIssue({ code: "custom", message: "`--lora-rank` cannot be used with `--resume` (a resumed run keeps its adapters)" });
    }
    if ((c.rank === undefined) !== (c.worldSize === undefined)) {
      ctx.addIssue({ code: "custom", message: c.rank === undefined ? `\`--world-size\` ${c.worldSize} needs \`--rank\`` : `\`--rank\` ${c.rank} needs \`--world-size\`` });
    } else if (c.rank !== undefined && c.worldSize !== undefined && c.rank >= c.worldSize) {
      ctx.addIssue({ code: "custom", message: `\`--rank\` must be in [0, ${c.worldSize}) for --world-size ${c.worldSize}, received ${c.rank}` });
    }
    if (c.resume !== undefined && c.rank !== undefined) {
      ctx.addIssue({ code: "custom", message: "`--rank`/`--world-size` cannot be used with `--resume` (a resumed run keeps its share)" });
    }
    if (c.resume !== undefined && c.overwrite) {
      ctx.addIssue({ code: "custom", message: "`--overwrite` cannot be used with `--resume`" });
    }
  });
export type TrainConfig = z.output<typeof TrainConfigSchema>;

/** The settings a run is fully determined by; saved in checkpoints, restored on `--resume`. */
export const RunSettingsSchema = z.object({
  text: z.string(),
  encoding: z.string(),
  /** Absolute path of the `--tokenizer` file (then `encoding` is `"bpe"`); reloaded on `--resume`. */
  tokenizer: z.string().optional(),
  preset: z.string(),
  context: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  stride: z.number().int().positive(),
  steps: z.number().int().positive(),
  lr: z.number().positive(),
  valFraction: z.number().min(0).max(0.5),
  seed: z.number().int().nonnegative(),
  model: ModelOverridesSchema.optional(),
  /** Absolute path of the `--init-from` directory (then `preset` is `"init-from"`); its tokenizer is reloaded on `--resume`. */
  initFrom: z.string().optional(),
  /** LoRA adapters trained instead of the whole model (`--lora-rank` ...). */
  lora: LoRASettingsSchema.optional(),
  // The training controls (absent in version-1 checkpoints: those trained with tfjs's Adam, no
  // decay, no clipping, a constant rate; a resume keeps that, see train.ts).
  lrSchedule: z.enum(["constant", "cosine"]).optional(),
  warmupSteps: z.number().int().nonnegative().optional(),
  minLr: z.number().nonnegative().optional(),
  lrDecaySteps: z.number().int().positive().optional(),
  weightDecay: z.number().nonnegative().optional(),
  gradClip: z.number().nonnegative().optional(),
  gradAccum: z.number().int().positive().optional(),
  evalIters: z.number().int().positive().optional(),
  /** Data-parallel reader (`--rank R --world-size W`, W > 1): this run's share of the windows. */
  rank: z.number().int().nonnegative().optional(),
  worldSize: z.number().int().positive().optional(),
});
export type RunSettings = z.infer<typeof RunSettingsSchema>;

/** Flags that must agree with the checkpoint on `--resume` (the others may change). */
export const FIXED_ON_RESUME = [
  "text", "encoding", "tokenizer", "preset", "context", "batchSize", "stride", "lr", "valFraction", "seed",
  "lrSchedule", "warmupSteps", "minLr", "lrDecaySteps", "weightDecay", "gradClip", "gradAccum",
] as const;

export const FLAG_NAMES: Record<(typeof FIXED_ON_RESUME)[number], string> = {
  text: "text",
  encoding: "encoding",
  tokenizer: "tokenizer",
  preset: "preset",
  context: "context",
  batchSize: "batch-size",
  stride: "stride",
  lr: "lr",
  valFraction: "val-fraction",
  seed: "seed",
  lrSchedule: "lr-schedule",
  warmupSteps: "warmup-steps",
  minLr: "min-lr",
  lrDecaySteps: "lr-decay-steps",
  weightDecay: "weight-decay",
  gradClip: "grad-clip",
  gradAccum: "grad-accum",
};

