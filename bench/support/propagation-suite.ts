/**
 * Propagation: flag file write → configuration_change received by N EventStream subscribers (one process,
 * connect-node gRPC transport, up to 1,000 streams multiplexed per HTTP/2 session). The daemon runs in its own
 * process with a file source. Each change is written atomically (temp file + rename in the same directory, as
 * editors and ConfigMap mounts do); the clock starts just before the temp file is written. Latency of one
 * delivery = arrival at a subscriber − that start, so it includes the daemon's file watcher (a complete JSON
 * document is read at its first event; anything else waits for the 20 ms debounce), re-read, parse, diff, fan-out and the client-side decoding of every earlier delivery in this process.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stats } from "../harness.js";
import { formatInt, percentile, waitFor } from "./bench-args.js";
import { startBenchDaemon } from "./bench-daemon.js";
import { type DaemonProfile, profileDaemonUnder } from "./daemon-profile.js";
import {
	LightSubscriberGroup,
	SubscriberGroup,
} from "./event-stream-subscribers.js";
import { revisionDocument } from "./flag-documents.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m, readCpuTimeMs, readRssBytes } from "./proc-stats.js";

export interface PropagationOptions {
	readonly smoke: boolean;
	/** Also profile the daemon while 1,000 subscribers receive changes. @default !smoke */
	readonly profile?: boolean;
}

const PROFILE_SUBSCRIBERS = 1000;
/**
 * Room for the 10,000-subscriber step and 1,000 streams per HTTP/2 session (defaults: 1,000 and 250), and a 60 s
 * header timeout: the benchmark process opening 10,000 streams can hold a new connection's first request for longer
 * than the default 5 s, and the daemon then drops the connection.
 */
const STREAM_CAPS = {
	maxEventStreams: 20_000,
	maxConcurrentStreams: 1_000,
	headerTimeoutMs: 60_000,
};
const PROFILE_CHANGES = 10;

interface GroupResult {
	readonly subscribers: number;
	readonly sessions: number;
	readonly changes: number;
	/** Every delivery's latency (ms), all changes. */
	readonly latenciesMs: number[];
	/** Per change: time until the last subscriber had it (ms). */
	readonly allReceivedMs: number[];
	/** Per change: time until the first subscriber had it (ms). */
	readonly firstReceivedMs: number[];
	/** Time to open the streams and get provider_ready on all (ms). */
	readonly openMs: number;
	/** CPU time per change (ms, median): the daemon process (/proc) and this benchmark process (the subscribers). */
	readonly daemonCpuMs: number[];
	readonly subscriberCpuMs: number[];
	/** Daemon RSS (bytes) before the streams were opened and once all had provider_ready. */
	readonly rssBeforeBytes: number;
	readonly rssOpenBytes: number;
}

const PLAN_FULL = [
	{ subscribers: 1, changes: 100 },
	{ subscribers: 100, changes: 50 },
	{ subscribers: 1000, changes: 20 },
	{ subscribers: 10_000, changes: 5 },
] as const;
const PLAN_SMOKE = [
	{ subscribers: 1, changes: 3 },
	{ subscribers: 100, changes: 2 },
] as const;
/** The same daemon, light subscribers (LightSubscriberGroup): what the daemon delivers when the clients cost little. */
const LIGHT_PLAN_FULL = [
	{ subscribers: 1000, changes: 20 },
	{ subscribers: 10_000, changes: 5 },
] as const;
const LIGHT_PLAN_SMOKE = [{ subscribers: 100, changes: 2 }] as const;

type Client = "connect" | "light";

