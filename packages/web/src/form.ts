/**
 * Form fields validated with the library's own zod schemas (the same rules as `tfgpt train` and
 * the `Trainer`): a refused value is shown next to its field with the reason, never clamped.
 */
import type { z } from "zod";
import { h } from "./dom.js";

/** A number input checked against `schema`; `value()` is its parsed value, or undefined while invalid. */
export interface CheckedNumber {
  readonly input: HTMLInputElement;
  /** The field: label, input and the error line under it. */
  readonly element: HTMLLabelElement;
  value(): number | undefined;
  /** Shows `value` (e.g. restored settings) and checks it. */
  set(value: number): void;
}

/**
 * The reason `raw` is refused by `schema`, or undefined: "must be <what the schema allows>,
 * received <raw>" (the schema's own wording where it has one, else its description).
 */
export function numberError(schema: z.ZodType, raw: string): string | undefined {
  const value = raw.trim() === "" ? Number.NaN : Number(raw);
  const result = schema.safeParse(value);
  if (result.success) return undefined;
  const own = result.error.issues[0]?.message ?? "";
  const given = raw.trim() === "" ? "nothing" : raw.trim();
  // The shared schema pieces (@tfgpt/common) say "must be a positive integer"; a schema whose
  // message names its option ("`batchSize` must be ..., received 0") keeps its reason. The page names the field.
  const named = /^(?:`[^`]+` )?(must be .*?)(?:, received .*)?$/.exec(own);
  if (named !== null) return `${named[1]}, received ${given}`;
  return `must be ${schema.description ?? "valid"}, received ${given}`;
}

/**
 * A labelled number input validated by `schema` on every edit (`data-testid` on the input, and
 * `<testId>-error` on its error line); `onValidity` runs after each edit.
 */
export function checkedNumber(label: string, testId: string, value: number, schema: z.ZodType, onValidity: () => void, step: number | "any" = "any"): CheckedNumber {
  const input = h("input", { type: "number", value, step, "data-testid": testId });
  const error = h("span", { class: "field-error", "data-testid": `${testId}-error`, role: "alert" });
  const element = h("label", { class: "field" }, h("span", {}, label), input, error);
  let current: number | undefined;
  const check = () => {
    const reason = numberError(schema, input.value);
    const text = reason === undefined ? "" : `${label} ${reason}`;
    if (error.textContent !== text) error.textContent = text;
    input.setAttribute("aria-invalid", String(reason !== undefined));
    current = reason === undefined ? Number(input.value) : undefined;
  };
  check();
  input.addEventListener("input", () => {
    check();
    onValidity();
  });
  // Checked on each edit, not on each read: reading touches no DOM (the training panel reads at every step).
  return {
    input,
    element,
    value: () => current,
    set: (value) => {
      input.value = String(value);
      check();
      onValidity();
    },
  };
}
