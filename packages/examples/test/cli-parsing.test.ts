/** The CLI's parsing gaps: negative values with a space, strict numbers, flag names, upper bounds, signal exit codes. */
import { describe, expect, it } from "vitest";
import { main, signalExitCode } from "../src/cli.js";
import { memoryIO } from "../src/io.js";
import { integerFlag, numberFlag } from "../src/options.js";

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, err: io.err() };
}

describe("CLI parsing", () => {
  it("a negative value after a space reaches the flag's own check (not parseArgs' 'ambiguous')", async () => {
    expect(await run(["train", "--steps", "-1"])).toEqual({ code: 2, err: 'tfgpt train: `--steps` must be an integer in [1, 1000000000], received "-1"\n' });
    expect((await run(["train", "--lr", "-.5"])).err).toBe('tfgpt train: `--lr` must be a number > 0 and <= 1, received "-.5"\n');
  });

  it("integers and numbers are plain decimals: 0x10, 1e1, Infinity and spaces are refused", () => {
    for (const bad of ["0x10", "1e1", "1.0", " 1", "+", "Infinity", "0b1"]) expect(() => integerFlag("steps").parse(bad)).toThrow();
    expect(integerFlag("steps").parse("+7")).toBe(7);
    for (const bad of ["0x1", "Infinity", "1e", ".", "1,5"]) expect(() => numberFlag("lr").parse(bad)).toThrow();
    expect(numberFlag("lr").parse("3e-4")).toBe(3e-4);
    expect(numberFlag("lr").parse(".5")).toBe(0.5);
  });

  it("a missing required flag is named as typed on the command line", async () => {
    expect((await run(["batches", "x.txt", "--stride", "1", "--batch-size", "1"])).err).toBe("tfgpt batches: `--max-length` is required\n");
    expect((await run(["train-tokenizer", "x.txt", "--out", "t"])).err).toBe("tfgpt train-tokenizer: `--vocab-size` is required\n");
  });

  it("counts have upper bounds", async () => {
    expect((await run(["train", "--epochs", "9007199254740991"])).err).toBe(
      'tfgpt train: `--epochs` must be an integer in [1, 1000000], received "9007199254740991"\n',
    );
    expect((await run(["train", "--context", "2000000"])).code).toBe(2);
    expect((await run(["batches", "x.txt", "--max-length", "4", "--stride", "4", "--batch-size", "100000"])).code).toBe(2);
  });

  it("a command stopped by a signal exits with 128 + its number", () => {
    const stopped = (reason: string) => {
      const c = new AbortController();
      c.abort(reason);
      return signalExitCode(c.signal);
    };
    expect([stopped("SIGINT"), stopped("SIGTERM"), stopped("SIGHUP")]).toEqual([130, 143, 129]);
    expect(signalExitCode(new AbortController().signal)).toBeUndefined();
  });
});
