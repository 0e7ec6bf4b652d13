/**
 * Starts the real daemon in THIS process the way the `flagd` command does (every port 0 on 127.0.0.1): V8's
 * young generation capped first (runtime/young-generation.ts, unless node flags tune it; lifted while requests come
 * fast, runtime/young-generation-governor.ts) and the daemon's modules
 * loaded with TurboFan paused (runtime/pause-optimizer.ts); `v8Defaults` leaves V8 as it is. Shared by
 * daemon-process.ts (the daemon in its own process) and allocation-profile.ts (in the profiler's process); the
 * cluster prototype (cluster-daemon-process.ts) takes its configuration and logger.
 * Warnings and errors of the daemon go to stderr; info/debug are dropped (per-request logging is off in
 * production too).
 */
import { createLogger } from "../../packages/daemon/src/logging/create-logger.js";
import type { Logger } from "../../packages/daemon/src/logging/logger.js";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	pauseOptimizer,
	resumeOptimizer,
} from "../../packages/daemon/src/runtime/pause-optimizer.js";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { capYoungGeneration } from "../../packages/daemon/src/runtime/young-generation.js";
import { governYoungGeneration } from "../../packages/daemon/src/runtime/young-generation-governor.js";
import { parseSourceUri } from "../../packages/daemon/src/syncs/parse-source-uri.js";

export interface CliDaemonOptions {
	/** Flag files. */
	readonly sources: readonly string[];
	/** Leave V8's young generation and optimizer alone. @default false */
	readonly v8Defaults?: boolean;
	readonly maxEventStreams?: number;
	readonly maxConcurrentStreams?: number;
	readonly headerTimeoutMs?: number;
}

export interface StartedCliDaemon {
	readonly daemon: RunningDaemon;
	/** startDaemon() call → every source delivered its first payload. */
	readonly readyMs: number;
}

/** The daemon's JSON logger on stderr, warnings and errors only (a benchmark's stdout carries its protocol lines). */
export function warningsLogger(): Logger {
	return warningsOnly(createLogger({ format: "json", sink: process.stderr }));
}

function warningsOnly(inner: Logger): Logger {
	return {
		debug() {},
		info() {},
		warn: (fields, message) => inner.warn(fields, message),
		error: (fields, message) => inner.error(fields, message),
		child: (fields) => warningsOnly(inner.child(fields)),
	};
}

/** The daemon's configuration for benchmarks: every port 0 on 127.0.0.1, serving the flag files. */
export function cliDaemonConfig(
	options: CliDaemonOptions,
): ReturnType<typeof defaultDaemonConfig> {
	if (options.sources.length === 0)
		throw new Error("a flag file (--source <file>) is required");
	return defaultDaemonConfig({
		bindAddress: "127.0.0.1",
		port: 0,
		managementPort: 0,
		syncPort: 0,
		ofrepPort: 0,
		sources: options.sources.map((path) => parseSourceUri(`file:${path}`)),
		...(options.maxEventStreams === undefined
			? {}
			: { maxEventStreams: options.maxEventStreams }),
		...(options.maxConcurrentStreams === undefined
			? {}
			: { maxConcurrentStreams: options.maxConcurrentStreams }),
		...(options.headerTimeoutMs === undefined
			? {}
			: { headerTimeoutMs: options.headerTimeoutMs }),
	});
}

/** See the file comment. Resolves once the daemon is ready. */
export async function startCliDaemon(
	options: CliDaemonOptions,
): Promise<StartedCliDaemon> {
	if (options.v8Defaults !== true) {
		capYoungGeneration();
		pauseOptimizer();
	}
	const { startDaemon } = await import(
		"../../packages/daemon/src/runtime/start-daemon.js"
	).finally(resumeOptimizer);
	const started = performance.now();
	const daemon = await startDaemon(cliDaemonConfig(options), {
		logger: warningsLogger(),
	});
	await daemon.ready;
	const readyMs = performance.now() - started;
	// As `flagd start`: the cap lifts while requests come fast (young-generation-governor.ts); stops with the daemon.
	const governor = governYoungGeneration({
		requestCount: () => daemon.requestCount(),
	});
	const close = daemon.close.bind(daemon);
	return {
		daemon: {
			...daemon,
			close: () => {
				governor?.stop();
				return close();
			},
		},
		readyMs,
	};
}
