/** The toy fine-tuning data the finetune and evaluate tests share, written into a temp directory. */
import { writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Writes `toy.csv` (24 labelled texts, separable: "spam" ones hold "win cash", "ham" ones do not)
 * and `toy.json` (6 instruction entries) into `dir`; returns their paths.
 */
export async function writeToyTasks(dir: string): Promise<{ csv: string; json: string }> {
  const rows = ["text,label"];
  const ham = ["see you at lunch", "the park is nice", "call me later", "thanks for the book"];
  for (let i = 0; i < 24; i++) rows.push(i % 2 === 0 ? `${ham[i % 4]} win cash now,spam` : `${ham[(i + 1) % 4]} ok,ham`);
  const csv = path.join(dir, "toy.csv");
  await writeFile(csv, `${rows.join("\n")}\n`);
  const entries = ["red", "blue", "green", "white", "black", "pink"].map((c) => ({ instruction: "Name it.", input: c, output: `It is ${c}.` }));
  const json = path.join(dir, "toy.json");
  await writeFile(json, JSON.stringify(entries, null, 2));
  return { csv, json };
}
