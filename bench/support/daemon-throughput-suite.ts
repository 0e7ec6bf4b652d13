/**
 * Daemon throughput: unary evaluations/s of the daemon (own process) under native load generators, as a ratio to
 * the physical-limit ceiling (bare-ceiling-server.ts: bare node:http / node:http2 servers answering the daemon's
 * own recorded bytes), measured in the same run, interleaved run by run (daemon first on even runs, last on odd
 * ones) so machine drift hits all alike. A second reference (ceiling-server.ts: the daemon's listener code with an
 * empty connect-node handler, and a constant OFREP handler) shows what the listener and connect-node cost.
 * The same bare servers run a second time with the daemon's young generation (1 MiB per semi-space): "daemon ÷ bare
 * at the same cap" separates the cap's cost from the daemon's, and the young-generation collections per 1,000
 * requests (gc-tally.ts) of the daemon and both bare servers measure allocation per request, load-independently.
 *
 * Cases: Connect JSON over HTTP/1.1 (wrk), Connect JSON over h2c and gRPC over h2c (h2load), OFREP single and bulk
 * (h2load --h1 -d: HTTP/1.1 POSTs). Before any load, every endpoint's answer is checked with a real client
 * (connect-node gRPC/Connect transports, fetch), since a load generator only sees status codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type PairResult, stats } from "../harness.js";
import { writeAnswersFile } from "./bare-answers.js";
import { formatInt } from "./bench-args.js";
import { startBenchDaemon } from "./bench-daemon.js";
import type { CeilingReadyLine } from "./ceiling-server.js";
import { startChild } from "./child-process.js";
import { profileDaemonUnder } from "./daemon-profile.js";
import { THROUGHPUT_FLAG, throughputDocument } from "./flag-documents.js";
import {
	DAEMON_YOUNG_GENERATION_NODE_ARGS,
	formatGcCounts,
	type GcRun,
	type GcTally,
	gcRun,
} from "./gc-tally.js";
import { ensureLoadGenerators } from "./load-generators.js";
import {
	type MetricsSuite,
	type MetricsTable,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m, readCpuTimeMs } from "./proc-stats.js";
import { startBareCeiling } from "./start-bare-ceiling.js";
import {
	type Endpoints,
	loadCases,
	verifyEndpoints,
} from "./throughput-cases.js";

export interface ThroughputOptions {
	readonly smoke: boolean;
	/** Install wrk/nghttp2-client with apt-get when missing. @default false */
	readonly installTools?: boolean;
	/** Record a CPU profile of the daemon under load. @default !smoke */
	readonly profile?: boolean;
	/**
	 * Count young-generation collections in every server (gc-tally.ts). The count costs the servers CPU (v8.GCProfiler:
	 * 6-9 % of the daemon's per request, measured in a paired A/B), so full runs that check the targets leave it off
	 * and GC counts come from runs of their own (`--gc-tally`). @default smoke
	 */
	readonly gcTally?: boolean;
}

interface CaseRuns {
	readonly name: string;
	readonly concurrency: string;
	readonly daemonRps: number[];
	/** Bare node:http / node:http2 answering precomputed bytes. */
	readonly bareRps: number[];
	/** daemon ÷ bare, per run. */
	readonly ratios: number[];
	/** The daemon's listener with an empty handler (second reference). */
	readonly handlerRps: number[];
	/** daemon ÷ empty handler, per run. */
	readonly handlerRatios: number[];
	/** Server CPU time per request (µs, from /proc), per run: robust where req/s are not (shared machine). */
	readonly daemonCpuUs: number[];
	readonly bareCpuUs: number[];
	readonly handlerCpuUs: number[];
	/** Bare node:http / node:http2 with the daemon's young generation (1 MiB semi-spaces), and daemon ÷ it. */
	readonly bareCappedRps: number[];
	readonly bareCappedRatios: number[];
	/** Young-generation collections per 1,000 requests and the semi-space size, per run (gc-tally.ts). */
	readonly daemonGcs: GcRun[];
	readonly bareGcs: GcRun[];
	readonly bareCappedGcs: GcRun[];
	readonly skipped?: string;
}

function toPair(runs: CaseRuns): PairResult {
	const us = (rps: number[]) => stats(rps.map((r) => 1e6 / r));
	const oursUs = us(runs.daemonRps);
	const peerUs = us(runs.bareRps);
	return {
		name: runs.name,
		oursUs,
		peerUs,
		ratio: stats(runs.ratios),
		oursOpsPerSec: Math.round(stats(runs.daemonRps).median),
		peerOpsPerSec: Math.round(stats(runs.bareRps).median),
		opsPerBatch: 0,
	};
}

