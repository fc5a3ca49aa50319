// Sums the per-package vitest JSON reports of one directory into one line: "tests: N passed, N
// failed, N skipped", or "tests (LABEL): ..." given a label (e.g. the tensorflow pass).
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2] ?? ".ci-reports";
const label = process.argv[3];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  if (!file.endsWith(".json")) continue; // subdirectories hold other passes
  const report = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += report.numPendingTests ?? 0;
}
console.log(`tests${label ? ` (${label})` : ""}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
