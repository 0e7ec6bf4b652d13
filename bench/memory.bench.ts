/**
 * Idle memory of the daemon beside bare Node processes (see bench/support/memory-suite.ts). `npm run bench -- memory [--smoke]`.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { runMemory } from "./support/memory-suite.js";
import { writeMetricsReport } from "./support/metrics-report.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runMemory({ smoke: args.smoke });
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench memory failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
