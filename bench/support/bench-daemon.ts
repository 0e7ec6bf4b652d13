/**
 * The daemon under test in its own process (bench/support/daemon-process.ts), serving one flag file, plus the
 * /proc readings the benchmarks take from outside (RSS, open descriptors).
 */
import { writeFileSync } from "node:fs";
import { type RunningChild, startChild } from "./child-process.js";
import type { DaemonGcLine, DaemonReadyLine } from "./daemon-process.js";
import type { FlagDocument } from "./flag-documents.js";
import { type GcTally, gcTallyEnv, readGcTally } from "./gc-tally.js";
import { countOpenFds, readPeakRssBytes, readRssBytes } from "./proc-stats.js";

export interface BenchDaemon {
	readonly pid: number;
	readonly ports: DaemonReadyLine["ports"];
	/** startDaemon() → ready inside the daemon process. */
	readonly readyMs: number;
	/** Spawn → ready line received (includes Node + tsx start-up). */
	readonly spawnToReadyMs: number;
	/** process.memoryUsage() inside the daemon at ready. */
	readonly memoryAtReady: {
		readonly heapUsedBytes: number;
		readonly heapTotalBytes: number;
		readonly externalBytes: number;
	};
	rssBytes(): number;
	/** Full GC inside the daemon (needs `exposeGc` or `gcAfterReady`), then its heap figures. */
	collectGarbage(): Promise<DaemonGcLine>;
	/** VmHWM: the highest RSS so far. */
	peakRssBytes(): number;
	openFds(): number;
	/** The daemon's GC running totals (needs `gcTally`; see gc-tally.ts). */
	gcTally(): Promise<GcTally>;
	stop(): Promise<number | string>;
}

export interface BenchDaemonOptions {
	/** Flag file path (written first when `document` is given). */
	readonly flagFile: string;
	readonly document?: FlagDocument;
	/** Extra node flags, e.g. `--cpu-prof`. */
	readonly nodeArgs?: readonly string[];
	/** Collect garbage once after ready (adds `--expose-gc`). */
	readonly gcAfterReady?: boolean;
	/** Start with `--expose-gc` so collectGarbage() works. */
	readonly exposeGc?: boolean;
	/** Leave V8's young generation uncapped (daemon-process.ts `--v8-defaults`). @default false */
	readonly v8Defaults?: boolean;
	/** The daemon entry script. @default "bench/support/daemon-process.ts" */
	readonly script?: string;
	/** @default "bundle" (see child-process.ts) */
	readonly runner?: "bundle" | "tsx";
	/** Keep a GC tally in the daemon (gc-tally.ts), read with gcTally(). @default false */
	readonly gcTally?: boolean;
	/**
	 * Limits above the daemon's defaults for fan-out benches: stream caps, and the header timeout (a client opening
	 * thousands of streams on a loaded machine can take longer than 5 s to send a connection's first request).
	 */
	readonly streamCaps?: {
		readonly maxEventStreams: number;
		readonly maxConcurrentStreams: number;
		readonly headerTimeoutMs: number;
	};
}

/** Starts the daemon process and waits until it is ready. */
export async function startBenchDaemon(
	options: BenchDaemonOptions,
): Promise<BenchDaemon> {
	if (options.document !== undefined)
		writeFileSync(options.flagFile, JSON.stringify(options.document));
	const gc = options.gcAfterReady === true;
	const started = performance.now();
	const child: RunningChild<DaemonReadyLine> =
		await startChild<DaemonReadyLine>({
			script: options.script ?? "bench/support/daemon-process.ts",
			args: [
				"--source",
				options.flagFile,
				...(gc ? ["--gc-after-ready"] : []),
				...(options.v8Defaults === true ? ["--v8-defaults"] : []),
				...(options.streamCaps === undefined
					? []
					: [
							"--max-event-streams",
							String(options.streamCaps.maxEventStreams),
							"--max-concurrent-streams",
							String(options.streamCaps.maxConcurrentStreams),
							"--header-timeout-ms",
							String(options.streamCaps.headerTimeoutMs),
						]),
			],
			nodeArgs: [
				...(options.nodeArgs ?? []),
				...(gc || options.exposeGc === true ? ["--expose-gc"] : []),
			],
			runner: options.runner ?? "bundle",
			...(options.gcTally === true ? { env: gcTallyEnv() } : {}),
		});
	const spawnToReadyMs = performance.now() - started;
	return {
		pid: child.pid,
		ports: child.ready.ports,
		readyMs: child.ready.readyMs,
		spawnToReadyMs,
		memoryAtReady: {
			heapUsedBytes: child.ready.heapUsedBytes,
			heapTotalBytes: child.ready.heapTotalBytes,
			externalBytes: child.ready.externalBytes,
		},
		rssBytes: () => readRssBytes(child.pid),
		collectGarbage: async () =>
			(await child.signalAndWait("SIGUSR2", "gc")) as DaemonGcLine,
		peakRssBytes: () => readPeakRssBytes(child.pid),
		openFds: () => countOpenFds(child.pid),
		gcTally: () => readGcTally(child),
		stop: () => child.stop(),
	};
}
