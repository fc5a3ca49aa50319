// The throughput chart beside the tables: a hand-written SVG of horizontal bars, one panel per
// unit (tokenizer MB/s, training tokens/s), bars scaled to their panel's largest value.
import { num } from "./format.js";

const COLORS = { ours: "#d9480f", baseline: "#868e96", reference: "#1c7ed6" };

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * panels: [{ title, unit, bars: [{ label, value?, kind, note? }] }]; a bar without a value is
 * drawn as its note ("fails", "> 90 s") so a failure is visible, not blank.
 */
export function throughputSvg(panels, { title }) {
  const width = 820;
  const labelW = 250;
  const barW = 440;
  const barH = 18;
  const gap = 6;
  const parts = [];
  let y = 34;
  parts.push(`<text x="12" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const panel of panels) {
    y += 12;
    parts.push(`<text x="12" y="${y + 12}" font-size="13" font-weight="bold">${esc(panel.title)} (${esc(panel.unit)}, higher is better)</text>`);
    y += 22;
    const max = Math.max(1e-9, ...panel.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
    for (const bar of panel.bars) {
      parts.push(`<text x="${labelW - 8}" y="${y + 13}" font-size="12" text-anchor="end">${esc(bar.label)}</text>`);
      if (Number.isFinite(bar.value)) {
        const w = Math.max(1, (bar.value / max) * barW);
        parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[bar.kind]}"/>`);
        parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 13}" font-size="12">${esc(num(bar.value))}</text>`);
      } else {
        parts.push(`<text x="${labelW + 4}" y="${y + 13}" font-size="12" fill="#c92a2a">${esc(bar.note ?? "not run")}</text>`);
      }
      y += barH + gap;
    }
  }
  y += 8;
  let x = 12;
  for (const [kind, label] of [["ours", "ours (tfgpt)"], ["baseline", "baseline"], ["reference", "PyTorch reference"]]) {
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${COLORS[kind]}"/><text x="${x + 16}" y="${y + 10}" font-size="12">${label}</text>`);
    x += 150;
  }
  y += 22;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
