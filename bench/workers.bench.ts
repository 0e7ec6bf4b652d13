/**
 * Many cores: the single-process daemon vs node:cluster workers under the same load
 * (see bench/support/workers-suite.ts). `npm run bench -- workers [--smoke] [--profile]`; installs wrk / nghttp2-client when
 * missing.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { writeMetricsReport } from "./support/metrics-report.js";
import { runWorkers } from "./support/workers-suite.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runWorkers({
		smoke: args.smoke,
		installTools: true,
		profile: args.profile || !args.smoke,
	});
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench workers failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
