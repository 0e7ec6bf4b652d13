/**
 * Propagation: flag file write → configuration_change received by N EventStream subscribers (one process,
 * connect-node gRPC transport, up to 1,000 streams multiplexed per HTTP/2 session). The daemon runs in its own
 * process with a file source. Each change is written atomically (temp file + rename in the same directory, as
 * editors and ConfigMap mounts do); the clock starts just before the temp file is written. Latency of one
 * delivery = arrival at a subscriber − that start, so it includes the daemon's file watcher (a complete JSON
 * document is read at its first event; anything else waits for the 20 ms debounce), re-read, parse, diff, fan-out and the client-side decoding of every earlier delivery in this process.
 */
import { stats } from "../harness.js";
import { formatInt } from "./bench-args.js";
import {
	LightSubscriberGroup,
	SubscriberGroup,
} from "./event-stream-subscribers.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m, readRssBytes } from "./proc-stats.js";
import {
	latencyCells,
	latencyColumns,
	measurePropagation,
	ms,
	type PropagationRun,
	type PropagationTarget,
	p99Target,
	profiledNotes,
	runData,
	runPropagationPlan,
} from "./propagation-run.js";

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

interface GroupResult extends PropagationRun {
	readonly sessions: number;
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
	{ daemon, flagFile, nextRevision }: PropagationTarget,
	subscribers: number,
	changes: number,
	client: Client = "connect",
): Promise<GroupResult> {
	const { pid } = daemon;
	const port = daemon.ports.evaluation;
	const rssBeforeBytes = readRssBytes(pid);
	let sessions = 0;
	let rssOpenBytes = 0;
	const run = await measurePropagation({
		pid,
		flagFile,
		subscribers,
		changes,
		nextRevision,
		open: () => {
			const group =
				client === "connect"
					? new SubscriberGroup({ port, count: subscribers })
					: new LightSubscriberGroup({ port, count: subscribers });
			sessions = group.sessions;
			return group;
		},
		openingWhat: "subscribers to get provider_ready",
		eventName: "configuration_change",
		onOpen: () => {
			rssOpenBytes = readRssBytes(pid);
		},
	});
	return { ...run, sessions, rssBeforeBytes, rssOpenBytes };
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
	const groups: GroupResult[] = [];
	const lightGroups: GroupResult[] = [];
	const { profile, profiled } = await runPropagationPlan({
		tmpPrefix: "bench-propagation-",
		streamCaps: STREAM_CAPS,
		measure: async (target) => {
			for (const step of smoke ? PLAN_SMOKE : PLAN_FULL) {
				groups.push(await measureGroup(target, step.subscribers, step.changes));
			}
			for (const step of smoke ? LIGHT_PLAN_SMOKE : LIGHT_PLAN_FULL) {
				lightGroups.push(
					await measureGroup(target, step.subscribers, step.changes, "light"),
				);
			}
		},
		profile:
			(options.profile ?? !smoke)
				? {
						what: `${formatInt(PROFILE_SUBSCRIBERS)} subscribers receiving ${PROFILE_CHANGES} changes (includes opening the streams)`,
						measure: (target) =>
							measureGroup(target, PROFILE_SUBSCRIBERS, PROFILE_CHANGES),
					}
				: undefined,
	});
	const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
	const rowOf = (g: GroupResult) => [
		formatInt(g.subscribers),
		String(g.sessions),
		String(g.changes),
		...latencyCells(g),
		`${mib(g.rssBeforeBytes)} → ${mib(g.rssOpenBytes)}`,
		g.subscribers >= 1000 ? kbPerStream(g).toFixed(1) : "—",
	];
	const rows = groups.map(rowOf);
	const columns = [
		"subscribers",
		"HTTP/2 sessions",
		"changes",
		...latencyColumns("open + provider_ready (ms)"),
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
	].map(({ g, light }) =>
		p99Target("propagation", g, light ? " (light subscribers)" : ""),
	);
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
			...profiledNotes(profile, profiled),
			"Subscribers: flagd.evaluation.v1 EventStream over gRPC (connect-node createGrpcTransport), all in the benchmark process, at most 1,000 streams per HTTP/2 session; the daemon is a separate process.",
			"Light subscribers: one node:http2 gRPC request per subscriber, response envelopes split at their 5-byte headers and decoded with protobuf-es (bench/support/event-stream-subscribers.ts); same sessions layout.",
			"Memory: the daemon's RSS from /proc/<pid>/status before the group's streams are opened and once every one has provider_ready; KB per open stream = growth ÷ streams (no forced GC, so garbage from opening counts too).",
			"Each latency includes the file watcher (a complete JSON document is taken at its first event, so no 20 ms debounce for the atomic renames used here) and, for large N, the benchmark process decoding the earlier deliveries (one event loop for all subscribers). The CPU column (from /proc/<pid>/stat for the daemon, 10 ms resolution; process.cpuUsage() for the subscribers) shows which side the time goes to.",
			smoke
				? "Smoke: 1 and 100 subscribers with 3/2 changes (the 1,000 and 10,000-subscriber steps run in full mode only)."
				: "The 10,000-subscriber row answers \"time until all have it\" (column 'all subscribers have it').",
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: runData([...groups, ...lightGroups]),
	});
}
