/**
 * The LoRA flags of `tfgpt train` (and of any command that fine-tunes): `--lora-rank R`
 * `--lora-alpha A` `--lora-dropout P` `--lora-targets LIST`. Kept apart so that commands share
 * them and a bad flag is reported without loading tfjs.
 */
import { z } from "zod";
import { integerFlag, numberFlag, stringFlag } from "./options.js";

/** Fields of a command's config schema (spread them into its `z.object`). */
export const LORA_FLAG_FIELDS = {
  /** LoRA rank r: train low-rank adapters only, the model frozen. Default: no LoRA. */
  loraRank: integerFlag("lora-rank", 1, 4096).optional(),
  /** Adapters' scale is alpha / r. Default: the rank (scale 1). */
  loraAlpha: numberFlag("lora-alpha", { min: 0, exclusiveMin: true, max: 1e6 }).optional(),
  /** Dropout on the adapters' input. Default 0. */
  loraDropout: numberFlag("lora-dropout", { min: 0, max: 0.99 }).optional(),
  /** Comma-separated kernel names or patterns (`c_attn,mlp`, `h11`, `h1*` globs). Default: every block's four kernels. */
  loraTargets: stringFlag("lora-targets")
    .transform((s) => s.split(",").map((t) => t.trim()))
    .refine((list) => list.every((t) => t.length > 0), { message: "`--lora-targets` must be a comma-separated list of kernel names or patterns" })
    .optional(),
};

/** The parse options of the LoRA flags (`util.parseArgs`). */
export const LORA_CLI_OPTIONS = {
  "lora-rank": { type: "string" },
  "lora-alpha": { type: "string" },
  "lora-dropout": { type: "string" },
  "lora-targets": { type: "string" },
} as const;

/** The usage lines of the LoRA flags. */
export const LORA_USAGE = `  --lora-rank R         LoRA: train rank-R adapters only, the model frozen (fits gpt2 124M on wasm)
  --lora-alpha A        LoRA scale alpha / R (default: R)
  --lora-dropout P      dropout on the adapters' input (default 0)
  --lora-targets LIST   kernels to adapt, names or patterns: c_attn, attn, mlp/c_proj, h0, h1*
                        (default: every block's attn/c_attn, attn/c_proj, mlp/c_fc, mlp/c_proj)`;

/** The resolved LoRA settings of a run (saved with its settings). */
export const LoRASettingsSchema = z.object({
  rank: z.number().int().positive(),
  alpha: z.number().positive(),
  dropout: z.number().min(0).lt(1),
  targets: z.array(z.string()).optional(),
});
export type LoRASettings = z.infer<typeof LoRASettingsSchema>;

type LoRAFlags = { loraRank?: number | undefined; loraAlpha?: number | undefined; loraDropout?: number | undefined; loraTargets?: string[] | undefined };

/** The flag given without `--lora-rank`, if any (`--lora-alpha` alone means nothing). */
export function loraFlagWithoutRank(c: LoRAFlags): string | undefined {
  if (c.loraRank !== undefined) return undefined;
  if (c.loraAlpha !== undefined) return "--lora-alpha";
  if (c.loraDropout !== undefined) return "--lora-dropout";
  if (c.loraTargets !== undefined) return "--lora-targets";
  return undefined;
}

/** The run's LoRA settings from its flags, or undefined without `--lora-rank`. */
export function loraSettingsOf(c: LoRAFlags): LoRASettings | undefined {
  if (c.loraRank === undefined) return undefined;
  return {
    rank: c.loraRank,
    alpha: c.loraAlpha ?? c.loraRank,
    dropout: c.loraDropout ?? 0,
    ...(c.loraTargets !== undefined ? { targets: c.loraTargets } : {}),
  };
}

/** "LoRA rank 8, alpha 16 on c_attn, mlp: 1,179,648 trainable of 125,619,456 parameters (0.94%)". */
export function describeLoRA(settings: LoRASettings, counts: { trainable: number; total: number }): string {
  const pct = ((100 * counts.trainable) / counts.total).toFixed(2);
  const where = settings.targets?.join(", ") ?? "every block's attn/c_attn, attn/c_proj, mlp/c_fc, mlp/c_proj";
  return (
    `LoRA rank ${settings.rank}, alpha ${settings.alpha}${settings.dropout > 0 ? `, dropout ${settings.dropout}` : ""} on ${where}: ` +
    `${counts.trainable.toLocaleString("en-US")} trainable of ${counts.total.toLocaleString("en-US")} parameters (${pct}%)`
  );
}
