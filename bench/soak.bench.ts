/**
 * Daemon soak: RSS and open descriptors before/after minutes of mixed load (see bench/support/soak-suite.ts).
 * `npm run bench -- soak [--smoke]`.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { writeMetricsReport } from "./support/metrics-report.js";
import { runSoak } from "./support/soak-suite.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runSoak({ smoke: args.smoke });
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench soak failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
