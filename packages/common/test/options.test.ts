import { describe, expect, it } from "vitest";
import { z } from "zod";
import { bool, describeValue, fn, nonNegativeInt, oneOf, parseOptions, positiveInt } from "../src/index.js";

class PackageError extends Error {
  constructor(
    message: string,
    readonly option?: string,
  ) {
    super(message);
    this.name = "PackageError";
  }
}
const context = { what: "Thing", error: (message: string, option: string | undefined) => new PackageError(message, option) };

/** The error `parseOptions` throws for `value`, checked to be the package's class. */
function failure(schema: z.ZodType, value: unknown): PackageError {
  try {
    parseOptions(schema, value, context);
  } catch (error) {
    expect(error).toBeInstanceOf(PackageError);
    return error as PackageError;
  }
  throw new Error("parseOptions did not throw");
}

const Schema = z.strictObject({
  size: positiveInt().default(4),
  seed: nonNegativeInt().default(0),
  shuffle: bool().default(false),
  newline: oneOf(["lf", "keep"]).default("lf"),
  dropout: z.number().min(0).max(1).describe("a number in [0, 1]").default(0),
  name: z.string().optional(),
  onStep: fn<(step: number) => void>().optional(),
  nested: z.strictObject({ rank: positiveInt(), alpha: z.number().optional() }).optional(),
});

describe("parseOptions", () => {
  it("returns the parsed options with defaults; undefined and null read as {}", () => {
    const defaults = { size: 4, seed: 0, shuffle: false, newline: "lf", dropout: 0 };
    expect(parseOptions(Schema, undefined, context)).toEqual(defaults);
    expect(parseOptions(Schema, null, context)).toEqual(defaults);
    expect(parseOptions(Schema, { size: 2, newline: "keep" }, context)).toEqual({ ...defaults, size: 2, newline: "keep" });
  });

  it("names the option, the value received and what is allowed (schema clauses)", () => {
    const cases: [unknown, string, string][] = [
      [{ size: 0 }, "size", "`size` must be a positive integer, received 0"],
      [{ size: 1.5 }, "size", "`size` must be a positive integer, received 1.5"],
      [{ size: "4" }, "size", '`size` must be a positive integer, received "4"'],
      [{ seed: -1 }, "seed", "`seed` must be a non-negative integer, received -1"],
      [{ shuffle: 1 }, "shuffle", "`shuffle` must be true or false, received 1"],
      [{ newline: "crlf" }, "newline", '`newline` must be "lf" or "keep", received "crlf"'],
      [{ onStep: 3 }, "onStep", "`onStep` must be a function, received 3"],
    ];
    for (const [value, option, message] of cases) {
      const e = failure(Schema, value);
      expect(e.message).toBe(message);
      expect(e.option).toBe(option);
    }
  });

  it("uses a field's .describe() text as what is allowed", () => {
    expect(failure(Schema, { dropout: 2 }).message).toBe("`dropout` must be a number in [0, 1], received 2");
    expect(failure(Schema, { dropout: "x" }).message).toBe('`dropout` must be a number in [0, 1], received "x"');
  });

  it("says zod's own issues as 'must be ...' and names nested options by path", () => {
    expect(failure(Schema, { name: 5 }).message).toBe("`name` must be a string, received 5");
    const nested = failure(Schema, { nested: { rank: 0 } });
    expect(nested.message).toBe("`nested.rank` must be a positive integer, received 0");
    expect(nested.option).toBe("nested.rank");
    expect(failure(Schema, { nested: { rank: 1, alpha: "a" } }).message).toBe('`nested.alpha` must be a number, received "a"');
    expect(failure(z.strictObject({ k: z.number().min(2) }), { k: 1 }).message).toBe("`k` must be >= 2, received 1");
    expect(failure(z.strictObject({ k: z.string().min(2) }), { k: "a" }).message).toBe('`k` must have length >= 2, received "a"');
  });

  it("lists the known options for an unknown key, at the root and nested", () => {
    const root = failure(Schema, { size: 2, sise: 3 });
    expect(root.message).toBe("Thing has no option `sise` (known: size, seed, shuffle, newline, dropout, name, onStep, nested)");
    expect(root.option).toBe("sise");
    const nested = failure(Schema, { nested: { rank: 1, rnak: 2 } });
    expect(nested.message).toBe("`nested` has no option `rnak` (known: rank, alpha)");
    expect(nested.option).toBe("nested.rnak");
    expect(failure(z.strictObject({}), { x: 1 }).message).toBe("Thing has no option `x` (it takes none)");
    // Known keys are found through refinements too.
    const refined = Schema.superRefine(() => undefined);
    expect(failure(refined, { x: 1 }).message).toMatch(/^Thing has no option `x` \(known: size, /);
  });

  it("rejects what is not an object, naming what is configured", () => {
    const e = failure(Schema, 5);
    expect(e.message).toBe("Thing options must be an object, received 5");
    expect(e.option).toBeUndefined();
    expect(failure(Schema, "abc").message).toBe('Thing options must be an object, received "abc"');
  });

  it("reports a refinement's own clause at the path it names", () => {
    const Ranked = z.strictObject({ rank: nonNegativeInt().default(0), worldSize: positiveInt().default(1) }).superRefine((v, ctx) => {
      if (v.rank >= v.worldSize) ctx.addIssue({ code: "custom", path: ["rank"], message: `must be below \`worldSize\` (${v.worldSize})` });
    });
    const e = failure(Ranked, { rank: 2, worldSize: 2 });
    expect(e.message).toBe("`rank` must be below `worldSize` (2), received 2");
    expect(e.option).toBe("rank");
  });
});

describe("describeValue", () => {
  it("renders values short and recognisable", () => {
    expect(describeValue("a")).toBe('"a"');
    expect(describeValue("x".repeat(100))).toBe(JSON.stringify(`${"x".repeat(57)}...`));
    expect(describeValue(3)).toBe("3");
    expect(describeValue(10n)).toBe("10");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(null)).toBe("null");
    expect(describeValue(() => 1)).toBe("a function");
    expect(describeValue([1, 2])).toBe("[1,2]");
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
    expect(describeValue(Array.from({ length: 100 }, (_, i) => i))).toMatch(/^\[0,1,2,.*\.\.\.$/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe("[object Object]");
  });
});
