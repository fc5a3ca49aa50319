import { describe, expect, it } from "vitest";
import { niceTicks, renderLossSvg } from "../src/plot.js";
import { formatDuration, Progress, renderBar } from "../src/progress.js";

function stream(isTTY: boolean) {
  let text = "";
  return { write: (s: string) => (text += s), isTTY, columns: 100, text: () => text };
}

describe("progress", () => {
  it("formats durations and bars", () => {
    expect(formatDuration(5)).toBe("5s");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(3725)).toBe("1h02m");
    expect(formatDuration(Number.NaN)).toBe("?");
    expect(renderBar(0.5, 10)).toBe("[=====>    ]");
    expect(renderBar(1, 4)).toBe("[====]");
    expect(renderBar(0, 4)).toBe("[>   ]");
  });

  it("prints plain lines at intervals when not a terminal", () => {
    let now = 0;
    const out = stream(false);
    const p = new Progress({ totalSteps: 10, tokensPerStep: 100, stream: out, logEvery: 5, now: () => now });
    for (let s = 1; s <= 10; s++) {
      now += 1000;
      p.step(s, 10 - s / 2);
    }
    p.done();
    const lines = out.text().trim().split("\n");
    expect(lines).toEqual([
      "step  5/10  loss 7.5000  100 tok/s  ETA 5s",
      "step 10/10  loss 5.0000  100 tok/s  ETA 0s",
    ]);
  });

  it("redraws one bar line on a terminal and keeps log lines above it", () => {
    let now = 0;
    const out = stream(true);
    const p = new Progress({ totalSteps: 4, tokensPerStep: 10, stream: out, now: () => now });
    now = 500;
    p.step(1, 9);
    p.log("step 1: val loss 9.5");
    now = 1000;
    p.step(2, 8);
    p.done();
    const text = out.text();
    expect(text).toContain("\r\x1b[2K[");
    expect(text).toContain("step 1: val loss 9.5\n");
    expect(text).toMatch(/step 2\/4 {2}loss 8\.0000 {2}20 tok\/s {2}ETA 1s\n$/);
  });
});

describe("loss plot", () => {
  it("draws train and validation curves with a legend", () => {
    const svg = renderLossSvg([
      { name: "train", color: "#1f77b4", points: [[1, 10.8], [2, 9.5], [3, 7.2]] },
      { name: "validation", color: "#d62728", points: [[3, 8]] },
      { name: "empty", color: "#000", points: [] },
    ]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain(">train</text>");
    expect(svg).toContain(">validation</text>");
    expect(svg).not.toContain(">empty</text>");
  });

  it("picks round tick values", () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(3.1, 10.9)).toEqual([4, 6, 8, 10]);
  });
});
