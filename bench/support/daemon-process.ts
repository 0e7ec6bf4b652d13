/**
 * Entry point of the daemon under test when a benchmark needs it in its OWN process (so the load generator and
 * the daemon do not share an event loop): `node --import tsx bench/support/daemon-process.ts --source <file>`.
 * Starts the real daemon (startDaemon, every port 0 on 127.0.0.1), and once it is ready prints one JSON line
 * `{"event":"ready",...}` with the bound ports and the time from startDaemon() to ready (config load time).
 * SIGTERM/SIGINT close it gracefully, so `--cpu-prof` profiles are written. Warnings and errors of the daemon go to
 * stderr; info/debug are dropped (per-request logging is off in production too).
 *
 * `--gc-after-ready` (with node's `--expose-gc`) collects garbage once after ready, so the RSS the scale benchmark
 * reads from /proc reflects the loaded flags rather than parse garbage.
 *
 * Like `flagd start`, the process first caps V8's young generation (runtime/young-generation.ts) unless node flags
 * tune it, and loads the daemon's modules with TurboFan paused (runtime/pause-optimizer.ts); `--v8-defaults` leaves
 * V8 as it is (the scale benchmark's comparison row).
 */
import { parseArgs } from "node:util";
import { createLogger } from "../../packages/daemon/src/logging/create-logger.js";
import type { Logger } from "../../packages/daemon/src/logging/logger.js";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	pauseOptimizer,
	resumeOptimizer,
} from "../../packages/daemon/src/runtime/pause-optimizer.js";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { capYoungGeneration } from "../../packages/daemon/src/runtime/young-generation.js";
import { parseSourceUri } from "../../packages/daemon/src/syncs/parse-source-uri.js";
import { installGcTally } from "./gc-tally.js";

/** The line the parent waits for. */
export interface DaemonReadyLine {
	readonly event: "ready";
	readonly pid: number;
	readonly ports: {
		readonly evaluation: number;
		readonly ofrep: number;
		readonly sync: number;
		readonly management: number;
	};
	/** startDaemon() call → every source delivered its first payload. */
	readonly readyMs: number;
	/** process.memoryUsage() right after ready (and the optional GC). */
	readonly heapUsedBytes: number;
	readonly heapTotalBytes: number;
	readonly externalBytes: number;
}

/** The line answering SIGUSR2 (full GC, then memory figures); only with --expose-gc. */
export interface DaemonGcLine {
	readonly event: "gc";
	readonly heapUsedBytes: number;
	readonly heapTotalBytes: number;
	readonly externalBytes: number;
}

/** Drops debug/info: the benchmark's stdout carries only the protocol line. */
function warningsOnly(inner: Logger): Logger {
	return {
		debug() {},
		info() {},
		warn: (fields, message) => inner.warn(fields, message),
		error: (fields, message) => inner.error(fields, message),
		child: (fields) => warningsOnly(inner.child(fields)),
	};
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			source: { type: "string", multiple: true },
			"gc-after-ready": { type: "boolean", default: false },
			"v8-defaults": { type: "boolean", default: false },
			"max-event-streams": { type: "string" },
			"max-concurrent-streams": { type: "string" },
			"header-timeout-ms": { type: "string" },
		},
	});
	installGcTally();
	if (!values["v8-defaults"]) {
		capYoungGeneration();
		pauseOptimizer();
	}
	const { startDaemon } = await import(
		"../../packages/daemon/src/runtime/start-daemon.js"
	).finally(resumeOptimizer);
	const sources = (values.source ?? []).map((path) =>
		parseSourceUri(`file:${path}`),
	);
	if (sources.length === 0)
		throw new Error("daemon-process: --source <file> is required");
	const logger = warningsOnly(
		createLogger({ format: "json", sink: process.stderr }),
	);
	const started = performance.now();
	const daemon: RunningDaemon = await startDaemon(
		defaultDaemonConfig({
			bindAddress: "127.0.0.1",
			port: 0,
			managementPort: 0,
			syncPort: 0,
			ofrepPort: 0,
			sources,
			...(values["max-event-streams"] === undefined
				? {}
				: { maxEventStreams: Number(values["max-event-streams"]) }),
			...(values["max-concurrent-streams"] === undefined
				? {}
				: { maxConcurrentStreams: Number(values["max-concurrent-streams"]) }),
			...(values["header-timeout-ms"] === undefined
				? {}
				: { headerTimeoutMs: Number(values["header-timeout-ms"]) }),
		}),
		{ logger },
	);
	await daemon.ready;
	const readyMs = performance.now() - started;
	const gc = (globalThis as { gc?: () => void }).gc;
	if (values["gc-after-ready"] && gc !== undefined) gc();
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		daemon.close().then(
			() => process.exit(0),
			(e: unknown) => {
				process.stderr.write(
					`daemon-process: close on ${signal} failed: ${String(e)}\n`,
				);
				process.exit(1);
			},
		);
	};
	if (gc !== undefined) {
		// Benchmark hook (this file is not the product): the soak benchmark asks for a full GC before reading RSS,
		// so heap growth (a leak) and allocator slack can be told apart.
		process.on("SIGUSR2", () => {
			gc();
			const after = process.memoryUsage();
			const line: DaemonGcLine = {
				event: "gc",
				heapUsedBytes: after.heapUsed,
				heapTotalBytes: after.heapTotal,
				externalBytes: after.external,
			};
			process.stdout.write(`${JSON.stringify(line)}\n`);
		});
	}
	process.on("SIGTERM", () => stop("SIGTERM"));
	process.on("SIGINT", () => stop("SIGINT"));
	const memory = process.memoryUsage();
	const line: DaemonReadyLine = {
		event: "ready",
		pid: process.pid,
		ports: {
			evaluation: daemon.ports.evaluation ?? 0,
			ofrep: daemon.ports.ofrep,
			sync: daemon.ports.sync ?? 0,
			management: daemon.ports.management,
		},
		readyMs,
		heapUsedBytes: memory.heapUsed,
		heapTotalBytes: memory.heapTotal,
		externalBytes: memory.external,
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((e: unknown) => {
	process.stderr.write(
		`daemon-process failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exit(1);
});
