/**
 * Garbage-collection tallies of the benchmarks' server processes (daemon-process.ts, bare-ceiling-server.ts,
 * layer-ceiling-server.ts). Young-generation collections per request are a load-independent measure of how much a
 * server allocates (a scavenge runs each time a semi-space fills), steady on a shared 2-core machine where CPU
 * timings are not.
 *
 * Protocol: a server started with `BENCH_GC_TALLY=1` in its environment (gcTallyEnv(); startChild's `env`)
 * observes `gc` performance entries from the start, and answers each SIGWINCH with one JSON line on stdout,
 * `{"event":"gc-tally","minor":…,"major":…,…}` (running totals since start), which the parent reads with
 * readGcTally() (child-process.ts signalAndWait). SIGWINCH because its default action is to do nothing: a server
 * without the tally (another checkout's daemon-process.ts) ignores the question instead of dying, and the parent's
 * read times out. Without the variable nothing is observed, so ordinary benchmark runs carry no observer.
 */
import { constants, PerformanceObserver } from "node:perf_hooks";
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
	const count = (entries: readonly PerformanceEntry[]): void => {
		for (const entry of entries) {
			const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
			if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
				tally.minor++;
				tally.minorMs += entry.duration;
			} else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
				tally.major++;
				tally.majorMs += entry.duration;
			} else {
				tally.other++;
				tally.otherMs += entry.duration;
			}
		}
	};
	const observer = new PerformanceObserver((list) => count(list.getEntries()));
	observer.observe({ entryTypes: ["gc"] });
	process.on(GC_TALLY_SIGNAL, () => {
		// Entries are delivered on a later tick: take the ones still queued so the answer is complete.
		count(observer.takeRecords());
		const line: GcTallyLine = { event: "gc-tally", ...tally };
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

/** Young-generation collections per 1,000 requests between two readings. */
export function minorGcsPer1000(
	before: GcTally,
	after: GcTally,
	requests: number,
): number {
	return requests === 0 ? 0 : ((after.minor - before.minor) * 1000) / requests;
}
