/**
 * A live loss chart on a canvas: each step's loss as a faint dot, its exponential moving average
 * as a line, the validation loss (held-out text) as an orange line with dots, and a dashed line at ln(vocabSize), the loss of a uniform guess (where an untrained
 * GPT starts).
 */
export class LossChart {
  readonly canvas: HTMLCanvasElement;
  private losses: number[] = [];
  /** `[step, loss]` of each validation estimate (step counted from 1). */
  private validation: Array<readonly [number, number]> = [];
  private baseline: number | undefined;
  private drawPending = false;

  constructor(private readonly height = 220) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "chart";
    this.canvas.dataset.testid = "loss-chart";
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /** Clears the chart; `baseline` is drawn as the uniform-guess line. */
  reset(baseline?: number): void {
    this.losses = [];
    this.validation = [];
    this.baseline = baseline;
    this.draw();
  }

  /** Appends one step's loss and redraws. */
  push(loss: number): void {
    this.losses.push(loss);
    this.requestDraw();
  }

  /** Adds the validation loss after `step` steps and redraws. */
  pushValidation(step: number, loss: number): void {
    this.validation.push([step, loss]);
    this.requestDraw();
  }

  /** Draws at the next frame, once however many points came since (steps can outpace frames). */
  private requestDraw(): void {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  /** Redraws at the canvas's current CSS width and the device pixel ratio (sharp on HiDPI). */
  draw(): void {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth || 600;
    const height = this.height;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    const ctx = this.canvas.getContext("2d");
    if (ctx === null) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const pad = { left: 44, right: 12, top: 12, bottom: 28 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const n = this.losses.length;
    const top = Math.max(this.baseline ?? 0, ...this.losses, ...this.validation.map(([, v]) => v), 1) * 1.05;
    const steps = Math.max(n, 10);
    const x = (i: number) => pad.left + (plotW * i) / Math.max(1, steps - 1);
    const y = (v: number) => pad.top + plotH * (1 - v / top);

    // Axes and grid.
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#6b7280";
    ctx.strokeStyle = "#e5e7eb";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const yTicks = niceTicks(top);
    for (const v of yTicks) {
      ctx.beginPath();
      ctx.moveTo(pad.left, y(v));
      ctx.lineTo(width - pad.right, y(v));
      ctx.stroke();
      ctx.fillText(String(v), pad.left - 6, y(v));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const s of niceTicks(steps - 1)) ctx.fillText(String(s), x(s), height - pad.bottom + 6);
    ctx.textAlign = "left";
    ctx.fillText("step", width - pad.right - 24, height - pad.bottom + 6);

    if (this.baseline !== undefined) {
      ctx.save();
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = "#9ca3af";
      ctx.beginPath();
      ctx.moveTo(pad.left, y(this.baseline));
      ctx.lineTo(width - pad.right, y(this.baseline));
      ctx.stroke();
      ctx.restore();
      ctx.fillStyle = "#6b7280";
      ctx.textBaseline = "bottom";
      ctx.fillText(`uniform guess ln V = ${this.baseline.toFixed(2)}`, pad.left + 6, y(this.baseline) - 2);
    }
    if (n === 0) {
      ctx.fillStyle = "#9ca3af";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText("press Train: the loss of every step appears here", pad.left + plotW / 2, pad.top + plotH / 2);
      return;
    }

    ctx.fillStyle = "rgba(37, 99, 235, 0.25)";
    this.losses.forEach((v, i) => {
      ctx.beginPath();
      ctx.arc(x(i), y(v), 1.8, 0, 2 * Math.PI);
      ctx.fill();
    });
    ctx.strokeStyle = "#2563eb";
    ctx.lineWidth = 2;
    ctx.beginPath();
    smooth(this.losses).forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();

    if (this.validation.length > 0) {
      ctx.strokeStyle = "#ea580c";
      ctx.fillStyle = "#ea580c";
      ctx.beginPath();
      this.validation.forEach(([step, v], i) => (i === 0 ? ctx.moveTo(x(step - 1), y(v)) : ctx.lineTo(x(step - 1), y(v))));
      ctx.stroke();
      for (const [step, v] of this.validation) {
        ctx.beginPath();
        ctx.arc(x(step - 1), y(v), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    // Legend.
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillStyle = "#2563eb";
    ctx.fillText("train (smoothed)", width - pad.right - 4, pad.top + 2);
    if (this.validation.length > 0) {
      ctx.fillStyle = "#ea580c";
      ctx.fillText("validation", width - pad.right - 4, pad.top + 16);
    }
  }
}

/** Exponential moving average (weight 0.9 on the past), seeded with the first value. */
export function smooth(values: readonly number[], weight = 0.9): number[] {
  const out: number[] = [];
  let last = values[0] ?? 0;
  for (const v of values) {
    last = weight * last + (1 - weight) * v;
    out.push(last);
  }
  return out;
}

/** About five round tick values in `[0, max]`. */
function niceTicks(max: number): number[] {
  if (max <= 0) return [0];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) ticks.push(Number(v.toFixed(6)));
  return ticks;
}
