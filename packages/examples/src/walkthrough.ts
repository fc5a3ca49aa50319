/**
 * `tfgpt walkthrough [--text FILE]`: the chapter-2 notebook in TypeScript, printing what its
 * cells print (see `ch02-pipeline.ts` for the pipeline itself).
 */
import { getTokenizer } from "@tfgpt/tokenizers";
import { z } from "zod";
import { quietTfjs } from "./backend.js";
import { chapter2, type BatchRows } from "./ch02-pipeline.js";
import type { CommandIO } from "./io.js";
import { stringFlag } from "./options.js";
import { DEFAULT_TEXT_PATH, readTextFile } from "./text-file.js";

/** The validated config of `tfgpt walkthrough`. */
export const WalkthroughConfigSchema = z.object({
  /** The text. Default: the shipped "The Verdict", the notebook's own. */
  text: stringFlag("text").optional(),
});
export type WalkthroughConfig = z.output<typeof WalkthroughConfigSchema>;

const shape = (s: readonly number[]) => `[${s.join(", ")}]`;
const show = (b: BatchRows) => `Inputs:\n${JSON.stringify(b.inputs)}\nTargets:\n${JSON.stringify(b.targets)}`;

/** Prints the notebook's outputs for the text. */
export async function runWalkthrough(config: WalkthroughConfig, io: CommandIO): Promise<void> {
  const file = config.text ?? DEFAULT_TEXT_PATH;
  const text = await readTextFile(file);
  quietTfjs();
  const r = chapter2(text, getTokenizer("gpt2"));
  const pairs = r.nextTokenPairs.map(([context, desired]) => `${JSON.stringify(context)} ----> ${desired}`).join("\n");
  const [b1, b2] = r.stride1Batches;
  io.stdout.write(
    [
      `# 2.2 Tokenizing text`,
      `Total number of characters: ${r.characters}`,
      `# 2.5 Byte pair encoding (gpt2)`,
      `Total number of tokens: ${r.tokenCount}`,
      `First tokens: ${JSON.stringify(r.firstTokens)}`,
      `# 2.6 Data sampling with a sliding window (enc_text[50:], context_size 4)`,
      pairs,
      `# max_length=4, stride=1, batch_size=1, shuffle=False: first two batches`,
      show(b1),
      show(b2),
      `# max_length=4, stride=4, batch_size=8, shuffle=False: first batch`,
      show(r.batch8x4),
      `# 2.7-2.8 Token and position embeddings (output_dim 256)`,
      `token embeddings: ${shape(r.tokenEmbeddingShape)}`,
      `position embeddings: ${shape(r.positionEmbeddingShape)}`,
      `input embeddings (token + position): ${shape(r.inputEmbeddingShape)}`,
      "",
    ].join("\n"),
  );
}
