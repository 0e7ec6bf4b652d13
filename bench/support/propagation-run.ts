/**
 * The measuring loop the propagation benchmarks share (EventStream in propagation-suite.ts, OFREP SSE in
 * ofrep-propagation-suite.ts): open N subscribers, then write the flag file N times atomically (temp file + rename)
 * and time each delivery from just before the write. One loop for both, so the two tables measure the same thing and
 * compare.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stats } from "../harness.js";
import { formatInt, percentile, waitFor } from "./bench-args.js";
import {
	type BenchDaemon,
	type BenchDaemonOptions,
	startBenchDaemon,
} from "./bench-daemon.js";
import { type DaemonProfile, profileDaemonUnder } from "./daemon-profile.js";
import { revisionDocument } from "./flag-documents.js";
import type { TargetCheck } from "./metrics-report.js";
import { readCpuTimeMs } from "./proc-stats.js";

/** What the subscriber groups (event-stream-subscribers.ts, sse-subscribers.ts) offer the loop. */
export interface ChangeSubscribers {
	/** Subscribers whose stream is open (and, for EventStream, had provider_ready). */
	readonly ready: number;
	readonly errors: readonly string[];
	/** Latencies (ms) since the last mark() of the deliveries received since it. */
	readonly received: readonly number[];
	mark(): void;
	close(): Promise<void>;
}

export interface PropagationRunOptions {
	/** The daemon process, for its CPU time. */
	readonly pid: number;
	readonly flagFile: string;
	readonly subscribers: number;
	readonly changes: number;
	readonly nextRevision: () => number;
	/** Opens the subscribers; the open time is measured around it and until all are ready. */
	readonly open: () => ChangeSubscribers;
	/** How the wait for open subscribers reads in a timeout message, e.g. `subscribers to get provider_ready`. */
	readonly openingWhat: string;
	/** The event a change delivers, for the timeout message, e.g. `configuration_change`. */
	readonly eventName: string;
	/** Called once every subscriber is open, before the first change (e.g. to read the daemon's RSS). */
	readonly onOpen?: () => void;
}

export interface PropagationRun {
	readonly subscribers: number;
	readonly changes: number;
	/** Every delivery's latency (ms), all changes. */
	readonly latenciesMs: number[];
	/** Per change: time until the last subscriber had it (ms). */
	readonly allReceivedMs: number[];
	/** Per change: time until the first subscriber had it (ms). */
	readonly firstReceivedMs: number[];
	/** Time to open the streams and have every subscriber ready (ms). */
	readonly openMs: number;
	/** CPU time per change (ms): the daemon process (/proc) and this benchmark process (the subscribers). */
	readonly daemonCpuMs: number[];
	readonly subscriberCpuMs: number[];
}

/** Opens the subscribers, writes `changes` revisions and collects each delivery's latency; closes them at the end. */
export async function measurePropagation(
	options: PropagationRunOptions,
): Promise<PropagationRun> {
	const { pid, flagFile, subscribers, changes } = options;
	const opened = performance.now();
	const group = options.open();
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
			`${subscribers} ${options.openingWhat}`,
			5,
		);
		if (group.errors.length > 0)
			throw new Error(
				`${subscribers} subscribers, opening: subscriber failed (${group.errors.length} of them, ${group.ready} ready): ${group.errors[0]}`,
			);
		const openMs = performance.now() - opened;
		options.onOpen?.();
		const tmp = `${flagFile}.tmp`;
		for (let change = 0; change < changes; change++) {
			const document = JSON.stringify(revisionDocument(options.nextRevision()));
			const daemonCpu = readCpuTimeMs(pid);
			const ownCpu = process.cpuUsage();
			group.mark();
			writeFileSync(tmp, document);
			renameSync(tmp, flagFile);
			await waitFor(
				() => group.received.length >= subscribers || group.errors.length > 0,
				30_000,
				`${options.eventName} at ${subscribers} subscribers`,
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
		return { ...result, openMs };
	} finally {
		await group.close();
	}
}

/** What a pass of a propagation benchmark measures against: a daemon serving the flag file it rewrites. */
export interface PropagationTarget {
	readonly daemon: BenchDaemon;
	readonly flagFile: string;
	/** The next revision of the flag document (one counter across passes, so every write is a change). */
	readonly nextRevision: () => number;
}

