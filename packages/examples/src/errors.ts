/**
 * The error classes of the `tfgpt` command line. The CLI turns every error into exactly one
 * stderr line; these two decide the exit code: a {@link UsageError} (bad flags or values) exits
 * with 2, a {@link CliError} (the command could not do its job: missing file, corrupt
 * checkpoint) with 1.
 */

/** The command could not do its job (a file is missing, a checkpoint is corrupt). Exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** The command line itself is wrong (unknown flag, bad value, missing argument). Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
