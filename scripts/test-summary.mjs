// Prints vitest's result as one plain line, "vitest: N passed, N failed, N skipped",
// from the JSON report vitest.config.ts writes. Exits 1 if the report is missing.
import { readFileSync } from "node:fs";

const path = process.argv[2] ?? "target/vitest-report.json";
let report;
try {
  report = JSON.parse(readFileSync(path, "utf8"));
} catch (error) {
  console.error(`no vitest report at ${path}: ${error.message}`);
  process.exit(1);
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`vitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
process.exit(report.numFailedTests === 0 && report.numTotalTests > 0 ? 0 : 1);
