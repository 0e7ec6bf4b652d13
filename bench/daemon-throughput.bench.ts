/**
 * Daemon throughput vs the transport ceiling (see bench/support/daemon-throughput-suite.ts).
 * `npm run bench -- daemon-throughput [--smoke] [--profile] [--gc-tally]`; installs wrk / nghttp2-client when missing.
 */
import { parseBenchArgs } from "./support/bench-args.js";
import { runDaemonThroughput } from "./support/daemon-throughput-suite.js";
import { writeMetricsReport } from "./support/metrics-report.js";

const args = parseBenchArgs(process.argv.slice(2));
try {
	const suite = await runDaemonThroughput({
		smoke: args.smoke,
		installTools: true,
		profile: args.profile || !args.smoke,
		gcTally: args.smoke || args.gcTally,
	});
	process.stdout.write(`${suite.markdown}\n`);
	const written = writeMetricsReport(suite, args.outDir);
	process.stdout.write(
		`bench: wrote ${written.markdown} and ${written.json}\n`,
	);
} catch (e: unknown) {
	process.stderr.write(
		`bench daemon-throughput failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exitCode = 1;
}
