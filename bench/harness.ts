import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * The shared benchmark harness: interleaved A/B measurement of "ours" against a reference ("peer") so that
 * machine drift (thermal, other processes, GC) hits both sides of each pair alike. Each run measures one batch
 * of A and one batch of B (alternating which goes first), and the ratio is taken per run, so the reported median
 * ratio is robust against slow phases of the machine.
 */

/** One comparison: the same operation done by our code and by the reference implementation. */
export interface BenchPair {
	readonly name: string;
	readonly ours: () => unknown;
	readonly peer: () => unknown;
}

/** Options of {@link runPairs}. */
export interface BenchOptions {
	/** Warm-up time per side before measuring (JIT tiers, caches). @default 300 ms (smoke: 20 ms) */
	readonly warmupMs?: number;
	/** Measured runs per pair (each run = one A batch + one B batch). @default 21 (smoke: 3) */
	readonly runs?: number;
	/** Target duration of one batch; the operation count per batch is calibrated to it. @default 40 ms (smoke: 4 ms) */
	readonly batchMs?: number;
	/** Seconds-long run for CI and tests. @default false */
	readonly smoke?: boolean;
}

/** {@link BenchOptions} resolved. */
export interface BenchConfig {
	readonly warmupMs: number;
	readonly runs: number;
	readonly batchMs: number;
	readonly smoke: boolean;
}

/** Median, min and max of a series. */
export interface Stats {
	readonly median: number;
	readonly min: number;
	readonly max: number;
}

/** The measurement of one pair. Times are µs per operation; ratio = peer time / our time (> 1: we are faster). */
export interface PairResult {
	readonly name: string;
	readonly oursUs: Stats;
	readonly peerUs: Stats;
	readonly ratio: Stats;
	readonly oursOpsPerSec: number;
	readonly peerOpsPerSec: number;
	readonly opsPerBatch: number;
}

/** All pairs of one suite. */
export interface SuiteResult {
	readonly suite: string;
	readonly ours: string;
	readonly peer: string;
	readonly mode: "full" | "smoke";
	readonly config: BenchConfig;
	readonly pairs: readonly PairResult[];
	/** Geometric mean of the median ratios over the named pairs (all pairs when not given). */
	readonly geometricMeanRatio: number;
	readonly geometricMeanOver: readonly string[];
}

const FULL = { warmupMs: 300, runs: 21, batchMs: 40 } as const;
const SMOKE = { warmupMs: 20, runs: 3, batchMs: 4 } as const;

/** Fills the defaults field by field (smoke mode has its own, much shorter ones). */
export function resolveBenchOptions(options: BenchOptions = {}): BenchConfig {
	const smoke = options.smoke ?? false;
	const base = smoke ? SMOKE : FULL;
	const config = {
		warmupMs: options.warmupMs ?? base.warmupMs,
		runs: options.runs ?? base.runs,
		batchMs: options.batchMs ?? base.batchMs,
		smoke,
	};
	if (!Number.isInteger(config.runs) || config.runs < 1)
		throw new RangeError(`runs must be a positive integer, got ${config.runs}`);
	if (!(config.batchMs > 0))
		throw new RangeError(`batchMs must be positive, got ${config.batchMs}`);
	return config;
}

/** Keeps results observable so the JIT cannot drop the measured calls. */
let sink: unknown;

function timeBatch(fn: () => unknown, ops: number): number {
	const start = process.hrtime.bigint();
	let last: unknown;
	for (let i = 0; i < ops; i++) last = fn();
	const elapsedNs = Number(process.hrtime.bigint() - start);
	sink = last;
	return elapsedNs;
}

function warmUp(fn: () => unknown, ms: number): number {
	let ops = 0;
	const deadline = performance.now() + ms;
	while (performance.now() < deadline) {
		timeBatch(fn, 100);
		ops += 100;
	}
	return ops;
}

/** Operations per batch so the slower side takes about `batchMs`. */
function calibrate(pair: BenchPair, batchMs: number): number {
	const probe = 1000;
	const slowestNs =
		Math.max(timeBatch(pair.ours, probe), timeBatch(pair.peer, probe)) / probe;
	return Math.max(100, Math.round((batchMs * 1e6) / Math.max(slowestNs, 1)));
}

/** Median/min/max. */
export function stats(values: readonly number[]): Stats {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	const median =
		sorted.length % 2 === 1
			? (sorted[mid] as number)
			: ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
	return {
		median,
		min: sorted[0] as number,
		max: sorted[sorted.length - 1] as number,
	};
}

