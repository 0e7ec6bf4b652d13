/**
 * Propagation latency from a flag-file write to OFREP SSE subscribers (see bench/support/ofrep-propagation-suite.ts).
 * `npm run bench -- ofrep-propagation [--smoke]`.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { writeMetricsReport } from "./support/metrics-report.js";
import { runOfrepPropagation } from "./support/ofrep-propagation-suite.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runOfrepPropagation({ smoke: args.smoke });
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench ofrep-propagation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
