// Prints one plain closing line ("tests: N passed, N failed, N skipped") after the jest summary.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
  }
}
module.exports = SummaryReporter;