/** Runs the benchmark; see the file comment. */
export async function runDaemonThroughput(
	options: ThroughputOptions,
): Promise<MetricsSuite> {
	const { smoke } = options;
	const withTally = options.gcTally ?? smoke;
	const loadStart = loadAverage1m();
	const tools = ensureLoadGenerators(options.installTools ?? false);
	const runs = smoke ? 1 : 5;
	const durationS = smoke ? undefined : 2.5;
	// Load on the same side just before each measured run, discarded: every server is measured in the state sustained
	// load puts it in (the daemon's young-generation governor lifts its cap after ~1 s of it and restores it when the
	// rate falls, e.g. while the other sides are measured), not in the state the previous side's run left it in.
	const warmS = smoke ? 0 : 2;
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-throughput-"));
	const flagFile = path.join(dir, "flags.json");
	const cases = loadCases(dir, smoke);
	const results: CaseRuns[] = cases.map((c) => ({
		name: c.name,
		concurrency: c.concurrency,
		daemonRps: [],
		bareRps: [],
		ratios: [],
		handlerRps: [],
		handlerRatios: [],
		daemonCpuUs: [],
		bareCpuUs: [],
		handlerCpuUs: [],
		bareCappedRps: [],
		bareCappedRatios: [],
		daemonGcs: [],
		bareGcs: [],
		bareCappedGcs: [],
		...(tools[c.tool] ? {} : { skipped: `${c.tool} is not installed` }),
	}));
	const profileTables: MetricsTable[] = [];
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			document: throughputDocument(),
			gcTally: withTally,
		});
		const stops: (() => Promise<number | string>)[] = [];
		try {
			const daemonTarget = {
				evaluationPort: daemon.ports.evaluation,
				ofrepPort: daemon.ports.ofrep,
			};
			const bodies = await verifyEndpoints("daemon", daemonTarget);
			writeFileSync(
				path.join(dir, "ofrep-single-answer.json"),
				bodies.ofrepSingle,
			);
			writeFileSync(path.join(dir, "ofrep-bulk-answer.json"), bodies.ofrepBulk);
			const ceiling = await startChild<CeilingReadyLine>({
				script: "bench/support/ceiling-server.ts",
				args: [
					"--ofrep-single",
					path.join(dir, "ofrep-single-answer.json"),
					"--ofrep-bulk",
					path.join(dir, "ofrep-bulk-answer.json"),
				],
			});
			stops.push(() => ceiling.stop());
			const ceilingTarget = {
				evaluationPort: ceiling.ready.ports.evaluation,
				ofrepPort: ceiling.ready.ports.ofrep,
			};
			await verifyEndpoints("ceiling", ceilingTarget);
			const answersFile = path.join(dir, "bare-answers.json");
			await writeAnswersFile(answersFile, daemonTarget);
			const startBare = async (label: string, nodeArgs: readonly string[]) => {
				const bare = await startBareCeiling(answersFile, {
					nodeArgs,
					gcTally: withTally,
				});
				stops.push(() => bare.stop());
				await verifyEndpoints(label, bare.target);
				return bare;
			};
			const bare = await startBare("bare ceiling", []);
			const bareCapped = await startBare(
				"bare ceiling at the daemon's cap",
				DAEMON_YOUNG_GENERATION_NODE_ARGS,
			);
			// 0 daemon, 1 bare, 2 empty handler, 3 bare at the daemon's young-generation cap.
			const sides = [
				daemonTarget,
				bare.target,
				ceilingTarget,
				bareCapped.target,
			];
			const pids = [daemon.pid, bare.pid, ceiling.ready.pid, bareCapped.pid];
			// The empty handler keeps no tally (and is not loaded in smoke runs).
			const tallies: ((() => Promise<GcTally>) | undefined)[] = withTally
				? [
						() => daemon.gcTally(),
						() => bare.tally(),
						undefined,
						() => bareCapped.tally(),
					]
				: [];
			for (let run = 0; run < runs; run++) {
				for (const [i, c] of cases.entries()) {
					const r = results[i] as CaseRuns;
					if (r.skipped !== undefined) continue;
					// Daemon first on even runs, last on odd ones; smoke runs leave the (slow) reference handler out.
					const order = (run % 2 === 0 ? [0, 1, 3, 2] : [2, 3, 1, 0]).filter(
						(side) => !smoke || side !== 2,
					);
					const rps = [0, 0, 0, 0];
					const cpuUs = [0, 0, 0, 0];
					const gcs: (GcRun | undefined)[] = [];
					for (const side of order) {
						const pid = pids[side] as number;
						const tally = tallies[side];
						if (warmS > 0) await c.run(sides[side] as Endpoints, warmS);
						const tallyBefore = await tally?.();
						const cpuBefore = readCpuTimeMs(pid);
						const result = await c.run(sides[side] as Endpoints, durationS);
						rps[side] = result.requestsPerSec;
						cpuUs[side] =
							((readCpuTimeMs(pid) - cpuBefore) * 1000) / result.completed;
						const tallyAfter = await tally?.();
						if (tallyBefore !== undefined && tallyAfter !== undefined)
							gcs[side] = gcRun(tallyBefore, tallyAfter, result.completed);
					}
					const [d = 0, b = 0, h = 0, bc = 0] = rps;
					r.bareCappedRps.push(bc);
					r.bareCappedRatios.push(d / bc);
					for (const [runs, side] of [
						[r.daemonGcs, 0],
						[r.bareGcs, 1],
						[r.bareCappedGcs, 3],
					] as const) {
						const g = gcs[side];
						if (g !== undefined) runs.push(g);
					}
					r.daemonCpuUs.push(cpuUs[0] ?? 0);
					r.bareCpuUs.push(cpuUs[1] ?? 0);
					if (!smoke) r.handlerCpuUs.push(cpuUs[2] ?? 0);
					r.daemonRps.push(d);
					r.bareRps.push(b);
					r.ratios.push(d / b);
					if (!smoke) {
						r.handlerRps.push(h);
						r.handlerRatios.push(d / h);
					}
				}
			}
		} finally {
			for (const stop of stops) await stop();
			await daemon.stop();
		}
		if ((options.profile ?? !smoke) && tools.wrk && tools.h2load) {
			for (const [what, group] of [
				["Connect HTTP/1.1 + Connect h2c + gRPC load", cases.slice(0, 3)],
				["OFREP single + bulk load", cases.slice(3)],
			] as const) {
				const profile = await profileDaemonUnder(
					flagFile,
					undefined,
					what,
					async (daemon) => {
						const target = {
							evaluationPort: daemon.ports.evaluation,
							ofrepPort: daemon.ports.ofrep,
						};
						for (const c of group) await c.run(target, smoke ? 1 : 4);
					},
				);
				profileTables.push(...profile.tables);
			}
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const measured = results.filter(
		(r) => r.skipped === undefined && r.ratios.length > 0,
	);
	const pairs = measured.map(toPair);
	// The issue's targets: OFREP ≥ 80 % of bare node:http, every other protocol ≥ 70 % of its bare server.
	const goalOf = (name: string) => (name.startsWith("OFREP") ? 0.8 : 0.7);
	const targets: TargetCheck[] = pairs.map((p) => ({
		name: `daemon ${p.name}`,
		target: `≥ ${goalOf(p.name) * 100} % of bare node:http${p.name.includes("h2c") ? "2" : ""} answering precomputed bytes`,
		measured: `${(p.ratio.median * 100).toFixed(0)} % (${formatInt(p.oursOpsPerSec)} vs ${formatInt(p.peerOpsPerSec)} req/s)`,
		met: p.ratio.median >= goalOf(p.name),
	}));
	const range = (xs: number[]) => {
		if (xs.length === 0) return "–";
		const q = stats(xs);
		return `${formatInt(q.median)} (${formatInt(q.min)}–${formatInt(q.max)})`;
	};
	const share = (xs: number[]) => {
		if (xs.length === 0) return "–";
		const q = stats(xs);
		return `${(q.median * 100).toFixed(0)} % (${(q.min * 100).toFixed(0)}–${(q.max * 100).toFixed(0)})`;
	};
	const cpuShare = (r: CaseRuns) => {
		const [d, b, h] = [r.daemonCpuUs, r.bareCpuUs, r.handlerCpuUs].map((xs) =>
			xs.length === 0 ? "–" : stats(xs).median.toFixed(0),
		);
		const q = stats(r.daemonCpuUs.map((us, i) => (r.bareCpuUs[i] ?? 0) / us));
		return `${d}, ${b}, ${h} (${(q.median * 100).toFixed(0)} %, ${(q.min * 100).toFixed(0)}–${(q.max * 100).toFixed(0)})`;
	};
	const table: MetricsTable = {
		caption:
			"Unary evaluations/s: daemon vs bare node:http / node:http2 answering the daemon's precomputed bytes, and vs the daemon's listener with an empty handler (medians; min–max over runs)",
		columns: [
			"case",
			"load",
			"daemon req/s",
			"bare node req/s",
			"daemon / bare",
			"daemon / bare at the same cap",
			"empty handler req/s",
			"daemon / empty handler",
			"server CPU µs/request: daemon, bare, empty handler (bare ÷ daemon)",
		],
		rows: results.map((r) => {
			if (r.skipped !== undefined)
				return [
					r.name,
					r.concurrency,
					"not measured",
					r.skipped,
					"–",
					"–",
					"–",
					"–",
					"–",
				];
			return [
				r.name,
				`\`${r.concurrency}\``,
				range(r.daemonRps),
				range(r.bareRps),
				share(r.ratios),
				share(r.bareCappedRatios),
				range(r.handlerRps),
				share(r.handlerRatios),
				cpuShare(r),
			];
		}),
	};
	// daemon ÷ bare at the same cap, from the runs where both had the same semi-space size.
	const gcShare = (r: CaseRuns) =>
		share(
			r.daemonGcs.flatMap((g, i) => {
				const bare = r.bareCappedGcs[i];
				return bare !== undefined &&
					bare.semiSpaceBytes === g.semiSpaceBytes &&
					bare.per1000 > 0
					? [g.per1000 / bare.per1000]
					: [];
			}),
		);
	const gcTable: MetricsTable = {
		caption:
			"Young-generation collections (scavenges) per 1,000 requests in the server process, with the semi-space size after the runs (medians; min–max over runs): at the same size, a load-independent measure of allocation per request",
		columns: [
			"case",
			"daemon",
			"bare, same cap",
			"bare, V8 defaults",
			"daemon ÷ bare, same cap and size",
		],
		rows: measured.map((r) => [
			r.name,
			formatGcCounts(r.daemonGcs),
			formatGcCounts(r.bareCappedGcs),
			formatGcCounts(r.bareGcs),
			gcShare(r),
		]),
	};
	return metricsSuite({
		suite: "daemon-throughput",
		title: "daemon unary throughput vs the transport ceiling",
		smoke,
		command: `npm run bench -- daemon-throughput${smoke ? " --smoke" : ""}${withTally && !smoke ? " --gc-tally" : ""}`,
		runs,
		ours: "@flagd-ts/daemon",
		peer: "bare node:http / node:http2 answering precomputed bytes (ceiling)",
		pairs,
		tables: [table, ...(withTally ? [gcTable] : []), ...profileTables],
		targets,
		notes: [
			`Flag \`${THROUGHPUT_FLAG}\`: targeting rule (\`ends_with\` on \`email\`) with a two-attribute context; daemon and ceiling each run in their own process; load generators use one thread. ${smoke ? "Smoke: one run, 1 s (wrk) / 600 requests (h2load) per side." : `${runs} interleaved runs of ${durationS} s per side, each right after ${warmS} s of the same load on the same side (discarded), so every server is measured under sustained load.`}`,
			"Ceiling (the targets' denominator): a bare node:http server (HTTP/1.1) and a bare node:http2 server (h2c) that read the request body and answer the daemon's own recorded bytes (status, headers, body, gRPC trailers). Empty handler (reference): the daemon's listener code (preface-sniffing HTTP/1.1 + h2c port; plain HTTP/1.1 for OFREP) with a connect-node adapter whose ResolveBoolean returns a constant, and an OFREP handler answering the daemon's body bytes.",
			...(smoke
				? [
						"Smoke: the empty-handler reference is started and checked but not loaded.",
					]
				: []),
			`Bare at the same cap: the same bare servers started with \`${DAEMON_YOUNG_GENERATION_NODE_ARGS.join(" ")}\`, the young generation the daemon holds itself to; the targets stay on bare at V8's defaults. ${withTally ? "" : "No GC counts in this run (they cost the servers CPU; `--gc-tally` takes them). "}Young-generation collections come from V8's GC profiler inside each server (v8.GCProfiler, gc-tally.ts), read before and after each run with the semi-space size: counts compare only at the same size (the daemon starts at 2 MiB per semi-space and drops to 1 MiB once V8 shrinks its young generation), and the daemon ÷ bare column uses only the runs where both sizes matched.`,
			"Server CPU µs/request: user + system CPU time of the server process (/proc/<pid>/stat, 10 ms ticks) over the requests it completed in the run (h2load's 0.3 s warm-up adds the same share to both sides); bare ÷ daemon is the per-run ratio, which stays meaningful when other processes steal the cores and req/s become noise.",
			...results
				.filter((r) => r.skipped !== undefined)
				.map((r) => `NOT MEASURED: ${r.name}: ${r.skipped}.`),
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: results,
	});
}
