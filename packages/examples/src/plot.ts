/**
 * A hand-written SVG line chart of the loss curves (train and validation), so a run's output
 * directory shows at a glance whether the model learns. No dependency: the chart is a few
 * `<polyline>`s, axes and tick labels.
 */

/** One curve: points `[step, loss]`, drawn in `color`. */
export interface LossSeries {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** Options of {@link renderLossSvg}. */
export interface LossPlotOptions {
  /** Image width in px. Default 640. */
  readonly width?: number;
  /** Image height in px. Default 360. */
  readonly height?: number;
  /** Chart title. Default `"loss"`. */
  readonly title?: string;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);
}

/** "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/**
 * Renders loss curves as a standalone SVG document.
 *
 * @param series the curves; empty series are skipped (e.g. no validation yet).
 * @param options size and title.
 * @returns the SVG text, ready to write to `loss.svg`.
 * @example
 * renderLossSvg([{ name: "train", color: "#1f77b4", points: [[1, 10.8], [2, 9.9]] }]);
 */
export function renderLossSvg(series: readonly LossSeries[], options: LossPlotOptions = {}): string {
  const { width = 640, height = 360, title = "loss" } = options;
  const margin = { left: 56, right: 16, top: 32, bottom: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(xMin + 1, ...xs);
  const yMin = ys.length > 0 ? Math.max(0, Math.min(...ys) - 0.2) : 0;
  const yMax = ys.length > 0 ? Math.max(yMin + 0.5, Math.max(...ys)) : 1;
  const px = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (const t of niceTicks(yMin, yMax)) {
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  for (const t of niceTicks(xMin, xMax)) {
    out.push(`<text x="${f(px(t))}" y="${margin.top + plotH + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 6}" text-anchor="middle">step</text>`,
  );
  let legendY = margin.top + 14;
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) continue;
    const path = pts.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(" ");
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${path}"/>`);
    if (pts.length === 1) {
      const [[x, y]] = pts as [readonly [number, number]];
      out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="2.5" fill="${s.color}"/>`);
    }
    out.push(
      `<line x1="${margin.left + plotW - 90}" x2="${margin.left + plotW - 70}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${margin.left + plotW - 64}" y="${legendY}">${escapeXml(s.name)}</text>`,
    );
    legendY += 16;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
