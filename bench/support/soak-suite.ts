/**
 * Soak: minutes of mixed load (bench/support/soak-load.ts in its own process: unary gRPC and Connect, OFREP,
 * EventStream churn with fresh HTTP/2 sessions, a flag-file change every second) against one daemon process.
 * Before and after, with no client connected and the descriptor count settled, the daemon's RSS (VmRSS) and open
 * descriptor count (/proc/<pid>/fd: sockets, pipes, watchers, timers' fds) are read from /proc. The "before" point
 * follows a short warm-up of the same load, so JIT and pools are already grown.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatInt, formatMiB } from "./bench-args.js";
import { type BenchDaemon, startBenchDaemon } from "./bench-daemon.js";
import { startChild } from "./child-process.js";
import { revisionDocument } from "./flag-documents.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { describeOpenFds, loadAverage1m } from "./proc-stats.js";
import type { SoakLoadSummary } from "./soak-load.js";

export interface SoakOptions {
	readonly smoke: boolean;
	/** Override the load duration. @default 300 (smoke: 2) */
	readonly seconds?: number;
}

interface Snapshot {
	/** VmRSS after a full GC in the daemon. */
	readonly rssBytes: number;
	/** Heap used/total after that GC: growth of `heapUsedBytes` is what a leak looks like. */
	readonly heapUsedBytes: number;
	readonly heapTotalBytes: number;
	readonly fds: number;
	readonly fdKinds: Record<string, number>;
}

/** Waits until the daemon's descriptor count has not changed for `quietMs` (closing sockets drain), bounded. */
async function settle(
	daemon: BenchDaemon,
	quietMs: number,
	timeoutMs: number,
): Promise<Snapshot> {
	const deadline = performance.now() + timeoutMs;
	let last = daemon.openFds();
	let stableSince = performance.now();
	while (
		performance.now() - stableSince < quietMs &&
		performance.now() < deadline
	) {
		await new Promise((resolve) => setTimeout(resolve, 50));
		const now = daemon.openFds();
		if (now !== last) {
			last = now;
			stableSince = performance.now();
		}
	}
	const heap = await daemon.collectGarbage();
	return {
		rssBytes: daemon.rssBytes(),
		heapUsedBytes: heap.heapUsedBytes,
		heapTotalBytes: heap.heapTotalBytes,
		fds: last,
		fdKinds: describeOpenFds(daemon.pid),
	};
}

async function runLoad(
	daemon: BenchDaemon,
	flagFile: string,
	seconds: number,
): Promise<SoakLoadSummary> {
	const load = await startChild<SoakLoadSummary>({
		script: "bench/support/soak-load.ts",
		args: [
			"--evaluation",
			String(daemon.ports.evaluation),
			"--ofrep",
			String(daemon.ports.ofrep),
			"--flag-file",
			flagFile,
			"--seconds",
			String(seconds),
			"--change-ms",
			seconds < 10 ? "400" : "1000",
		],
		startTimeoutMs: seconds * 1000 + 60_000,
	});
	await load.stop();
	if (load.ready.errors > 0)
		throw new Error(
			`soak load saw ${load.ready.errors} failed requests: ${load.ready.firstErrors.join("; ")}`,
		);
	return load.ready;
}