export interface PropagationPlanOptions {
	/** Prefix of the temporary folder holding the flag file. */
	readonly tmpPrefix: string;
	readonly streamCaps?: BenchDaemonOptions["streamCaps"];
	/** The measured passes, all against one daemon. */
	readonly measure: (target: PropagationTarget) => Promise<void>;
	/** A further pass against a fresh daemon under --cpu-prof, when wanted; `what` labels the profile. */
	readonly profile?:
		| {
				readonly what: string;
				readonly measure: (
					target: PropagationTarget,
				) => Promise<PropagationRun>;
		  }
		| undefined;
}

/** Starts a daemon on a fresh flag file, runs the passes, then the profiled pass; removes the flag file at the end. */
export async function runPropagationPlan(
	options: PropagationPlanOptions,
): Promise<{
	readonly profile: DaemonProfile | undefined;
	readonly profiled: PropagationRun | undefined;
}> {
	const dir = mkdtempSync(path.join(os.tmpdir(), options.tmpPrefix));
	const flagFile = path.join(dir, "flags.json");
	let revision = 0;
	const nextRevision = () => ++revision;
	let profile: DaemonProfile | undefined;
	let profiled: PropagationRun | undefined;
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			document: revisionDocument(revision),
			...(options.streamCaps === undefined
				? {}
				: { streamCaps: options.streamCaps }),
		});
		try {
			await options.measure({ daemon, flagFile, nextRevision });
		} finally {
			await daemon.stop();
		}
		const pass = options.profile;
		if (pass !== undefined) {
			profile = await profileDaemonUnder(
				flagFile,
				undefined,
				pass.what,
				async (daemon) => {
					profiled = await pass.measure({ daemon, flagFile, nextRevision });
				},
				options.streamCaps,
			);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	return { profile, profiled };
}

/** Milliseconds as the propagation tables print them. */
export const ms = (n: number): string => n.toFixed(1);

/** The latency columns both tables share, after the subscriber and change counts: see LATENCY_COLUMNS. */
export function latencyCells(run: PropagationRun): string[] {
	const all = stats(run.allReceivedMs);
	return [
		ms(percentile(run.latenciesMs, 50)),
		ms(percentile(run.latenciesMs, 99)),
		ms(stats(run.firstReceivedMs).median),
		`${ms(all.median)} (${ms(all.min)}–${ms(all.max)})`,
		formatInt(run.openMs),
		`${stats(run.daemonCpuMs).median.toFixed(0)} / ${stats(run.subscriberCpuMs).median.toFixed(0)}`,
	];
}

/** Headers of latencyCells(); `open` names what the open time covers. */
export function latencyColumns(open: string): string[] {
	return [
		"p50",
		"p99",
		"first subscriber (median)",
		"all subscribers have it: median (min–max)",
		open,
		"CPU ms per change: daemon / subscribers",
	];
}

/** The p99 < 50 ms target of one run; `what` names the benchmark, `suffix` the kind of subscriber. */
export function p99Target(
	what: string,
	run: PropagationRun,
	suffix = "",
): TargetCheck {
	const p99 = percentile(run.latenciesMs, 99);
	return {
		name: `${what} p99, ${formatInt(run.subscribers)} subscriber${run.subscribers === 1 ? "" : "s"}${suffix}`,
		target: "< 50 ms",
		measured: `${ms(p99)} ms`,
		met: p99 < 50,
	};
}

/** The note on the profiled pass, or none when there was none. */
export function profiledNotes(
	profile: DaemonProfile | undefined,
	profiled: PropagationRun | undefined,
): string[] {
	if (profile === undefined || profiled === undefined) return [];
	return [
		`Profiled pass (daemon under --cpu-prof): ${formatInt(profiled.subscribers)} subscribers, p50 ${ms(percentile(profiled.latenciesMs, 50))} ms, all have it after ${ms(stats(profiled.allReceivedMs).median)} ms (median); the daemon was busy ${formatInt(profile.summary.busyMs)} ms of ${formatInt(profile.summary.wallMs)} ms in total, opening the streams included.`,
	];
}

/** The runs as the results file keeps them: a latency summary instead of every latency. */
export function runData<T extends PropagationRun>(runs: readonly T[]) {
	return runs.map((run) => ({
		...run,
		latenciesMs: undefined,
		latencySummaryMs: stats(run.latenciesMs),
	}));
}
