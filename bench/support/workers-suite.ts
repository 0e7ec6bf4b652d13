/**
 * Many cores: does serving from several processes pay on this machine? Runs the throughput benchmark's load cases
 * (bench/support/throughput-cases.ts: Connect JSON HTTP/1.1 with wrk, gRPC h2c and OFREP single with h2load, 32
 * requests in flight, one load-generator thread) against
 *   - the plain single-process daemon (bench/support/daemon-process.ts),
 *   - node:cluster with 1 and 2 workers, each running the real daemon (bench/support/cluster-daemon-process.ts),
 *     connections handed out by the primary (SCHED_RR, Linux default),
 *   - 2 workers accepting from the shared socket themselves (SCHED_NONE).
 * Configurations alternate within each run (rotated start), 5 runs. Besides req/s it reads, per load run, the CPU
 * time of every daemon process (primary + workers, /proc/<pid>/stat) and of the load generator (this process's
 * reaped-children time, /proc/self/stat cutime + cstime), so req/s per daemon CPU-second and the generator's share
 * of the 2 cores are reported next to the absolute figures. Last, what shipping flag state to a serving process
 * would cost (bench/support/state-shipping.ts).
 */
import {
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { stats } from "../harness.js";
import { formatInt } from "./bench-args.js";
import { type RunningChild, startChild } from "./child-process.js";
import type { ClusterReadyLine } from "./cluster-daemon-process.js";
import {
	type ProfileSummary,
	summarizeCpuProfile,
} from "./cpu-profile-summary.js";
import type { DaemonReadyLine } from "./daemon-process.js";
import { throughputDocument } from "./flag-documents.js";
import { ensureLoadGenerators } from "./load-generators.js";
import {
	type MetricsSuite,
	type MetricsTable,
	metricsSuite,
} from "./metrics-report.js";
import { loadAverage1m, readCpuTimeMs } from "./proc-stats.js";
import {
	formatMs,
	measureStateShipping,
	type ShippingResult,
} from "./state-shipping.js";
import {
	type Endpoints,
	type LoadCase,
	loadCases,
	verifyEndpoints,
} from "./throughput-cases.js";

export interface WorkersOptions {
	readonly smoke: boolean;
	readonly installTools?: boolean;
	/** Also profile the single process and a 2-worker cluster under the same load. @default !smoke */
	readonly profile?: boolean;
}

interface Config {
	readonly name: string;
	readonly script: string;
	readonly args: readonly string[];
}

/** The suite's raw data (MetricsSuite.data). */
export interface WorkersData {
	readonly cases: readonly string[];
	readonly configs: readonly string[];
	readonly samples: Readonly<Record<string, readonly Sample[]>>;
	readonly shipping: readonly ShippingResult[];
	readonly profiles: readonly {
		readonly name: string;
		readonly byModule: ProfileSummary["byModule"];
	}[];
}

export interface Sample {
	readonly rps: number;
	/** Cores busy in the daemon processes on average over the run (CPU ms / wall ms). */
	readonly daemonCores: number;
	readonly generatorCores: number;
	/** Of those, the cluster primary's share (accepting and handing out connections). */
	readonly primaryCores: number;
	/** CPU ms of each cluster worker during the run (empty for the single process): how the load was spread. */
	readonly workerCpuMs: readonly number[];
	/** Cores idle on the whole machine during the run (/proc/stat): what more processes could have used. */
	readonly idleCores: number;
}

/** Idle + iowait time of all cores so far, in ms (/proc/stat, USER_HZ = 100). */
function machineIdleMs(): number {
	const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
	const fields = cpu.trim().split(/\s+/).slice(1).map(Number);
	return (((fields[3] ?? 0) + (fields[4] ?? 0)) * 1000) / 100;
}

/** CPU time (ms) of reaped children of this process: the load generators once they exited. */
function childrenCpuMs(): number {
	const stat = readFileSync("/proc/self/stat", "utf8");
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

const median = (xs: readonly number[]) => stats(xs).median;

/** Median req/s per busy daemon core; "–" when a run was too short for /proc's 10 ms CPU resolution. */
function perCpuSecond(samples: readonly Sample[]): string {
	const values = samples
		.filter((x) => x.daemonCores > 0)
		.map((x) => x.rps / x.daemonCores);
	return values.length === 0 ? "–" : formatInt(median(values));
}

/**
 * Runs every case for `seconds` against the single process and against a 2-worker cluster (SCHED_RR), each under
 * `node --cpu-prof` (cluster workers inherit the flag), and returns the profile summaries: single process first,
 * then one per worker (the primary, idle but for accepting, is left out).
 */
async function profileConfigs(
	configs: readonly Config[],
	cases: readonly LoadCase[],
	seconds: number,
): Promise<{ name: string; summary: ProfileSummary }[]> {
	const out: { name: string; summary: ProfileSummary }[] = [];
	for (const config of configs) {
		const dir = mkdtempSync(path.join(os.tmpdir(), "bench-workers-prof-"));
		try {
			const child = await startChild<DaemonReadyLine | ClusterReadyLine>({
				script: config.script,
				args: config.args,
				nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
			});
			const workerPids =
				"workerPids" in child.ready ? child.ready.workerPids : [child.pid];
			try {
				const target = {
					evaluationPort: child.ready.ports.evaluation,
					ofrepPort: child.ready.ports.ofrep,
				};
				for (const c of cases) await c.run(target, seconds);
			} finally {
				await child.stop();
			}
			for (const [i, pid] of workerPids.entries()) {
				const file = readdirSync(dir).find(
					(f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.`),
				);
				if (file === undefined)
					throw new Error(`no CPU profile of process ${pid} in ${dir}`);
				out.push({
					name:
						workerPids.length > 1
							? `${config.name}, worker ${i + 1}`
							: config.name,
					summary: summarizeCpuProfile(path.join(dir, file), 10),
				});
			}
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	}
	return out;
}

/** Self time by module, one column per profiled process, so a worker's work can be compared with one process's. */
function profileTables(
	profiles: readonly { name: string; summary: ProfileSummary }[],
): MetricsTable[] {
	if (profiles.length === 0) return [];
	const modules = new Set<string>();
	for (const p of profiles)
		for (const m of p.summary.byModule.slice(0, 8)) modules.add(m.module);
	return [
		{
			caption: `CPU profiles under the same load (node --cpu-prof; every case for a few seconds): self time by module, % of each process's busy samples (${profiles.map((p) => `${p.name}: ${formatInt(p.summary.busyMs)} ms busy of ${formatInt(p.summary.wallMs)} ms`).join("; ")})`,
			columns: ["module", ...profiles.map((p) => p.name)],
			rows: [...modules].map((module) => [
				module,
				...profiles.map((p) => {
					const m = p.summary.byModule.find((x) => x.module === module);
					return m === undefined ? "–" : `${m.selfPercent.toFixed(1)} %`;
				}),
			]),
		},
		{
			caption: "Top frames by self time",
			columns: profiles.map((p) => p.name),
			rows: Array.from({ length: 8 }, (_, i) =>
				profiles.map((p) => {
					const f = p.summary.topFrames[i];
					return f === undefined
						? ""
						: `\`${f.name}\` ${f.selfPercent.toFixed(1)} %`;
				}),
			),
		},
	];
}

/** Runs the benchmark; see the file comment. */
export async function runWorkers(
	options: WorkersOptions,
): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const tools = ensureLoadGenerators(options.installTools ?? false);
	if (!tools.wrk || !tools.h2load)
		throw new Error("workers benchmark needs wrk and h2load");
	const runs = smoke ? 1 : 5;
	const durationS = smoke ? undefined : 2;
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-workers-"));
	const flagFile = path.join(dir, "flags.json");
	writeFileSync(flagFile, JSON.stringify(throughputDocument()));
	// Smoke: h2load sends a fixed 600 requests, wrk runs 1 s.
	const all = loadCases(dir, smoke);
	const cases = [all[0], all[2], all[3]].filter((c) => c !== undefined);
	const configs: Config[] = [
		{
			name: "single process",
			script: "bench/support/daemon-process.ts",
			args: ["--source", flagFile],
		},
		...(
			[
				["cluster, 1 worker", "1", "rr"],
				["cluster, 2 workers (primary hands out connections)", "2", "rr"],
				["cluster, 2 workers (shared socket)", "2", "none"],
			] as const
		).map(([name, n, sched]) => ({
			name,
			script: "bench/support/cluster-daemon-process.ts",
			args: ["--source", flagFile, "--workers", n, "--sched", sched],
		})),
	];
	const samples = new Map<string, Sample[]>();
	const key = (c: number, k: number) => `${c}/${k}`;
	const running: { child: RunningChild<DaemonReadyLine>; pids: number[] }[] =
		[];
	const loadEnd = { value: 0 };
	const profiles: { name: string; summary: ProfileSummary }[] = [];
	try {
		for (const config of configs) {
			const child = await startChild<DaemonReadyLine | ClusterReadyLine>({
				script: config.script,
				args: config.args,
			});
			const workerPids =
				"workerPids" in child.ready ? child.ready.workerPids : [];
			running.push({ child, pids: [child.pid, ...workerPids] });
		}
		const targets: Endpoints[] = running.map((r) => ({
			evaluationPort: r.child.ready.ports.evaluation,
			ofrepPort: r.child.ready.ports.ofrep,
		}));
		for (const [i, t] of targets.entries())
			await verifyEndpoints(configs[i]?.name ?? "?", t);
		if (!smoke)
			for (const c of cases) for (const t of targets) await c.run(t, 1);
		for (let run = 0; run < runs; run++) {
			for (const [ci, c] of cases.entries()) {
				for (let j = 0; j < configs.length; j++) {
					const k = (j + run) % configs.length;
					const r = running[k];
					const t = targets[k];
					if (r === undefined || t === undefined) continue;
					const cpu0 = r.pids.reduce((s, p) => s + readCpuTimeMs(p), 0);
					const gen0 = childrenCpuMs();
					const primary0 = readCpuTimeMs(r.child.pid);
					const workers0 = r.pids.slice(1).map(readCpuTimeMs);
					const idle0 = machineIdleMs();
					const wall0 = performance.now();
					const result = await c.run(t, durationS);
					const wallMs = performance.now() - wall0;
					const cpu1 = r.pids.reduce((s, p) => s + readCpuTimeMs(p), 0);
					const gen1 = childrenCpuMs();
					const primaryMs =
						r.pids.length > 1 ? readCpuTimeMs(r.child.pid) - primary0 : 0;
					const idleMs = machineIdleMs() - idle0;
					const workerCpuMs = r.pids
						.slice(1)
						.map((p, w) => readCpuTimeMs(p) - (workers0[w] ?? 0));
					const list = samples.get(key(ci, k)) ?? [];
					list.push({
						rps: result.requestsPerSec,
						daemonCores: (cpu1 - cpu0) / wallMs,
						generatorCores: (gen1 - gen0) / wallMs,
						primaryCores: primaryMs / wallMs,
						idleCores: idleMs / wallMs,
						workerCpuMs,
					});
					samples.set(key(ci, k), list);
				}
			}
		}
		loadEnd.value = loadAverage1m();
		await Promise.all(running.splice(0).map((r) => r.child.stop()));
		if (options.profile ?? !smoke)
			profiles.push(
				...(await profileConfigs(
					[configs[0], configs[2]].filter((c) => c !== undefined),
					cases,
					smoke ? 1 : 3,
				)),
			);
	} finally {
		await Promise.all(running.map((r) => r.child.stop()));
		rmSync(dir, { recursive: true, force: true });
	}
	const shipping: ShippingResult[] = [];
	for (const flags of smoke ? [100] : [1_000, 10_000])
		shipping.push(await measureStateShipping(flags, smoke ? 3 : 11));
	const rows: string[][] = [];
	for (const [ci, c] of cases.entries()) {
		const base = samples.get(key(ci, 0)) ?? [];
		for (const [k, config] of configs.entries()) {
			const s = samples.get(key(ci, k)) ?? [];
			const rps = stats(s.map((x) => x.rps));
			// Per run, against the single process measured in the same run.
			const gains = s.map((x, run) => x.rps / (base[run]?.rps ?? Number.NaN));
			const g = stats(gains);
			rows.push([
				c.name,
				config.name,
				`${formatInt(rps.median)} (${formatInt(rps.min)}–${formatInt(rps.max)})`,
				`${g.median.toFixed(2)}× (${g.min.toFixed(2)}–${g.max.toFixed(2)})`,
				`${median(s.map((x) => x.daemonCores)).toFixed(2)}${k === 0 ? "" : ` (primary ${median(s.map((x) => x.primaryCores)).toFixed(2)})`}`,
				perCpuSecond(s),
				median(s.map((x) => x.generatorCores)).toFixed(2),
				median(s.map((x) => x.idleCores)).toFixed(2),
			]);
		}
	}
	const table: MetricsTable = {
		caption:
			"Unary evaluations/s by serving configuration (medians; min–max over runs)",
		columns: [
			"case",
			"daemon",
			"req/s",
			"vs single process (per run)",
			"daemon cores busy",
			"req per daemon CPU-s",
			"load generator cores busy",
			"machine cores idle",
		],
		rows,
	};
	return metricsSuite({
		suite: "workers",
		title: "many cores: one daemon process vs node:cluster workers",
		smoke,
		command: `npm run bench -- workers${smoke ? " --smoke" : ""}`,
		runs,
		tables: [
			table,
			...profileTables(profiles),
			{
				caption:
					"Shipping a flag document to another process: IPC round trip and JSON.parse, ms (median, min–max)",
				columns: [
					"flags",
					"bytes",
					"IPC round trip, json",
					"IPC round trip, advanced",
					"JSON.parse",
				],
				rows: shipping.map((r) => [
					formatInt(r.flags),
					formatInt(r.bytes),
					formatMs(r.roundTripMs.json),
					formatMs(r.roundTripMs.advanced),
					formatMs(r.parseMs),
				]),
			},
		],
		targets: [],
		notes: [
			`${runs} runs of ${durationS === undefined ? "1 s (wrk) / 600 requests (h2load)" : `${durationS} s`} per configuration and case; the configurations alternate within each run (rotated start). 32 requests in flight, one load-generator thread (wrk -t1 / h2load -t1).`,
			"Cluster workers each run the real daemon (startDaemon) on the same flag file; the primary only forks and, under SCHED_RR, accepts and hands out connections. Daemon CPU is primary + workers from /proc; load generator CPU from this process's reaped-children time.",
			`The machine has ${os.cpus().length} cores; the load generator runs on them too.`,
		],
		loadAverage: { start: loadStart, end: loadEnd.value || loadAverage1m() },
		data: {
			cases: cases.map((c) => c.name),
			configs: configs.map((c) => c.name),
			/** Keyed `<case index>/<config index>`, one Sample per run. */
			samples: Object.fromEntries(samples),
			shipping,
			profiles: profiles.map((p) => ({
				name: p.name,
				byModule: p.summary.byModule,
			})),
		} satisfies WorkersData,
	});
}
