// Number formatting for the report: medians with their min-max spread, ratios, sizes.

/** A number with sensible precision: 12,345 / 123 / 12.3 / 1.23 / 0.0123. */
export function num(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  return x.toPrecision(2);
}

/** "median (min–max)" of a measurement, or its error text. */
export function med(m, { spread = true } = {}) {
  if (m === undefined) return "not run";
  if (m.error !== undefined) return m.error;
  if (m.n > 1 && spread) return `**${num(m.median)}** (${num(m.min)}–${num(m.max)})`;
  return `**${num(m.median)}**`;
}

/** ours / baseline as "7.3×", or "–" when either side is missing. */
export function ratio(ours, base) {
  if (ours === undefined || base === undefined || !Number.isFinite(ours) || !Number.isFinite(base) || base === 0) return "–";
  return `${num(ours / base)}×`;
}

/** Median of a measurement or undefined (for ratios). */
export function val(m) {
  return m !== undefined && m.error === undefined ? m.median : undefined;
}

/** A percentage with no decimals past 10%. */
export function pct(x) {
  if (x === undefined || !Number.isFinite(x)) return "–";
  if (x >= 0.1) return `${(x * 100).toFixed(0)}%`;
  return x >= 0.001 ? `${(x * 100).toFixed(1)}%` : `${(x * 100).toPrecision(2)}%`;
}

/** A markdown table from a header row and body rows. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
