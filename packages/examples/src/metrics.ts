/**
 * A run's metrics: one JSON object per line in `metrics.jsonl` (`{"step", "loss"}` for a
 * training step, `{"step", "val_loss"}` for a validation pass) and the `loss.svg` plot drawn
 * from them. Both files are rewritten atomically from memory, so a crash never leaves a torn
 * line, and a resumed run drops the lines after its checkpoint's step.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "./checkpoint.js";
import { renderLossSvg } from "./plot.js";

/** One line of `metrics.jsonl`. */
export interface MetricRecord {
  readonly step: number;
  /** Train loss of this step's batch. */
  readonly loss?: number;
  /** Mean loss over the validation split. */
  readonly val_loss?: number;
  /** Seconds since the run (or the resumed part) started. */
  readonly time?: number;
}

/** File names in the run directory. */
export const METRICS_FILE = "metrics.jsonl";
export const PLOT_FILE = "loss.svg";

/** The metrics of a run, in memory, flushed to `metrics.jsonl` and `loss.svg`. */
export class RunMetrics {
  readonly records: MetricRecord[];

  constructor(records: MetricRecord[] = []) {
    this.records = records;
  }

  /**
   * Reads `metrics.jsonl` of `runDir`, keeping the records up to `upToStep` (the checkpoint a
   * run resumes from); a missing file gives an empty history.
   */
  static async load(runDir: string, upToStep: number): Promise<RunMetrics> {
    let text: string;
    try {
      text = await readFile(path.join(runDir, METRICS_FILE), "utf8");
    } catch {
      return new RunMetrics();
    }
    const records: MetricRecord[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const r = JSON.parse(line) as MetricRecord;
        if (typeof r.step === "number" && r.step <= upToStep) records.push(r);
      } catch {
        // A line that does not parse is dropped; the rest of the history is still useful.
      }
    }
    return new RunMetrics(records);
  }

  add(record: MetricRecord): void {
    this.records.push(record);
  }

  /** Points `[step, loss]` of the train loss, averaged over windows of `smooth` steps. */
  trainCurve(smooth = 1): Array<[number, number]> {
    const pts = this.records.filter((r) => r.loss !== undefined).map((r) => [r.step, r.loss as number] as [number, number]);
    if (smooth <= 1) return pts;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < pts.length; i += smooth) {
      const chunk = pts.slice(i, i + smooth);
      const last = chunk[chunk.length - 1] as [number, number];
      out.push([last[0], chunk.reduce((s, [, y]) => s + y, 0) / chunk.length]);
    }
    return out;
  }

  /** Points `[step, val_loss]`. */
  valCurve(): Array<[number, number]> {
    return this.records.filter((r) => r.val_loss !== undefined).map((r) => [r.step, r.val_loss as number]);
  }

  /** Rewrites `metrics.jsonl` and `loss.svg` in `runDir`. */
  async flush(runDir: string): Promise<void> {
    const lines = this.records.map((r) => JSON.stringify(r)).join("\n");
    await writeFileAtomic(path.join(runDir, METRICS_FILE), lines === "" ? "" : `${lines}\n`);
    const train = this.trainCurve();
    const svg = renderLossSvg(
      [
        { name: "train", color: "#1f77b4", points: this.trainCurve(Math.max(1, Math.floor(train.length / 200))) },
        { name: "validation", color: "#d62728", points: this.valCurve() },
      ],
      { title: "cross-entropy loss (nats)" },
    );
    await writeFileAtomic(path.join(runDir, PLOT_FILE), svg);
  }
}
