/**
 * Scale: documents of 0 (baseline), 100, 1,000 and 10,000 generated flags (a third each static, targeting and
 * fractional). For each size a fresh daemon process loads the file; measured: config load time (startDaemon →
 * ready, inside the daemon), daemon RSS after load and one garbage collection (VmRSS from /proc), ResolveAll
 * latency over gRPC (connect-node, sequential calls), and memory per flag, both overall ((RSS_n − RSS_0) / n) and
 * per step ((RSS_n − RSS_prev) / (n − prev)), which is how linearity is checked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import { stats } from "../harness.js";
import { formatInt, formatMiB, percentile } from "./bench-args.js";
import { startBenchDaemon } from "./bench-daemon.js";
import { type DaemonProfile, profileDaemonUnder } from "./daemon-profile.js";
import { scaleDocument } from "./flag-documents.js";
import {
	type MetricsSuite,
	metricsSuite,
	type TargetCheck,
} from "./metrics-report.js";
import { loadAverage1m } from "./proc-stats.js";

export interface ScaleOptions {
	readonly smoke: boolean;
	/** Also profile a daemon loading the largest document and answering ResolveAll. @default !smoke */
	readonly profile?: boolean;
}

const PROFILE_RESOLVE_ALL_CALLS = 10;

interface SizeResult {
	readonly flags: number;
	readonly loadMs: number[];
	readonly rssBytes: number[];
	/** VmHWM after load: the peak while the document was read and compiled. */
	readonly peakRssBytes: number[];
	readonly heapUsedBytes: number[];
	readonly heapTotalBytes: number[];
	readonly resolveAllMs: number[];
	/** VmRSS after the ResolveAll calls (their garbage grows the heap). */
	readonly rssAfterResolveAllBytes: number[];
}

/** V8 heap settings tried on the largest document. */
interface V8Variant {
	readonly label: string;
	readonly nodeArgs: readonly string[];
	/** Leave V8's young generation as V8 sizes it (no cap at start, see runtime/young-generation.ts). */
	readonly v8Defaults: boolean;
	/** Load the document whose targeting rules are all different (flag-documents.ts ScaleDocumentOptions). */
	readonly distinctRules?: boolean;
}

const V8_VARIANTS: readonly V8Variant[] = [
	{
		label: "as `flagd start` runs (young generation capped at start)",
		nodeArgs: [],
		v8Defaults: false,
	},
	{
		label: "as `flagd start` runs, every targeting rule different",
		nodeArgs: [],
		v8Defaults: false,
		distinctRules: true,
	},
	{ label: "V8 defaults (no cap)", nodeArgs: [], v8Defaults: true },
	{
		label: "`--max-semi-space-size=1`",
		nodeArgs: ["--max-semi-space-size=1"],
		v8Defaults: false,
	},
	{
		label: "`--optimize-for-size`",
		nodeArgs: ["--optimize-for-size"],
		v8Defaults: false,
	},
];

function emptyResult(flags: number): SizeResult {
	return {
		flags,
		loadMs: [],
		rssBytes: [],
		peakRssBytes: [],
		heapUsedBytes: [],
		heapTotalBytes: [],
		resolveAllMs: [],
		rssAfterResolveAllBytes: [],
	};
}

/** Issue target: 10,000 flags within 100 MiB, after load and after the ResolveAll calls. */
const RSS_TARGET_BYTES = 100 * 1024 * 1024;

async function measureSize(
	dir: string,
	flags: number,
	resolveAllCalls: number,
	result: SizeResult,
	variant?: V8Variant,
): Promise<void> {
	const flagFile = path.join(dir, `flags-${flags}.json`);
	const daemon = await startBenchDaemon({
		flagFile,
		document: scaleDocument(flags, { distinctRules: variant?.distinctRules }),
		gcAfterReady: true,
		nodeArgs: variant?.nodeArgs ?? [],
		v8Defaults: variant?.v8Defaults ?? false,
	});
	try {
		result.loadMs.push(daemon.readyMs);
		result.heapUsedBytes.push(daemon.memoryAtReady.heapUsedBytes);
		result.heapTotalBytes.push(daemon.memoryAtReady.heapTotalBytes);
		result.rssBytes.push(daemon.rssBytes());
		result.peakRssBytes.push(daemon.peakRssBytes());
		const client = createClient(
			EvaluationServiceV1,
			createGrpcTransport({
				baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
			}),
		);
		const context = { targetingKey: "user-42", tier: "gold" };
		const first = await client.resolveAll({ context });
		if (Object.keys(first.flags).length !== flags)
			throw new Error(
				`ResolveAll returned ${Object.keys(first.flags).length} flags, expected ${flags}`,
			);
		for (let i = 0; i < resolveAllCalls; i++) {
			const started = performance.now();
			await client.resolveAll({ context });
			result.resolveAllMs.push(performance.now() - started);
		}
		result.rssAfterResolveAllBytes.push(daemon.rssBytes());
	} finally {
		await daemon.stop();
	}
}

