import { describe, expect, it } from "vitest";
import { choiceFlag, integerFlag, numberFlag } from "../src/options.js";

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { issues?: Array<{ message: string }> }).issues?.[0]?.message ?? String(err);
  }
  throw new Error("expected a failure");
}

describe("flag schemas", () => {
  it("integerFlag parses decimal strings and names the flag, value and range on failure", () => {
    expect(integerFlag("steps").parse("300")).toBe(300);
    expect(integerFlag("seed", 0).parse(0)).toBe(0);
    expect(message(() => integerFlag("max-length").parse("abc"))).toBe('`--max-length` must be an integer >= 1, received "abc"');
    expect(message(() => integerFlag("stride").parse("0"))).toMatch(/`--stride` must be an integer >= 1, received "0"/);
    expect(message(() => integerFlag("stride").parse("1.5"))).toMatch(/received "1.5"/);
    expect(message(() => integerFlag("stride").parse(""))).toMatch(/received ""/);
    expect(message(() => integerFlag("top-k", 1, 10).parse("11"))).toMatch(/an integer in \[1, 10\]/);
  });

  it("numberFlag honours exclusive and inclusive bounds", () => {
    expect(numberFlag("lr", { min: 0, exclusiveMin: true }).parse("3e-3")).toBe(0.003);
    expect(message(() => numberFlag("lr", { min: 0, exclusiveMin: true }).parse("0"))).toBe(
      '`--lr` must be a number > 0, received "0"',
    );
    expect(message(() => numberFlag("val-fraction", { min: 0, max: 0.5 }).parse("0.9"))).toBe(
      '`--val-fraction` must be a number >= 0 and <= 0.5, received "0.9"',
    );
    expect(message(() => numberFlag("lr").parse("NaN"))).toMatch(/received "NaN"/);
  });

  it("choiceFlag lists the choices", () => {
    const backend = choiceFlag("backend", ["auto", "cpu"]);
    expect(backend.parse("cpu")).toBe("cpu");
    expect(message(() => backend.parse("gpu"))).toBe('`--backend` must be one of auto, cpu, received "gpu"');
  });
});
