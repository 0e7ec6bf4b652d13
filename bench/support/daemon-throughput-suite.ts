/**
 * Daemon throughput: unary evaluations/s of the daemon (own process) under native load generators, as a ratio to
 * the transport ceiling (bench/support/ceiling-server.ts: the same listener kinds with an empty connect-node
 * handler answering a constant) measured in the same run, interleaved run by run (daemon first on even runs,
 * ceiling first on odd ones) so machine drift hits both alike.
 *
 * Cases: Connect JSON over HTTP/1.1 (wrk), Connect JSON over h2c and gRPC over h2c (h2load), OFREP single and bulk
 * (h2load --h1 -d: HTTP/1.1 POSTs). Before any load, every endpoint's answer is checked with a real client
 * (connect-node gRPC/Connect transports, fetch), since a load generator only sees status codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type PairResult, stats } from "../harness.js";
import { formatInt } from "./bench-args.js";
import { startBenchDaemon } from "./bench-daemon.js";
import type { CeilingReadyLine } from "./ceiling-server.js";
import { startChild } from "./child-process.js";
import { profileDaemonUnder } from "./daemon-profile.js";
import { THROUGHPUT_FLAG, throughputDocument } from "./flag-documents.js";
import { ensureLoadGenerators } from "./load-generators.js";
import {
	type MetricsSuite,
	type MetricsTable,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m } from "./proc-stats.js";
import { loadCases, verifyEndpoints } from "./throughput-cases.js";

export interface ThroughputOptions {
	readonly smoke: boolean;
	/** Install wrk/nghttp2-client with apt-get when missing. @default false */
	readonly installTools?: boolean;
	/** Record a CPU profile of the daemon under load. @default !smoke */
	readonly profile?: boolean;
}

interface CaseRuns {
	readonly name: string;
	readonly concurrency: string;
	readonly daemonRps: number[];
	readonly ceilingRps: number[];
	readonly ratios: number[];
	readonly skipped?: string;
}

function toPair(runs: CaseRuns): PairResult {
	const us = (rps: number[]) => stats(rps.map((r) => 1e6 / r));
	const oursUs = us(runs.daemonRps);
	const peerUs = us(runs.ceilingRps);
	return {
		name: runs.name,
		oursUs,
		peerUs,
		ratio: stats(runs.ratios),
		oursOpsPerSec: Math.round(stats(runs.daemonRps).median),
		peerOpsPerSec: Math.round(stats(runs.ceilingRps).median),
		opsPerBatch: 0,
	};
}

/** Runs the benchmark; see the file comment. */
export async function runDaemonThroughput(
	options: ThroughputOptions,
): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const tools = ensureLoadGenerators(options.installTools ?? false);
	const runs = smoke ? 1 : 5;
	const durationS = smoke ? undefined : 2.5;
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-throughput-"));
	const flagFile = path.join(dir, "flags.json");
	const cases = loadCases(dir, smoke);
	const results: CaseRuns[] = cases.map((c) => ({
		name: c.name,
		concurrency: c.concurrency,
		daemonRps: [],
		ceilingRps: [],
		ratios: [],
		...(tools[c.tool] ? {} : { skipped: `${c.tool} is not installed` }),
	}));
	const profileTables: MetricsTable[] = [];
	try {
		const daemon = await startBenchDaemon({
			flagFile,
			document: throughputDocument(),
		});
		let ceilingStop: (() => Promise<number | string>) | undefined;
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
			ceilingStop = () => ceiling.stop();
			const ceilingTarget = {
				evaluationPort: ceiling.ready.ports.evaluation,
				ofrepPort: ceiling.ready.ports.ofrep,
			};
			await verifyEndpoints("ceiling", ceilingTarget);
			if (!smoke) {
				// Warm-up (JIT, connection pools) of both servers, discarded.
				for (const c of cases) {
					if (!tools[c.tool]) continue;
					await c.run(daemonTarget, 1);
					await c.run(ceilingTarget, 1);
				}
			}
			for (let run = 0; run < runs; run++) {
				for (const [i, c] of cases.entries()) {
					const r = results[i] as CaseRuns;
					if (r.skipped !== undefined) continue;
					const daemonFirst = run % 2 === 0;
					const first = await c.run(
						daemonFirst ? daemonTarget : ceilingTarget,
						durationS,
					);
					const second = await c.run(
						daemonFirst ? ceilingTarget : daemonTarget,
						durationS,
					);
					const d = daemonFirst ? first : second;
					const e = daemonFirst ? second : first;
					r.daemonRps.push(d.requestsPerSec);
					r.ceilingRps.push(e.requestsPerSec);
					r.ratios.push(d.requestsPerSec / e.requestsPerSec);
				}
			}
		} finally {
			await ceilingStop?.();
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
	const targets: TargetCheck[] = pairs.map((p) => ({
		name: `daemon ${p.name}`,
		target: "≥ 80 % of the empty-handler ceiling",
		measured: `${(p.ratio.median * 100).toFixed(0)} % (${formatInt(p.oursOpsPerSec)} vs ${formatInt(p.peerOpsPerSec)} req/s)`,
		met: p.ratio.median >= 0.8,
	}));
	const table: MetricsTable = {
		caption:
			"Unary evaluations/s: daemon vs empty connect-node handler on the same listener (medians; min–max over runs)",
		columns: [
			"case",
			"load",
			"daemon req/s",
			"ceiling req/s",
			"daemon / ceiling",
		],
		rows: results.map((r) => {
			if (r.skipped !== undefined)
				return [r.name, r.concurrency, "not measured", r.skipped, "–"];
			const d = stats(r.daemonRps);
			const c = stats(r.ceilingRps);
			const q = stats(r.ratios);
			return [
				r.name,
				`\`${r.concurrency}\``,
				`${formatInt(d.median)} (${formatInt(d.min)}–${formatInt(d.max)})`,
				`${formatInt(c.median)} (${formatInt(c.min)}–${formatInt(c.max)})`,
				`${(q.median * 100).toFixed(0)} % (${(q.min * 100).toFixed(0)}–${(q.max * 100).toFixed(0)})`,
			];
		}),
	};
	return metricsSuite({
		suite: "daemon-throughput",
		title: "daemon unary throughput vs the transport ceiling",
		smoke,
		command: `npm run bench -- daemon-throughput${smoke ? " --smoke" : ""}`,
		runs,
		ours: "@flagd-ts/daemon",
		peer: "empty connect-node handler (ceiling)",
		pairs,
		tables: [table, ...profileTables],
		targets,
		notes: [
			`Flag \`${THROUGHPUT_FLAG}\`: targeting rule (\`ends_with\` on \`email\`) with a two-attribute context; daemon and ceiling each run in their own process; load generators use one thread. ${smoke ? "Smoke: one run, 1 s (wrk) / 600 requests (h2load) per side." : `${runs} interleaved runs of ${durationS} s per side after a 1 s warm-up each.`}`,
			"The ceiling uses the daemon's own listener code (preface-sniffing HTTP/1.1 + h2c port; plain HTTP/1.1 for OFREP) and returns constant answers of the same size (OFREP: the daemon's own response bytes).",
			...results
				.filter((r) => r.skipped !== undefined)
				.map((r) => `NOT MEASURED: ${r.name}: ${r.skipped}.`),
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: results,
	});
}
