import type { AppState } from "../app-state.js";
import { card, field, h, select } from "../dom.js";
import { SAMPLE_TEXTS } from "../sample-text.js";

/** Milliseconds of typing quiet before the panels redraw (tokenizing 20 kB five times is not free). */
const DEBOUNCE_MS = 250;

/** The text panel: pick a built-in sample or paste/type any text. */
export function textPanel(state: AppState): HTMLElement {
  const root = card("text", "Text", "Pick a sample or paste your own text. Everything below updates from it.");
  const samples = select("sample", SAMPLE_TEXTS.map((s, i) => [String(i), s.label] as const), "0");
  samples.append(h("option", { value: "custom", disabled: true }, "your own text"));
  const area = h("textarea", { rows: 7, spellcheck: false, "data-testid": "text" });
  const first = SAMPLE_TEXTS[0];
  area.value = first === undefined ? "" : first.text;
  root.append(h("div", { class: "controls" }, field("sample", samples)), area);

  samples.addEventListener("change", () => {
    const sample = SAMPLE_TEXTS[Number(samples.value)];
    if (sample === undefined) return;
    area.value = sample.text;
    state.setText(sample.text);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  area.addEventListener("input", () => {
    samples.value = "custom";
    clearTimeout(timer);
    timer = setTimeout(() => state.setText(area.value), DEBOUNCE_MS);
  });
  // A text set elsewhere (a checkpoint loaded from this browser) shows here too.
  state.onText(() => {
    if (area.value === state.text) return;
    clearTimeout(timer);
    area.value = state.text;
    const index = SAMPLE_TEXTS.findIndex((sample) => sample.text === state.text);
    samples.value = index < 0 ? "custom" : String(index);
  });
  state.setText(area.value);
  return root;
}