async function measureGroup(
	pid: number,
	port: number,
	flagFile: string,
	subscribers: number,
	changes: number,
	nextRevision: () => number,
	client: Client = "connect",
): Promise<GroupResult> {
	const rssBeforeBytes = readRssBytes(pid);
	const opened = performance.now();
	const group =
		client === "connect"
			? new SubscriberGroup({ port, count: subscribers })
			: new LightSubscriberGroup({ port, count: subscribers });
	const result: GroupResult = {
		subscribers,
		sessions: group.sessions,
		changes,
		latenciesMs: [],
		allReceivedMs: [],
		firstReceivedMs: [],
		openMs: 0,
		daemonCpuMs: [],
		subscriberCpuMs: [],
		rssBeforeBytes,
		rssOpenBytes: 0,
	};
	try {
		await waitFor(
			() => group.ready === subscribers || group.errors.length > 0,
			120_000,
			`${subscribers} subscribers to get provider_ready`,
			5,
		);
		if (group.errors.length > 0)
			throw new Error(
				`${subscribers} subscribers, opening: subscriber failed (${group.errors.length} of them, ${group.ready} ready): ${group.errors[0]}`,
			);
		const openMs = performance.now() - opened;
		const rssOpenBytes = readRssBytes(pid);
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
				`configuration_change at ${subscribers} subscribers`,
				1,
			);
			if (group.errors.length > 0)
				throw new Error(
					`${subscribers} subscribers, change ${change}: subscriber failed (${group.errors.length} of them): ${group.errors[0]}`,
				);
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
		return { ...result, openMs, rssOpenBytes };
	} finally {
		await group.close();
	}
}

/** Daemon RSS growth per stream while the group's streams were opened (KB = 1,000 bytes). */
function kbPerStream(g: GroupResult): number {
	return (g.rssOpenBytes - g.rssBeforeBytes) / g.subscribers / 1000;
}

