// Prints the closing "tests: N passed, N failed" line from vitest's JSON report, so a run that
// executed no test (or never produced a report) is visible, and fails in that case.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.data/vitest-report.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log('tests: 0 passed, 1 failed');
  console.error(`no test report at ${file}: ${error.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A file that failed without a failing test (it did not load, a hook threw) counts once; suites
// of failing tests are not counted again on top of their tests.
const brokenFiles = (report.testResults ?? []).filter(
  (file) =>
    file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) {
  console.error('no test ran');
  process.exit(1);
}
