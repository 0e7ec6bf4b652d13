/**
 * Command-line arguments every daemon benchmark takes, as scripts/bench.mjs passes them:
 * `--smoke` (seconds-long run), `--out <dir>` (where latest.{json,md} go; default bench/results) and
 * `--profile` (also record a `node --cpu-prof` profile of the daemon where the benchmark supports it) and
 * `--gc-tally` (count garbage collections in the servers where the benchmark supports it; the count costs CPU).
 */
import path from "node:path";

export interface BenchArgs {
	readonly smoke: boolean;
	readonly outDir: string;
	readonly profile: boolean;
	readonly gcTally: boolean;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
	const outIndex = argv.indexOf("--out");
	const out = outIndex >= 0 ? argv[outIndex + 1] : undefined;
	if (outIndex >= 0 && (out === undefined || out.startsWith("--")))
		throw new Error("--out needs a directory");
	return {
		smoke: argv.includes("--smoke"),
		outDir: path.resolve(out ?? path.join("bench", "results")),
		profile: argv.includes("--profile"),
		gcTally: argv.includes("--gc-tally"),
	};
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
	if (samples.length === 0) return Number.NaN;
	const sorted = [...samples].sort((a, b) => a - b);
	const rank = Math.min(
		sorted.length - 1,
		Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
	);
	return sorted[rank] as number;
}

/** Polls `condition` every `intervalMs` until it holds; throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
	condition: () => boolean,
	timeoutMs: number,
	what: string,
	intervalMs = 2,
): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!condition()) {
		if (performance.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, intervalMs));
	}
}

export function formatInt(n: number): string {
	return Math.round(n).toLocaleString("en-US");
}

export function formatMiB(bytes: number): string {
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
