/**
 * Garbage-collection tallies of the benchmarks' server processes (daemon-process.ts, bare-ceiling-server.ts,
 * layer-ceiling-server.ts). Young-generation collections per request are a load-independent measure of how much a
 * server allocates (a scavenge runs each time a semi-space fills), steady on a shared 2-core machine where CPU
 * timings are not.
 *
 * Protocol: a server started with `BENCH_GC_TALLY=1` in its environment (gcTallyEnv(); startChild's `env`)
 * records its collections from the start (v8.GCProfiler), and answers each SIGWINCH with one JSON line on stdout,
 * `{"event":"gc-tally","minor":…,"major":…,…}` (running totals since start), which the parent reads with
 * readGcTally() (child-process.ts signalAndWait). SIGWINCH because its default action is to do nothing: a server
 * without the tally (another checkout's daemon-process.ts) ignores the question instead of dying, and the parent's
 * read times out. Without the variable nothing is recorded.
 *
 * A count per request means "allocation" only at a known young-generation size, and that size is not fixed for a
 * process's life: the daemon's young generation is 2 MiB per semi-space right after start (grown while it loads,
 * which its cap then keeps) and 1 MiB once V8 has shrunk it after a memory-reducing GC, halving or doubling the
 * count for the same work. So each answer also carries the semi-space size at that moment, and the reports show
 * it beside every count (formatGcCounts).
 */
import { GCProfiler, getHeapSpaceStatistics } from "node:v8";
import { stats } from "../harness.js";
import type { RunningChild } from "./child-process.js";

/** The environment variable that turns the tally on in a server process. */
export const GC_TALLY_ENV = "BENCH_GC_TALLY";
/** The signal a server answers with its tally line. */
export const GC_TALLY_SIGNAL: NodeJS.Signals = "SIGWINCH";

/**
 * The node flag that gives a process the daemon's young generation (1 MiB per semi-space), for references run
 * "at the daemon's cap". The daemon sets `--semi-space-growth-factor=1` at run time (runtime/young-generation.ts);
 * given on the command line that flag does not hold (Node 20's V8 still grows the semi-spaces to 16 MiB), while
 * this one keeps them at the same 1 MiB.
 */
export const DAEMON_YOUNG_GENERATION_NODE_ARGS: readonly string[] = [
	"--max-semi-space-size=1",
];

/** Running totals since the server started. */
export interface GcTally {
	/** Young-generation collections (scavenges). */
	readonly minor: number;
	/** Full mark-compact collections. */
	readonly major: number;
	/** Incremental marking steps and weak-callback processing. */
	readonly other: number;
	/** Pause time of each kind, ms. */
	readonly minorMs: number;
	readonly majorMs: number;
	readonly otherMs: number;
	/** One semi-space of the young generation at the time of the reading (half of V8's `new_space` size). */
	readonly semiSpaceBytes: number;
}

/** The line a server writes on GC_TALLY_SIGNAL. */
export interface GcTallyLine extends GcTally {
	readonly event: "gc-tally";
}

/** The environment a parent gives a server so it keeps a tally. */
export function gcTallyEnv(): Record<string, string> {
	return { [GC_TALLY_ENV]: "1" };
}

/**
 * Server side: when the environment asks for it, starts counting and answers GC_TALLY_SIGNAL. Call first thing in
 * the server's main(). Returns whether the tally is on.
 */
export function installGcTally(env: NodeJS.ProcessEnv = process.env): boolean {
	if (env[GC_TALLY_ENV] !== "1") return false;
	const tally = {
		minor: 0,
		major: 0,
		other: 0,
		minorMs: 0,
		majorMs: 0,
		otherMs: 0,
	};
	// v8.GCProfiler records each collection in C++; a `gc` PerformanceObserver, which calls into JavaScript per
	// collection, cost the daemon ~12 % more CPU per request on OFREP and Connect HTTP/1.1 in a paired A/B. The
	// profiler's records are drained once a second (and at each reading) so they stay few.
	let profiler = new GCProfiler();
	profiler.start();
	const drain = (): void => {
		const records = profiler.stop()?.statistics ?? [];
		profiler = new GCProfiler();
		profiler.start();
		for (const record of records) {
			const ms = record.cost / 1000;
			if (record.gcType === "Scavenge" || record.gcType.startsWith("Minor")) {
				tally.minor++;
				tally.minorMs += ms;
			} else if (record.gcType === "MarkSweepCompact") {
				tally.major++;
				tally.majorMs += ms;
			} else {
				tally.other++;
				tally.otherMs += ms;
			}
		}
	};
	setInterval(drain, 1_000).unref();
	process.on(GC_TALLY_SIGNAL, () => {
		drain();
		const newSpace = getHeapSpaceStatistics().find(
			(s) => s.space_name === "new_space",
		);
		const line: GcTallyLine = {
			event: "gc-tally",
			...tally,
			semiSpaceBytes: (newSpace?.space_size ?? 0) / 2,
		};
		process.stdout.write(`${JSON.stringify(line)}\n`);
	});
	return true;
}

/** Parent side: the running totals of a server started with gcTallyEnv(). */
export async function readGcTally(
	child: Pick<RunningChild<unknown>, "signalAndWait">,
	timeoutMs = 10_000,
): Promise<GcTally> {
	const line = (await child.signalAndWait(
		GC_TALLY_SIGNAL,
		"gc-tally",
		timeoutMs,
	)) as GcTallyLine;
	const { event: _event, ...tally } = line;
	return tally;
}

/**
 * Young-generation collections per 1,000 requests per run, each with its semi-space size, as
 * `median (min–max) at <size> MiB semi-spaces` (`at 1–2 MiB` when the size changed between runs); "–" without runs.
 */
export function formatGcCounts(
	perRun: readonly {
		readonly per1000: number;
		readonly semiSpaceBytes: number;
	}[],
): string {
	if (perRun.length === 0) return "–";
	const q = stats(perRun.map((r) => r.per1000));
	const mib = perRun.map((r) => r.semiSpaceBytes / 1048576);
	const [low, high] = [Math.min(...mib), Math.max(...mib)];
	const size = low === high ? `${low}` : `${low}–${high}`;
	return `${q.median.toFixed(1)} (${q.min.toFixed(1)}–${q.max.toFixed(1)}) at ${size} MiB`;
}

/** One run's young-generation collections per 1,000 requests, and the semi-space size after it. */
export interface GcRun {
	readonly per1000: number;
	readonly semiSpaceBytes: number;
}

/** The GcRun between two readings around `requests` requests. */
export function gcRun(
	before: GcTally,
	after: GcTally,
	requests: number,
): GcRun {
	return {
		per1000:
			requests === 0 ? 0 : ((after.minor - before.minor) * 1000) / requests,
		semiSpaceBytes: after.semiSpaceBytes,
	};
}
