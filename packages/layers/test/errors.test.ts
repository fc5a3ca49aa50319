import { describe, expect, it } from "vitest";
import { z } from "zod";
import { LayerConfigError, parseOptions } from "../src/errors.js";

const Strict = z.strictObject({ size: z.number().int().positive().describe("a positive integer") });

describe("parseOptions", () => {
  it("names an unknown key of a strict schema (not 'must be an object')", () => {
    const call = () => parseOptions(Strict, { size: 2, sise: 3 }, "thing");
    expect(call).toThrow(LayerConfigError);
    expect(call).toThrow(/thing has no option `sise` \(known: size\)/);
    try {
      call();
    } catch (error) {
      expect((error as LayerConfigError).option).toBe("sise");
    }
  });

  it("names a bad value with what is allowed, and rejects non-objects", () => {
    expect(() => parseOptions(Strict, { size: 0 }, "thing")).toThrow(/`size` must be a positive integer, received 0/);
    expect(() => parseOptions(Strict, 5, "thing")).toThrow(/thing options must be an object, received 5/);
    expect(parseOptions(Strict, { size: 4 }, "thing")).toEqual({ size: 4 });
  });
});