/** Runs the benchmark; see the file comment. */
export async function runSoak(options: SoakOptions): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const seconds = options.seconds ?? (smoke ? 2 : 300);
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-soak-"));
	const flagFile = path.join(dir, "flags.json");
	let before: Snapshot;
	let mid: Snapshot;
	let after: Snapshot;
	let idle: Snapshot;
	let first: SoakLoadSummary;
	let second: SoakLoadSummary;
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			document: revisionDocument(0),
			exposeGc: true,
		});
		try {
			idle = await settle(daemon, 300, 5_000);
			await runLoad(daemon, flagFile, smoke ? 1 : 10);
			before = await settle(daemon, smoke ? 300 : 1_000, 15_000);
			// Two halves with a snapshot between: slack grows in the first half and plateaus, a leak grows in both.
			first = await runLoad(daemon, flagFile, seconds / 2);
			mid = await settle(daemon, smoke ? 300 : 1_000, 15_000);
			second = await runLoad(daemon, flagFile, seconds / 2);
			after = await settle(daemon, smoke ? 300 : 1_000, 15_000);
		} finally {
			await daemon.stop();
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const growth = after.rssBytes - before.rssBytes;
	const kinds = (s: Snapshot) =>
		Object.entries(s.fdKinds)
			.map(([k, n]) => `${k} ${n}`)
			.join(", ");
	const summary = {
		unary: first.unary + second.unary,
		ofrep: first.ofrep + second.ofrep,
		streamsOpened: first.streamsOpened + second.streamsOpened,
		changes: first.changes + second.changes,
		changeEventsReceived:
			first.changeEventsReceived + second.changeEventsReceived,
		errors: first.errors + second.errors,
	};
	const secondHalfHeapGrowth = after.heapUsedBytes - mid.heapUsedBytes;
	const heapAllowance = Math.max(1024 * 1024, mid.heapUsedBytes * 0.05);
	const targets: TargetCheck[] = [
		{
			name: "open descriptors back to the pre-soak count",
			target: `≤ ${before.fds}`,
			measured: String(after.fds),
			met: after.fds <= before.fds,
		},
		{
			// Not an issue target: the leak check this benchmark exists for.
			name: "heap used after a full GC, second half of the soak (leak check)",
			target: `grows ≤ ${formatMiB(heapAllowance)} (max of 1 MiB, 5 %)`,
			measured: `${secondHalfHeapGrowth >= 0 ? "+" : ""}${formatMiB(secondHalfHeapGrowth)} (first half ${formatMiB(mid.heapUsedBytes - before.heapUsedBytes)})`,
			met: secondHalfHeapGrowth <= heapAllowance,
		},
	];
	return metricsSuite({
		suite: "soak",
		title: `${seconds} s of mixed load with event streams opening and closing`,
		smoke,
		command: `npm run bench -- soak${smoke ? " --smoke" : ""}`,
		runs: 1,
		tables: [
			{
				caption:
					"Daemon process before/after (no client connected, descriptor count settled, full GC)",
				columns: ["point", "RSS", "heap used / total", "open fds", "fd kinds"],
				rows: (
					[
						["fresh daemon", idle],
						["after warm-up (before)", before],
						[`after ${seconds / 2} s (half-way)`, mid],
						[`after ${seconds} s soak`, after],
					] as const
				).map(([point, snap]) => [
					point,
					formatMiB(snap.rssBytes),
					`${formatMiB(snap.heapUsedBytes)} / ${formatMiB(snap.heapTotalBytes)}`,
					String(snap.fds),
					kinds(snap),
				]),
			},
			{
				caption: "Load served during the soak",
				columns: [
					"unary RPCs",
					"OFREP requests",
					"event streams opened+closed",
					"file changes",
					"configuration_change events received",
					"failed requests",
				],
				rows: [
					[
						formatInt(summary.unary),
						formatInt(summary.ofrep),
						formatInt(summary.streamsOpened),
						formatInt(summary.changes),
						formatInt(summary.changeEventsReceived),
						formatInt(summary.errors),
					],
				],
			},
		],
		targets,
		notes: [
			`RSS change over the soak: ${growth >= 0 ? "+" : ""}${formatMiB(growth)} (first half ${formatMiB(mid.rssBytes - before.rssBytes)}, second half ${formatMiB(after.rssBytes - mid.rssBytes)}). Every snapshot is taken after a full GC inside the daemon (SIGUSR2 hook of the bench's daemon process, not of the product): RSS that grows while heap used stays flat is memory outside the JS heap (V8 heap reservation, HTTP/2 session buffers, malloc arenas), not retained JS objects.`,
			"Load process: 2 gRPC + 2 Connect HTTP/1.1 unary loops (boolean/string/object/ResolveAll), 1 OFREP loop (single/bulk), 2 stream-churn loops (25 streams on a fresh HTTP/2 session, held 50–400 ms, cancelled), file change every second (every 400 ms when shorter than 10 s).",
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: {
			seconds,
			idle,
			before,
			mid,
			after,
			summary,
			halves: [first, second],
		},
	});
}