/** Runs the benchmark; see the file comment. */
export async function runPropagation(
	options: PropagationOptions,
): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-propagation-"));
	const flagFile = path.join(dir, "flags.json");
	let revision = 0;
	const groups: GroupResult[] = [];
	const lightGroups: GroupResult[] = [];
	let profile: DaemonProfile | undefined;
	let profiled: GroupResult | undefined;
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			document: revisionDocument(revision),
			streamCaps: STREAM_CAPS,
		});
		try {
			for (const step of smoke ? PLAN_SMOKE : PLAN_FULL) {
				groups.push(
					await measureGroup(
						daemon.pid,
						daemon.ports.evaluation,
						flagFile,
						step.subscribers,
						step.changes,
						() => ++revision,
					),
				);
			}
			for (const step of smoke ? LIGHT_PLAN_SMOKE : LIGHT_PLAN_FULL) {
				lightGroups.push(
					await measureGroup(
						daemon.pid,
						daemon.ports.evaluation,
						flagFile,
						step.subscribers,
						step.changes,
						() => ++revision,
						"light",
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
				`${formatInt(PROFILE_SUBSCRIBERS)} subscribers receiving ${PROFILE_CHANGES} changes (includes opening the streams)`,
				async (daemon) => {
					profiled = await measureGroup(
						daemon.pid,
						daemon.ports.evaluation,
						flagFile,
						PROFILE_SUBSCRIBERS,
						PROFILE_CHANGES,
						() => ++revision,
					);
				},
				STREAM_CAPS,
			);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const ms = (n: number) => n.toFixed(1);
	const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
	const rowOf = (g: GroupResult) => {
		const all = stats(g.allReceivedMs);
		return [
			formatInt(g.subscribers),
			String(g.sessions),
			String(g.changes),
			ms(percentile(g.latenciesMs, 50)),
			ms(percentile(g.latenciesMs, 99)),
			ms(stats(g.firstReceivedMs).median),
			`${ms(all.median)} (${ms(all.min)}–${ms(all.max)})`,
			formatInt(g.openMs),
			`${stats(g.daemonCpuMs).median.toFixed(0)} / ${stats(g.subscriberCpuMs).median.toFixed(0)}`,
			`${mib(g.rssBeforeBytes)} → ${mib(g.rssOpenBytes)}`,
			g.subscribers >= 1000 ? kbPerStream(g).toFixed(1) : "—",
		];
	};
	const rows = groups.map(rowOf);
	const columns = [
		"subscribers",
		"HTTP/2 sessions",
		"changes",
		"p50",
		"p99",
		"first subscriber (median)",
		"all subscribers have it: median (min–max)",
		"open + provider_ready (ms)",
		"CPU ms per change: daemon / subscribers",
		"daemon RSS MiB: before open → all open",
		"KB per open stream",
	];
	const lightRows = lightGroups.map(rowOf);
	const largest = groups.reduce<GroupResult | undefined>(
		(max, g) =>
			max === undefined || g.subscribers > max.subscribers ? g : max,
		undefined,
	);
	const memoryTargets: TargetCheck[] =
		largest === undefined || largest.subscribers < 1000
			? []
			: [
					{
						name: `daemon memory per open EventStream (RSS growth / ${formatInt(largest.subscribers)} streams)`,
						target: "≤ 20 KB",
						measured: `${kbPerStream(largest).toFixed(1)} KB`,
						met: kbPerStream(largest) <= 20,
					},
				];
	const allTargets: TargetCheck[] = lightGroups
		.filter((g) => g.subscribers >= 10_000)
		.map((g) => {
			const all = stats(g.allReceivedMs).median;
			return {
				name: `all ${formatInt(g.subscribers)} subscribers have the change (light subscribers, median)`,
				target: "≤ 500 ms",
				measured: `${ms(all)} ms`,
				met: all <= 500,
			};
		});
	const targets: TargetCheck[] = [
		...groups.map((g) => ({ g, light: false })),
		...lightGroups.map((g) => ({ g, light: true })),
	].map(({ g, light }) => {
		const p99 = percentile(g.latenciesMs, 99);
		return {
			name: `propagation p99, ${formatInt(g.subscribers)} subscriber${g.subscribers === 1 ? "" : "s"}${light ? " (light subscribers)" : ""}`,
			target: "< 50 ms",
			measured: `${ms(p99)} ms`,
			met: p99 < 50,
		};
	});
	return metricsSuite({
		suite: "propagation",
		title: "file write → configuration_change at N EventStream subscribers",
		smoke,
		command: `npm run bench -- propagation${smoke ? " --smoke" : ""}`,
		runs: Math.max(...groups.map((g) => g.changes)),
		tables: [
			{
				caption:
					"Latency from the start of the flag-file write to each subscriber's configuration_change (ms); connect-node subscribers",
				columns,
				rows,
			},
			{
				caption:
					"The same with light subscribers (node:http2 + protobuf-es, no client framework: the latency is mostly the daemon's)",
				columns,
				rows: lightRows,
			},
			...(profile?.tables ?? []),
		],
		targets: [...targets, ...allTargets, ...memoryTargets],
		notes: [
			...(profile === undefined || profiled === undefined
				? []
				: [
						`Profiled pass (daemon under --cpu-prof): ${formatInt(PROFILE_SUBSCRIBERS)} subscribers, p50 ${ms(percentile(profiled.latenciesMs, 50))} ms, all have it after ${ms(stats(profiled.allReceivedMs).median)} ms (median); the daemon was busy ${formatInt(profile.summary.busyMs)} ms of ${formatInt(profile.summary.wallMs)} ms in total, opening the streams included.`,
					]),
			"Subscribers: flagd.evaluation.v1 EventStream over gRPC (connect-node createGrpcTransport), all in the benchmark process, at most 1,000 streams per HTTP/2 session; the daemon is a separate process.",
			"Light subscribers: one node:http2 gRPC request per subscriber, response envelopes split at their 5-byte headers and decoded with protobuf-es (bench/support/event-stream-subscribers.ts); same sessions layout.",
			"Memory: the daemon's RSS from /proc/<pid>/status before the group's streams are opened and once every one has provider_ready; KB per open stream = growth ÷ streams (no forced GC, so garbage from opening counts too).",
			"Each latency includes the file watcher (a complete JSON document is taken at its first event, so no 20 ms debounce for the atomic renames used here) and, for large N, the benchmark process decoding the earlier deliveries (one event loop for all subscribers). The CPU column (from /proc/<pid>/stat for the daemon, 10 ms resolution; process.cpuUsage() for the subscribers) shows which side the time goes to.",
			smoke
				? "Smoke: 1 and 100 subscribers with 3/2 changes (the 1,000 and 10,000-subscriber steps run in full mode only)."
				: "The 10,000-subscriber row answers \"time until all have it\" (column 'all subscribers have it').",
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: [...groups, ...lightGroups].map((g) => ({
			...g,
			latenciesMs: undefined,
			latencySummaryMs: stats(g.latenciesMs),
		})),
	});
}
