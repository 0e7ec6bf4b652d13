/**
 * Daemon scale by flag count (see bench/support/scale-suite.ts). `npm run bench -- scale [--smoke]`.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { writeMetricsReport } from "./support/metrics-report.js";
import { runScale } from "./support/scale-suite.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runScale({ smoke: args.smoke });
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench scale failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
