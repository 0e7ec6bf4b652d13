/**
 * `flagd start`: resolve the configuration, create the logger, start the daemon, log where it listens, then wait
 * for SIGTERM/SIGINT and shut down gracefully. Returns the exit code instead of exiting, so cli/main.ts stays the only
 * place that calls process.exit and tests can run it in-process.
 */
import { resolveDaemonConfig } from "../config/resolve-daemon-config.js";
import { isDaemonError } from "../errors.js";
import { createLogger } from "../logging/create-logger.js";
import { redactUri } from "../logging/redact-uri.js";
import { resumeOptimizer } from "../runtime/pause-optimizer.js";
import type { RunningDaemon } from "../runtime/start-daemon.js";
import { governYoungGeneration } from "../runtime/young-generation-governor.js";
import type { CliIo } from "./cli-io.js";
import { listenAddresses } from "./listen-addresses.js";
import { readPackageInfo } from "./package-info.js";
import { redactConfig } from "./redact-config.js";
import { ShutdownCoordinator } from "./shutdown-coordinator.js";

function describe(e: unknown): string {
	return e instanceof Error ? e.message : String(e);
}

/**
 * The one stderr line for a problem that ends `flagd start` with exit code 1; the stack (and causes) follow only
 * under --debug, or for an error that is not one of ours (a bug, not a user error).
 */
function fatalReporter(io: CliIo, debug: boolean) {
	return (message: string, error: unknown): void => {
		io.stderr.write(`flagd: ${message}\n`);
		if ((debug || !isDaemonError(error)) && error instanceof Error)
			io.stderr.write(`${error.stack ?? ""}\n`);
	};
}

export async function runStart(
	args: readonly string[],
	env: Readonly<Record<string, string | undefined>>,
	io: CliIo,
): Promise<number> {
	let resolved: ReturnType<typeof resolveDaemonConfig>;
	try {
		resolved = resolveDaemonConfig({
			argv: args,
			env,
			readFile: io.readFile,
		});
	} catch (e: unknown) {
		if (!isDaemonError(e) || e.code !== "CONFIG_INVALID") throw e;
		io.stderr.write(
			`flagd: ${e.message}\nRun "flagd start --help" to see every option.\n`,
		);
		return 1;
	}
	const { config, warnings } = resolved;
	const logger = createLogger({
		format: config.logFormat,
		debug: config.debug,
		sink: io.stdout,
		color: io.stdout.isTTY === true && env.NO_COLOR === undefined,
	});
	for (const warning of warnings) logger.warn({}, warning);
	logger.debug({ config: redactConfig(config) }, "resolved configuration");
	const info = readPackageInfo();
	logger.info(
		{
			version: info.version,
			node: process.version,
			sources: config.sources.map((s) => redactUri(s.uri)),
		},
		"flagd starting",
	);
	// Listening for signals before the daemon starts, so none is missed (see ShutdownCoordinator).
	const shutdown = new ShutdownCoordinator({
		events: io.events ?? process,
		logger,
		forceExit: io.forceExit ?? ((code: number) => process.exit(code)),
		timeoutMs: io.shutdownTimeoutMs ?? 15_000,
		reportFatal: fatalReporter(io, config.debug),
	});
	let daemon: RunningDaemon;
	try {
		// Loaded here, not at the top: `flagd version`/`--help` and config errors need none of the services. The
		// optimizer paused at the CLI's start resumes once they are loaded, before any flag or request (a no-op when
		// runStart runs in-process, as in tests).
		const { startDaemon } = await import("../runtime/start-daemon.js").finally(
			resumeOptimizer,
		);
		daemon = await startDaemon(config, { logger });
	} catch (e: unknown) {
		shutdown.dispose();
		fatalReporter(io, config.debug)(`failed to start: ${describe(e)}`, e);
		return 1;
	}
	logger.info({ ...listenAddresses(config, daemon.ports) }, "flagd started");
	// Lifts the young-generation cap cli/main.ts applied while requests come fast (young-generation-governor.ts).
	const governor = governYoungGeneration({
		requestCount: () => daemon.requestCount(),
		logger: logger.child({ component: "runtime" }),
	});
	try {
		return await shutdown.run(daemon);
	} finally {
		governor?.stop();
	}
}
