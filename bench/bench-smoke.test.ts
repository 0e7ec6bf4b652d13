import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { HEADLINE_CASES, runEvaluatorBench } from "./evaluator-suite.js";
import {
	formatSuite,
	geometricMean,
	resolveBenchOptions,
	runPairs,
	stats,
	writeReport,
} from "./harness.js";

// Runs the benchmarks in smoke mode so they cannot rot: every pair must run and produce sane numbers, and the
// report files must be written. No performance threshold here (the 2-core CI machine is noisy); the full run's
// numbers are in bench/results/latest.md.
const outDir = mkdtempSync(path.join(os.tmpdir(), "bench-smoke-"));

function runPairsStub(suite: string) {
	return runPairs(
		{ suite, ours: "a", peer: "b" },
		[{ name: "noop", ours: () => 1, peer: () => 2 }],
		{ smoke: true, runs: 1, warmupMs: 1, batchMs: 1 },
	);
}

afterAll(() => {
	rmSync(outDir, { recursive: true, force: true });
});

describe("bench harness", () => {
	it("computes median/min/max and geometric means", () => {
		expect(stats([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
		expect(stats([4, 1, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4 });
		expect(geometricMean([2, 8])).toBeCloseTo(4, 10);
	});

	it("renders a suite's own markdown (metrics suites) and keeps other suites when merging", () => {
		const dir = mkdtempSync(path.join(outDir, "merge-"));
		const metrics = {
			...runPairsStub("metrics"),
			markdown: "### metrics: custom table\n",
		};
		writeReport(metrics, dir);
		const written = writeReport(runPairsStub("pairs"), dir);
		const markdown = readFileSync(written.markdown, "utf8");
		expect(markdown).toContain("### metrics: custom table");
		expect(markdown).toContain("### pairs: a vs b");
		expect(
			Object.keys(JSON.parse(readFileSync(written.json, "utf8")).suites),
		).toEqual(["metrics", "pairs"]);
	});

	it("resolves options field by field and rejects nonsense", () => {
		expect(resolveBenchOptions({ smoke: true, runs: 5 })).toEqual({
			warmupMs: 20,
			runs: 5,
			batchMs: 4,
			smoke: true,
		});
		expect(() => resolveBenchOptions({ runs: 0 })).toThrow(RangeError);
	});
});

describe("evaluator benchmark (smoke)", () => {
	it("measures every case against flagd-core and writes the report", () => {
		const result = runEvaluatorBench({ smoke: true });
		expect(result.pairs.map((p) => p.name)).toEqual([
			...HEADLINE_CASES,
			"ref",
			"sem_ver (distinct versions)",
		]);
		for (const pair of result.pairs) {
			expect(pair.oursUs.median).toBeGreaterThan(0);
			expect(pair.peerUs.median).toBeGreaterThan(0);
			expect(Number.isFinite(pair.ratio.median)).toBe(true);
			expect(pair.ratio.min).toBeLessThanOrEqual(pair.ratio.max);
		}
		expect(Number.isFinite(result.geometricMeanRatio)).toBe(true);
		const written = writeReport(result, outDir);
		expect(
			JSON.parse(readFileSync(written.json, "utf8")).suites.evaluator.pairs,
		).toHaveLength(6);
		expect(readFileSync(written.markdown, "utf8")).toContain(
			formatSuite(result).split("\n")[0],
		);
	});
});
