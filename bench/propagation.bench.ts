/**
 * Propagation latency from a flag-file write to EventStream subscribers (see bench/support/propagation-suite.ts).
 * `npm run bench -- propagation [--smoke]`.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { writeMetricsReport } from "./support/metrics-report.js";
import { runPropagation } from "./support/propagation-suite.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runPropagation({ smoke: args.smoke });
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench propagation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
