/**
 * Training progress the way users expect it: a live, redrawn bar on a terminal (step, loss,
 * tokens/s, ETA) and plain, greppable log lines when the output is a file or a pipe. Browser-safe
 * (it writes to any `{ write }`); `progressCallback` of `@tfgpt/layers/node` drives it from
 * `fit`/`fitDataset`, `tfgpt train` from its loop.
 */

/** Where progress goes: a writable stream, e.g. `process.stderr`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** True on a terminal: the bar is redrawn in place. */
  readonly isTTY?: boolean;
  /** Terminal width; 80 when unknown. */
  readonly columns?: number;
}

/** Constructor arguments of {@link Progress}. */
export interface ProgressArgs {
  /** The step the run ends at (a resumed run counts from its checkpoint's step). */
  readonly totalSteps: number;
  /** The step the run starts at (0, or the checkpoint's step on `--resume`). Default 0. */
  readonly startStep?: number;
  /** Tokens in one step (batch size x context), for tokens/s; 0 leaves the rate out. */
  readonly tokensPerStep: number;
  readonly stream: ProgressStream;
  /** Plain mode: print a line every this many steps. Default: about 20 lines per run. */
  readonly logEvery?: number;
  /** Clock in ms; injectable for tests. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Formats seconds as `1h02m`, `3m05s` or `12s`.
 *
 * @example formatDuration(185) // "3m05s"
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${s}s`;
}

/**
 * A text bar of `width` cells, `fraction` of it filled.
 *
 * @example renderBar(0.5, 10) // "[=====>    ]"
 */
export function renderBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.floor(f * width);
  const head = filled < width ? ">" : "";
  return `[${"=".repeat(filled)}${head}${" ".repeat(Math.max(0, width - filled - head.length))}]`;
}

/**
 * Reports training steps. Call {@link Progress.step} after each step, {@link Progress.log} for
 * any other line (validation loss, checkpoints) and {@link Progress.done} at the end.
 *
 * @example
 * const progress = new Progress({ totalSteps: 300, tokensPerStep: 8 * 64, stream: process.stderr });
 * progress.step(1, 10.8);
 * progress.done();
 */
export class Progress {
  private readonly totalSteps: number;
  private readonly startStep: number;
  private readonly tokensPerStep: number;
  private readonly stream: ProgressStream;
  private readonly logEvery: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private barShown = false;
  private lastLine = "";

  constructor(args: ProgressArgs) {
    this.totalSteps = args.totalSteps;
    this.startStep = args.startStep ?? 0;
    this.tokensPerStep = args.tokensPerStep;
    this.stream = args.stream;
    this.logEvery = args.logEvery ?? Math.max(1, Math.round((this.totalSteps - this.startStep) / 20));
    this.now = args.now ?? (() => performance.now());
    this.startedAt = this.now();
  }

  /** The status text after `step` steps with the given train loss. */
  status(step: number, loss: number): string {
    const elapsed = (this.now() - this.startedAt) / 1000;
    const done = step - this.startStep;
    const perStep = done > 0 ? elapsed / done : NaN;
    const tokensPerSecond = done > 0 && elapsed > 0 ? (done * this.tokensPerStep) / elapsed : NaN;
    const eta = formatDuration(perStep * (this.totalSteps - step));
    const rate = Number.isFinite(tokensPerSecond) ? Math.round(tokensPerSecond).toLocaleString("en-US") : "?";
    const width = String(this.totalSteps).length;
    const tokens = this.tokensPerStep > 0 ? `  ${rate} tok/s` : "";
    return `step ${String(step).padStart(width)}/${this.totalSteps}  loss ${loss.toFixed(4)}${tokens}  ETA ${eta}`;
  }

  /** Reports that `step` (1-based, global) finished with train loss `loss`. */
  step(step: number, loss: number): void {
    const text = this.status(step, loss);
    if (this.stream.isTTY) {
      const columns = this.stream.columns ?? 80;
      // The bar gets the room the numbers leave; on a narrow terminal the numbers win.
      const barWidth = Math.min(30, columns - text.length - 4);
      const fraction = (step - this.startStep) / Math.max(1, this.totalSteps - this.startStep);
      this.lastLine = (barWidth >= 10 ? `${renderBar(fraction, barWidth)} ${text}` : text).slice(0, columns - 1);
      this.stream.write(`\r\x1b[2K${this.lastLine}`);
      this.barShown = true;
    } else if ((step - this.startStep) % this.logEvery === 0 || step === this.totalSteps) {
      this.stream.write(`${text}\n`);
    }
  }

  /** Prints a line of its own; on a terminal the bar is redrawn below it. */
  log(line: string): void {
    if (this.stream.isTTY && this.barShown) {
      this.stream.write(`\r\x1b[2K${line}\n${this.lastLine}`);
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the bar's line (terminal only), so that later output starts on a fresh line. */
  done(): void {
    if (this.stream.isTTY && this.barShown) this.stream.write("\n");
    this.barShown = false;
  }
}
