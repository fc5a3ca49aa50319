/** Tiny DOM helpers: the page has no framework, and these keep the panels readable. */

type Attrs = Record<string, string | number | boolean | undefined>;

/**
 * Creates an element with attributes (`class`, `data-*`, `title`, ... ; `false`/`undefined`
 * are skipped) and children (strings become text nodes).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children);
  return el;
}

/** A labelled form control: `<label><span>label</span>control</label>`. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

/** A number input with bounds. */
export function numberInput(testId: string, value: number, min: number, max: number, step = 1): HTMLInputElement {
  return h("input", { type: "number", value, min, max, step, "data-testid": testId });
}

/** A `<select>` of `[value, label]` options. */
export function select(testId: string, options: ReadonlyArray<readonly [string, string]>, value: string): HTMLSelectElement {
  const el = h("select", { "data-testid": testId });
  for (const [v, label] of options) el.append(h("option", { value: v, selected: v === value }, label));
  return el;
}

/** Reads a number input, clamped to its min/max and rounded to an integer unless `float`. */
export function readNumber(input: HTMLInputElement, float = false): number {
  const min = Number(input.min);
  const max = Number(input.max);
  let v = Number(input.value);
  if (!Number.isFinite(v)) v = min;
  v = Math.min(max, Math.max(min, float ? v : Math.round(v)));
  return v;
}

/** A panel: `<section class="card"><h2>title</h2><p class="lead">lead</p>...</section>`. */
export function card(id: string, title: string, lead: string): HTMLElement {
  return h("section", { class: "card", id }, h("h2", {}, title), h("p", { class: "lead" }, lead));
}
