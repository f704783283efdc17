// Runs the whole vitest suite and ends with one plain summary line ("N passed, N failed,
// N skipped"), which CI systems that do not know vitest's own output can read.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'kubeforge-vitest-'));
const report = path.join(dir, 'report.json');
const result = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let summary;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = json.numPendingTests + json.numTodoTests;
  // A file that fails before any test runs (e.g. end-to-end prerequisites missing under CI)
  // counts as a failure too.
  const failed = Math.max(json.numFailedTests, json.numFailedTestSuites);
  summary = `${json.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
  if (json.numTotalTests === 0) summary = 'tests: 0 passed, 0 failed (no test ran)';
} catch {
  summary = 'tests: 0 passed, 1 failed (vitest wrote no report)';
}
rmSync(dir, { recursive: true, force: true });
console.log(`\n${summary}`);
process.exit(result.status ?? 1);
