/**
 * Entry point of the daemon under test when a benchmark needs it in its OWN process (so the load generator and
 * the daemon do not share an event loop): `node --import tsx bench/support/daemon-process.ts --source <file>`.
 * Starts the real daemon as the `flagd` command does (start-cli-daemon.ts), and once it is ready prints one JSON
 * line `{"event":"ready",...}` with the bound ports and the time from startDaemon() to ready (config load time).
 * SIGTERM/SIGINT close it gracefully, so `--cpu-prof` profiles are written.
 *
 * `--gc-after-ready` (with node's `--expose-gc`) collects garbage once after ready, so the RSS the scale benchmark
 * reads from /proc reflects the loaded flags rather than parse garbage.
 *
 * Like `flagd start`, the process first caps V8's young generation (runtime/young-generation.ts) unless node flags
 * tune it, and loads the daemon's modules with TurboFan paused (runtime/pause-optimizer.ts); `--v8-defaults` leaves
 * V8 as it is (the scale benchmark's comparison row).
 */
import { parseArgs } from "node:util";
import { installGcTally } from "./gc-tally.js";
import { startCliDaemon } from "./start-cli-daemon.js";

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
	const optionalNumber = (name: keyof typeof values) => {
		const value = values[name];
		return typeof value === "string" ? Number(value) : undefined;
	};
	const maxEventStreams = optionalNumber("max-event-streams");
	const maxConcurrentStreams = optionalNumber("max-concurrent-streams");
	const headerTimeoutMs = optionalNumber("header-timeout-ms");
	const { daemon, readyMs } = await startCliDaemon({
		sources: values.source ?? [],
		v8Defaults: values["v8-defaults"],
		...(maxEventStreams === undefined ? {} : { maxEventStreams }),
		...(maxConcurrentStreams === undefined ? {} : { maxConcurrentStreams }),
		...(headerTimeoutMs === undefined ? {} : { headerTimeoutMs }),
	});
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
