/** `tfgpt train` (in progress). */
import { z } from "zod";
import { CliError } from "./errors.js";
import type { CommandIO } from "./io.js";

/** The validated config of `tfgpt train`. */
export const TrainConfigSchema = z.object({}).passthrough();
export type TrainConfig = z.output<typeof TrainConfigSchema>;

/** Not implemented yet. */
export async function runTrain(_config: TrainConfig, _io: CommandIO): Promise<void> {
  throw new CliError("not implemented yet");
}
