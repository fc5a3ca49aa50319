/** `tfgpt walkthrough` (in progress). */
import { z } from "zod";
import { CliError } from "./errors.js";
import type { CommandIO } from "./io.js";

/** The validated config of `tfgpt walkthrough`. */
export const WalkthroughConfigSchema = z.object({}).passthrough();
export type WalkthroughConfig = z.output<typeof WalkthroughConfigSchema>;

/** Not implemented yet. */
export async function runWalkthrough(_config: WalkthroughConfig, _io: CommandIO): Promise<void> {
  throw new CliError("not implemented yet");
}