/** Runs the benchmark; see the file comment. */
export async function runScale(options: ScaleOptions): Promise<MetricsSuite> {
	const { smoke } = options;
	const loadStart = loadAverage1m();
	const sizes = smoke ? [0, 100, 1000] : [0, 100, 1000, 10_000];
	const runs = smoke ? 1 : 3;
	const resolveAllCalls = smoke ? 3 : 30;
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-scale-"));
	const results: SizeResult[] = sizes.map(emptyResult);
	const largestFlags = sizes[sizes.length - 1] as number;
	const variants = smoke
		? []
		: V8_VARIANTS.map((variant) => ({
				variant,
				result: emptyResult(largestFlags),
			}));
	let profile: DaemonProfile | undefined;
	try {
		// Sizes interleaved run by run, so a slow phase of the shared machine does not hit one size only.
		for (let run = 0; run < runs; run++)
			for (const result of results)
				await measureSize(dir, result.flags, resolveAllCalls, result);
		for (let run = 0; run < runs; run++)
			for (const { variant, result } of variants)
				await measureSize(dir, largestFlags, resolveAllCalls, result, variant);
		if (options.profile ?? !smoke) {
			const flags = sizes[sizes.length - 1] as number;
			profile = await profileDaemonUnder(
				path.join(dir, "profiled.json"),
				scaleDocument(flags),
				`loading ${formatInt(flags)} flags and answering ${PROFILE_RESOLVE_ALL_CALLS} ResolveAll calls`,
				async (daemon) => {
					const client = createClient(
						EvaluationServiceV1,
						createGrpcTransport({
							baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
						}),
					);
					for (let i = 0; i < PROFILE_RESOLVE_ALL_CALLS; i++)
						await client.resolveAll({
							context: { targetingKey: "user-42", tier: "gold" },
						});
				},
			);
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
	const median = (values: number[]) => stats(values).median;
	const baseline = results[0] as SizeResult;
	const baseRss = median(baseline.rssBytes);
	const rows = results.map((r, i) => {
		const rss = median(r.rssBytes);
		const prev = i > 0 ? (results[i - 1] as SizeResult) : undefined;
		const perFlag = r.flags === 0 ? "–" : formatInt((rss - baseRss) / r.flags);
		const heapPerFlag =
			r.flags === 0
				? "–"
				: formatInt(
						(median(r.heapUsedBytes) - median(baseline.heapUsedBytes)) /
							r.flags,
					);
		const perStep =
			prev === undefined || r.flags === 0
				? "–"
				: formatInt((rss - median(prev.rssBytes)) / (r.flags - prev.flags));
		const load = stats(r.loadMs);
		const rssStats = stats(r.rssBytes);
		return [
			formatInt(r.flags),
			`${load.median.toFixed(1)} (${load.min.toFixed(1)}–${load.max.toFixed(1)})`,
			`${formatMiB(rss)} (${formatMiB(rssStats.min)}–${formatMiB(rssStats.max)})`,
			formatMiB(median(r.peakRssBytes)),
			`${formatMiB(median(r.heapUsedBytes))} / ${formatMiB(median(r.heapTotalBytes))}`,
			perFlag,
			perStep,
			heapPerFlag,
			r.flags === 0 ? "–" : percentile(r.resolveAllMs, 50).toFixed(2),
			r.flags === 0 ? "–" : percentile(r.resolveAllMs, 99).toFixed(2),
			r.flags === 0 ? "–" : formatMiB(median(r.rssAfterResolveAllBytes)),
		];
	});
	const variantRows = variants.map(({ variant, result }) => [
		variant.label,
		formatMiB(median(result.rssBytes)),
		`${formatMiB(median(result.heapUsedBytes))} / ${formatMiB(median(result.heapTotalBytes))}`,
		formatMiB(median(result.rssAfterResolveAllBytes)),
		median(result.loadMs).toFixed(0),
		percentile(result.resolveAllMs, 50).toFixed(1),
	]);
	const largest = results[results.length - 1] as SizeResult;
	const targets: TargetCheck[] = [];
	if (largest.flags === 10_000) {
		const rss = median(largest.rssBytes);
		const busy = median(largest.rssAfterResolveAllBytes);
		targets.push(
			{
				name: "daemon RSS with 10,000 flags, loaded",
				target: "≤ 100 MiB",
				measured: formatMiB(rss),
				met: rss <= RSS_TARGET_BYTES,
			},
			{
				name: `daemon RSS with 10,000 flags, after ${resolveAllCalls} ResolveAll calls`,
				target: "≤ 100 MiB",
				measured: formatMiB(busy),
				met: busy <= RSS_TARGET_BYTES,
			},
		);
	}
	return metricsSuite({
		suite: "scale",
		title: "config load time, RSS and ResolveAll latency by flag count",
		smoke,
		command: `npm run bench -- scale${smoke ? " --smoke" : ""}`,
		runs,
		tables: [
			{
				caption: `Per flag count (medians over ${runs} fresh daemon process${runs === 1 ? "" : "es"}; min–max in brackets)`,
				columns: [
					"flags",
					"load ms",
					"daemon RSS",
					"peak RSS (VmHWM)",
					"heap used / total at ready",
					"bytes/flag vs 0 flags",
					"bytes/flag this step",
					"heap bytes/flag vs 0 flags",
					"ResolveAll p50 ms",
					"ResolveAll p99 ms",
					"RSS after the ResolveAll calls",
				],
				rows,
			},
			...(variantRows.length === 0
				? []
				: [
						{
							caption: `${formatInt(largestFlags)} flags under V8 heap settings and rule mixes (medians of ${runs} run${runs === 1 ? "" : "s"} each, interleaved)`,
							columns: [
								"V8 heap setting / document",
								"RSS loaded",
								"heap used / total",
								`RSS after ${resolveAllCalls} ResolveAll`,
								"load ms",
								"ResolveAll p50 ms",
							],
							rows: variantRows,
						},
					]),
			...(profile?.tables ?? []),
		],
		targets,
		notes: [
			'Flag mix per document: a third static, a third `if`/`in` targeting, a third 3-way `fractional`; variant types rotate boolean/string/number/object. The daemon compiles equal targeting rules once: in this document the targeted flags share eight rules (one `if` and one `fractional` per variant set); the V8 table\'s "every targeting rule different" row gives each targeted flag its own (own segment value, own bucketing salt).',
			"Load time = startDaemon() → ready inside the daemon process (file read, parse, validation, store load). RSS = VmRSS from /proc/<pid>/status after one GC (the bench's daemon process runs with --expose-gc). ResolveAll over gRPC from the bench process, context {targetingKey, tier}.",
			"The daemon process caps V8's young generation at start as `flagd start` does (packages/daemon/src/runtime/young-generation.ts: semi-spaces kept at their initial 1 MiB unless node flags tune them); the first table and the first row of the V8 table run that way.",
			`The V8 table starts one daemon per setting with the ${formatInt(largestFlags)}-flag document: "V8 defaults" lets the young generation grow to 2 × 16 MiB while the document is parsed (and keeps it); --max-semi-space-size=1 is the same cap as a node flag; --optimize-for-size also trades ResolveAll speed for memory.`,
			"Linearity: bytes/flag must not grow with the flag count. RSS per step carries Node's fixed cost and allocator/GC slack (noisy at small steps); heap used after GC per flag is the clean measure.",
			...(smoke
				? [
						"Smoke: 0, 100 and 1,000 flags, one run each (10,000 in full mode only).",
					]
				: []),
		],
		loadAverage: { start: loadStart, end: loadAverage1m() },
		data: { sizes: results, v8Variants: variants },
	});
}
