// Jest reporter that ends every run with the plain line CI reads ("jest: N passed, N failed, N skipped") and
// writes the counts to jest-results.json so .ci/run can add up its own checks.
const fs = require("node:fs");
const path = require("node:path");

class JestSummaryReporter {
	constructor(globalConfig) {
		this.rootDir = globalConfig.rootDir;
	}

	onRunComplete(_contexts, results) {
		const suiteErrors = results.numRuntimeErrorTestSuites;
		const summary = {
			passed: results.numPassedTests,
			failed: results.numFailedTests + suiteErrors,
			skipped: results.numPendingTests + results.numTodoTests,
			failedSuites: results.testResults
				.filter((r) => r.numFailingTests > 0 || r.testExecError)
				.map((r) => path.relative(this.rootDir, r.testFilePath)),
		};
		fs.writeFileSync(
			path.join(this.rootDir, "jest-results.json"),
			`${JSON.stringify(summary, null, 2)}\n`,
		);
		process.stdout.write(
			`jest: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped\n`,
		);
	}
}

module.exports = JestSummaryReporter;
