/**
 * OFREP propagation: flag file write → `refetchEvaluation` received by N OFREP SSE subscribers (`GET /ofrep/v1/sse`,
 * one HTTP/1.1 connection each, spread over worker threads of this process). The daemon runs in its own process with
 * a file source. Each change is written atomically (temp file + rename) and the clock starts just before the temp
 * file is written, so a latency includes the file watcher's reaction, re-read, parse, diff, the event's encoding
 * (once) and its write to every subscriber, and the subscriber's worker parsing it. Same method as propagation-suite.ts
 * (EventStream), so the two tables compare.
 */
import { formatInt } from "./bench-args.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m } from "./proc-stats.js";
import {
	latencyCells,
	latencyColumns,
	measurePropagation,
	type PropagationRun,
	type PropagationTarget,
	p99Target,
	profiledNotes,
	runData,
	runPropagationPlan,
} from "./propagation-run.js";
import { SseSubscriberGroup } from "./sse-subscribers.js";

export interface OfrepPropagationOptions {
	readonly smoke: boolean;
	/** Also profile the daemon while 1,000 subscribers receive changes. @default !smoke */
	readonly profile?: boolean;
}

const PROFILE_SUBSCRIBERS = 1000;
const PROFILE_CHANGES = 10;

const PLAN_FULL = [
	{ subscribers: 1, changes: 100 },
	{ subscribers: 100, changes: 50 },
	{ subscribers: 1000, changes: 30 },
] as const;
const PLAN_SMOKE = [
	{ subscribers: 1, changes: 3 },
	{ subscribers: 100, changes: 2 },
] as const;

function measureGroup(
	{ daemon, flagFile, nextRevision }: PropagationTarget,
	subscribers: number,
	changes: number,
): Promise<PropagationRun> {
	const port = daemon.ports.ofrep;
	return measurePropagation({
		pid: daemon.pid,
		flagFile,
		subscribers,
		changes,
		nextRevision,
		open: () =>
			new SseSubscriberGroup({
				port,
				count: subscribers,
				path: "/ofrep/v1/sse",
			}),
		openingWhat: "SSE subscribers to open",
		eventName: "refetchEvaluation",
	});
}

/** Runs the benchmark; see the file comment. */
export async function runOfrepPropagation(
	options: OfrepPropagationOptions,
): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const groups: PropagationRun[] = [];
	const { profile, profiled } = await runPropagationPlan({
		tmpPrefix: "bench-ofrep-propagation-",
		measure: async (target) => {
			for (const step of smoke ? PLAN_SMOKE : PLAN_FULL) {
				groups.push(await measureGroup(target, step.subscribers, step.changes));
			}
		},
		profile:
			(options.profile ?? !smoke)
				? {
						what: `${formatInt(PROFILE_SUBSCRIBERS)} OFREP SSE subscribers receiving ${PROFILE_CHANGES} changes (includes opening the streams)`,
						measure: (target) =>
							measureGroup(target, PROFILE_SUBSCRIBERS, PROFILE_CHANGES),
					}
				: undefined,
	});
	const rows = groups.map((g) => [
		formatInt(g.subscribers),
		String(g.changes),
		...latencyCells(g),
	]);
	const targets: TargetCheck[] = groups.map((g) =>
		p99Target("OFREP SSE propagation", g),
	);
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
				columns: ["subscribers", "changes", ...latencyColumns("open (ms)")],
				rows,
			},
			...(profile?.tables ?? []),
		],
		targets,
		notes: [
			...profiledNotes(profile, profiled),
			"Subscribers: GET /ofrep/v1/sse over HTTP/1.1, one connection each, parsed with eventsource-parser in up to 4 worker threads of the benchmark process (each timestamps arrivals with performance.timeOrigin + performance.now(), the clock the mark uses); the daemon is a separate process. Each event is encoded once and the same bytes are written to every subscriber.",
			"Each latency includes the file watcher's reaction to the rename and, for large N, the subscriber threads parsing the earlier deliveries (2 cores are shared by the daemon, the subscribers and the rest of the machine). The CPU column (from /proc/<pid>/stat for the daemon, 10 ms resolution; process.cpuUsage() for the benchmark process, subscriber threads included) shows which side the time goes to.",
			smoke
				? "Smoke: 1 and 100 subscribers with 3/2 changes (the 1,000-subscriber step runs in full mode only)."
				: "Machine is shared: see the load average below.",
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: runData(groups),
	});
}