/** Measures one pair with interleaved runs. */
export function measurePair(pair: BenchPair, config: BenchConfig): PairResult {
	warmUp(pair.ours, config.warmupMs);
	warmUp(pair.peer, config.warmupMs);
	const ops = calibrate(pair, config.batchMs);
	const ours: number[] = [];
	const peer: number[] = [];
	const ratios: number[] = [];
	for (let run = 0; run < config.runs; run++) {
		// Alternate the order (ABBA...) so a side never always runs right after a GC-heavy batch of the other.
		const oursFirst = run % 2 === 0;
		const a = oursFirst ? timeBatch(pair.ours, ops) : timeBatch(pair.peer, ops);
		const b = oursFirst ? timeBatch(pair.peer, ops) : timeBatch(pair.ours, ops);
		const oursNs = oursFirst ? a : b;
		const peerNs = oursFirst ? b : a;
		ours.push(oursNs / ops / 1000);
		peer.push(peerNs / ops / 1000);
		ratios.push(peerNs / oursNs);
	}
	const oursUs = stats(ours);
	const peerUs = stats(peer);
	return {
		name: pair.name,
		oursUs,
		peerUs,
		ratio: stats(ratios),
		oursOpsPerSec: Math.round(1e6 / oursUs.median),
		peerOpsPerSec: Math.round(1e6 / peerUs.median),
		opsPerBatch: ops,
	};
}

/** Geometric mean. */
export function geometricMean(values: readonly number[]): number {
	if (values.length === 0) return Number.NaN;
	return Math.exp(
		values.reduce((sum, v) => sum + Math.log(v), 0) / values.length,
	);
}

/** Runs all pairs of a suite. */
export function runPairs(
	meta: {
		suite: string;
		ours: string;
		peer: string;
		geometricMeanOver?: readonly string[];
	},
	pairs: readonly BenchPair[],
	options?: BenchOptions,
): SuiteResult {
	const config = resolveBenchOptions(options);
	const results = pairs.map((pair) => measurePair(pair, config));
	const over = meta.geometricMeanOver ?? pairs.map((p) => p.name);
	const ratios = results
		.filter((r) => over.includes(r.name))
		.map((r) => r.ratio.median);
	void sink;
	return {
		suite: meta.suite,
		ours: meta.ours,
		peer: meta.peer,
		mode: config.smoke ? "smoke" : "full",
		config,
		pairs: results,
		geometricMeanRatio: geometricMean(ratios),
		geometricMeanOver: over,
	};
}

function fmt(value: number, digits = 3): string {
	return value.toFixed(digits);
}

/** A Markdown table of one suite. */
export function formatSuite(result: SuiteResult): string {
	const lines = [
		`### ${result.suite}: ${result.ours} vs ${result.peer} (${result.mode}, ${result.config.runs} interleaved runs)`,
		"",
		"| case | ours µs/eval (median) | peer µs/eval (median) | ours evals/s | peer evals/s | ratio median (min–max) |",
		"|---|---:|---:|---:|---:|---:|",
		...result.pairs.map(
			(p) =>
				`| ${p.name} | ${fmt(p.oursUs.median)} | ${fmt(p.peerUs.median)} | ${p.oursOpsPerSec.toLocaleString("en-US")} | ${p.peerOpsPerSec.toLocaleString("en-US")} | ${fmt(p.ratio.median, 2)}× (${fmt(p.ratio.min, 2)}–${fmt(p.ratio.max, 2)}) |`,
		),
		"",
		`Geometric mean of the median ratios over ${result.geometricMeanOver.join(", ")}: **${fmt(result.geometricMeanRatio, 2)}×** (ratio = peer time / our time; > 1 means we are faster).`,
		"",
	];
	return lines.join("\n");
}

/**
 * A suite's Markdown: its own `markdown` when a benchmark stored one (metrics suites such as the daemon's, whose
 * numbers are not A/B pairs), else the standard pair table.
 */
function renderSuite(suite: SuiteResult & { markdown?: unknown }): string {
	return typeof suite.markdown === "string"
		? `${suite.markdown.trimEnd()}\n`
		: formatSuite(suite);
}

interface Report {
	generatedAt: string;
	node: string;
	cpu: string;
	cpus: number;
	suites: Record<string, SuiteResult>;
}

/**
 * Adds a suite's results to `<dir>/latest.json` (other suites kept) and regenerates `<dir>/latest.md` from it,
 * so running several bench files builds one report. Returns the paths written.
 */
export function writeReport(
	result: SuiteResult,
	dir: string,
): { json: string; markdown: string } {
	mkdirSync(dir, { recursive: true });
	const jsonPath = path.join(dir, "latest.json");
	let suites: Record<string, SuiteResult> = {};
	try {
		suites =
			(JSON.parse(readFileSync(jsonPath, "utf8")) as Report).suites ?? {};
	} catch (error: unknown) {
		if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
			process.stderr.write(
				`bench: ignoring unreadable ${jsonPath}: ${String(error)}\n`,
			);
		}
	}
	suites[result.suite] = result;
	const report: Report = {
		generatedAt: new Date().toISOString(),
		node: process.version,
		cpu: os.cpus()[0]?.model ?? "unknown",
		cpus: os.cpus().length,
		suites,
	};
	writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
	const markdownPath = path.join(dir, "latest.md");
	const header = `# Benchmark results\n\nGenerated ${report.generatedAt} on Node ${report.node}, ${report.cpus} × ${report.cpu}. Run with \`npm run bench\`.\n\n`;
	writeFileSync(
		markdownPath,
		header + Object.values(suites).map(renderSuite).join("\n"),
	);
	return { json: jsonPath, markdown: markdownPath };
}
