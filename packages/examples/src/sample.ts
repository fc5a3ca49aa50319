/** `tfgpt sample` (in progress). */
import { z } from "zod";
import { CliError } from "./errors.js";
import type { CommandIO } from "./io.js";

/** The validated config of `tfgpt sample`. */
export const SampleConfigSchema = z.object({}).passthrough();
export type SampleConfig = z.output<typeof SampleConfigSchema>;

/** Not implemented yet. */
export async function runSample(_config: SampleConfig, _io: CommandIO): Promise<void> {
  throw new CliError("not implemented yet");
}
