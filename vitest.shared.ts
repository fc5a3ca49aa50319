import path from "node:path";
import { defineConfig } from "vitest/config";

/**
 * The vitest settings every package shares. Under CI a JSON report per package is written to
 * `.ci-reports/` (`.ci-reports/tensorflow/` for the `TFGPT_BACKEND=tensorflow` pass), which
 * `.ci/run` sums into one "N passed, N failed" line per pass.
 */
export function packageTestConfig(dir: string) {
  const name = path.basename(dir);
  const pass = process.env.TFGPT_BACKEND;
  const reportDir = path.resolve(dir, "..", name === "test" ? "." : "..", ".ci-reports", pass === undefined || pass === "" ? "." : pass);
  return defineConfig({
    test: {
      include: [dir.endsWith(`${path.sep}test`) ? "**/*.test.ts" : "test/**/*.test.ts"],
      exclude: ["**/node_modules/**", "**/dist/**"],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      reporters: process.env.CI
        ? ["default", ["json", { outputFile: path.join(reportDir, `${name}.json`) }]]
        : ["default"],
    },
  });
}
