/**
 * OFREP propagation: flag file write → `refetchEvaluation` received by N OFREP SSE subscribers (`GET /ofrep/v1/sse`,
 * one HTTP/1.1 connection each, spread over worker threads of this process). The daemon runs in its own process with
 * a file source. Each change is written atomically (temp file + rename) and the clock starts just before the temp
 * file is written, so a latency includes the file watcher's reaction, re-read, parse, diff, the event's encoding
 * (once) and its write to every subscriber, and the subscriber's worker parsing it. Same method as propagation-suite.ts
 * (EventStream), so the two tables compare.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stats } from "../harness.js";
import { formatInt, percentile, waitFor } from "./bench-args.js";
import { startBenchDaemon } from "./bench-daemon.js";
import { type DaemonProfile, profileDaemonUnder } from "./daemon-profile.js";
import { revisionDocument } from "./flag-documents.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m, readCpuTimeMs } from "./proc-stats.js";
import { SseSubscriberGroup } from "./sse-subscribers.js";

export interface OfrepPropagationOptions {
	readonly smoke: boolean;
	/** Also profile the daemon while 1,000 subscribers receive changes. @default !smoke */
	readonly profile?: boolean;
}

const PROFILE_SUBSCRIBERS = 1000;
const PROFILE_CHANGES = 10;

interface GroupResult {
	readonly subscribers: number;
	readonly changes: number;
	readonly latenciesMs: number[];
	readonly allReceivedMs: number[];
	readonly firstReceivedMs: number[];
	readonly openMs: number;
	readonly daemonCpuMs: number[];
	readonly subscriberCpuMs: number[];
}

const PLAN_FULL = [
	{ subscribers: 1, changes: 100 },
	{ subscribers: 100, changes: 50 },
	{ subscribers: 1000, changes: 30 },
] as const;
const PLAN_SMOKE = [
	{ subscribers: 1, changes: 3 },
	{ subscribers: 100, changes: 2 },
] as const;

async function measureGroup(
	pid: number,
	port: number,
	flagFile: string,
	subscribers: number,
	changes: number,
	nextRevision: () => number,
): Promise<GroupResult> {
	const opened = performance.now();
	const group = new SseSubscriberGroup({
		port,
		count: subscribers,
		path: "/ofrep/v1/sse",
	});
	const result = {
		subscribers,
		changes,
		latenciesMs: [] as number[],
		allReceivedMs: [] as number[],
		firstReceivedMs: [] as number[],
		daemonCpuMs: [] as number[],
		subscriberCpuMs: [] as number[],
	};
	try {
		await waitFor(
			() => group.ready === subscribers || group.errors.length > 0,
			120_000,
			`${subscribers} SSE subscribers to open`,
			5,
		);
		if (group.errors.length > 0)
			throw new Error(`subscriber failed: ${group.errors[0]}`);
		const openMs = performance.now() - opened;
		const tmp = `${flagFile}.tmp`;
		for (let change = 0; change < changes; change++) {
			const document = JSON.stringify(revisionDocument(nextRevision()));
			const daemonCpu = readCpuTimeMs(pid);
			const ownCpu = process.cpuUsage();
			group.mark();
			writeFileSync(tmp, document);
			renameSync(tmp, flagFile);
			await waitFor(
				() => group.received.length >= subscribers || group.errors.length > 0,
				30_000,
				`refetchEvaluation at ${subscribers} subscribers`,
				1,
			);
			if (group.errors.length > 0)
				throw new Error(`subscriber failed: ${group.errors[0]}`);
			result.daemonCpuMs.push(readCpuTimeMs(pid) - daemonCpu);
			const own = process.cpuUsage(ownCpu);
			result.subscriberCpuMs.push((own.user + own.system) / 1000);
			const received = group.received;
			result.latenciesMs.push(...received);
			result.allReceivedMs.push(Math.max(...received));
			result.firstReceivedMs.push(Math.min(...received));
			// Pacing, not synchronisation: lets the watcher's trailing events of this rename pass before the next.
			await new Promise((resolve) => setTimeout(resolve, 30));
		}
		return { ...result, openMs };
	} finally {
		await group.close();
	}
}

/** Runs the benchmark; see the file comment. */
export async function runOfrepPropagation(
	options: OfrepPropagationOptions,
): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-ofrep-propagation-"));
	const flagFile = path.join(dir, "flags.json");
	let revision = 0;
	const groups: GroupResult[] = [];
	let profile: DaemonProfile | undefined;
	let profiled: GroupResult | undefined;
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			document: revisionDocument(revision),
		});
		try {
			for (const step of smoke ? PLAN_SMOKE : PLAN_FULL) {
				groups.push(
					await measureGroup(
						daemon.pid,
						daemon.ports.ofrep,
						flagFile,
						step.subscribers,
						step.changes,
						() => ++revision,
					),
				);
			}
		} finally {
			await daemon.stop();
		}
		if (options.profile ?? !smoke) {
			profile = await profileDaemonUnder(
				flagFile,
				undefined,
				`${formatInt(PROFILE_SUBSCRIBERS)} OFREP SSE subscribers receiving ${PROFILE_CHANGES} changes (includes opening the streams)`,
				async (daemon) => {
					profiled = await measureGroup(
						daemon.pid,
						daemon.ports.ofrep,
						flagFile,
						PROFILE_SUBSCRIBERS,
						PROFILE_CHANGES,
						() => ++revision,
					);
				},
			);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const ms = (n: number) => n.toFixed(1);
	const rows = groups.map((g) => {
		const all = stats(g.allReceivedMs);
		return [
			formatInt(g.subscribers),
			String(g.changes),
			ms(percentile(g.latenciesMs, 50)),
			ms(percentile(g.latenciesMs, 99)),
			ms(stats(g.firstReceivedMs).median),
			`${ms(all.median)} (${ms(all.min)}–${ms(all.max)})`,
			formatInt(g.openMs),
			`${stats(g.daemonCpuMs).median.toFixed(0)} / ${stats(g.subscriberCpuMs).median.toFixed(0)}`,
		];
	});
	const targets: TargetCheck[] = groups.map((g) => {
		const p99 = percentile(g.latenciesMs, 99);
		return {
			name: `OFREP SSE propagation p99, ${formatInt(g.subscribers)} subscriber${g.subscribers === 1 ? "" : "s"}`,
			target: "< 50 ms",
			measured: `${ms(p99)} ms`,
			met: p99 < 50,
		};
	});
	return metricsSuite({
		suite: "ofrep-propagation",
		title: "file write → refetchEvaluation at N OFREP SSE subscribers",
		smoke,
		command: `npm run bench -- ofrep-propagation${smoke ? " --smoke" : ""}`,
		runs: Math.max(...groups.map((g) => g.changes)),
		tables: [
			{
				caption:
					"Latency from the start of the flag-file write to each subscriber's refetchEvaluation event (ms)",
				columns: [
					"subscribers",
					"changes",
					"p50",
					"p99",
					"first subscriber (median)",
					"all subscribers have it: median (min–max)",
					"open (ms)",
					"CPU ms per change: daemon / subscribers",
				],
				rows,
			},
			...(profile?.tables ?? []),
		],
		targets,
		notes: [
			...(profile === undefined || profiled === undefined
				? []
				: [
						`Profiled pass (daemon under --cpu-prof): ${formatInt(PROFILE_SUBSCRIBERS)} subscribers, p50 ${ms(percentile(profiled.latenciesMs, 50))} ms, all have it after ${ms(stats(profiled.allReceivedMs).median)} ms (median); the daemon was busy ${formatInt(profile.summary.busyMs)} ms of ${formatInt(profile.summary.wallMs)} ms in total, opening the streams included.`,
					]),
			"Subscribers: GET /ofrep/v1/sse over HTTP/1.1, one connection each, parsed with eventsource-parser in up to 4 worker threads of the benchmark process (each timestamps arrivals with performance.timeOrigin + performance.now(), the clock the mark uses); the daemon is a separate process. Each event is encoded once and the same bytes are written to every subscriber.",
			"Each latency includes the file watcher's reaction to the rename and, for large N, the subscriber threads parsing the earlier deliveries (2 cores are shared by the daemon, the subscribers and the rest of the machine). The CPU column (from /proc/<pid>/stat for the daemon, 10 ms resolution; process.cpuUsage() for the benchmark process, subscriber threads included) shows which side the time goes to.",
			smoke
				? "Smoke: 1 and 100 subscribers with 3/2 changes (the 1,000-subscriber step runs in full mode only)."
				: "Machine is shared: see the load average below.",
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: groups.map((g) => ({
			...g,
			latenciesMs: undefined,
			latencySummaryMs: stats(g.latenciesMs),
		})),
	});
}
