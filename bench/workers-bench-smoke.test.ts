import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { removeBundles } from "./support/child-process.js";
import { ensureLoadGenerators } from "./support/load-generators.js";
import { writeMetricsReport } from "./support/metrics-report.js";
import { runWorkers, type WorkersData } from "./support/workers-suite.js";

// The many-cores benchmark in smoke mode (about 15 s), so it cannot rot: a real single-process daemon and real
// node:cluster daemons (1 and 2 workers, both scheduling policies) under wrk/h2load. No performance thresholds
// (the 2-core machine is shared and noisy): only that every configuration answered and that connections handed
// out round-robin reached both workers. Full runs: `npm run bench -- workers`.
const outDir = mkdtempSync(path.join(os.tmpdir(), "workers-bench-smoke-"));
const tools = ensureLoadGenerators(false);
const haveTools = tools.wrk && tools.h2load;

afterAll(() => {
	rmSync(outDir, { recursive: true, force: true });
	removeBundles();
});

describe("workers benchmark (smoke)", () => {
	if (!haveTools)
		process.stderr.write(
			"workers benchmark smoke NOT RUN: wrk and h2load (nghttp2-client) are not installed\n",
		);
	(haveTools ? it : it.skip)(
		"measures the single process against node:cluster workers",
		async () => {
			const suite = await runWorkers({ smoke: true });
			const data = suite.data as WorkersData;
			expect(data.configs).toHaveLength(4);
			expect(data.cases).toEqual([
				"Connect JSON, HTTP/1.1",
				"gRPC, h2c",
				"OFREP single, HTTP/1.1",
			]);
			for (let c = 0; c < data.cases.length; c++)
				for (let k = 0; k < data.configs.length; k++) {
					const samples = data.samples[`${c}/${k}`] ?? [];
					expect(samples).toHaveLength(1);
					expect(samples[0]?.rps).toBeGreaterThan(0);
					expect(samples[0]?.workerCpuMs).toHaveLength(
						k === 0 ? 0 : k === 1 ? 1 : 2,
					);
				}
			// 32 wrk connections handed out round-robin by the primary: both workers served some.
			const roundRobin = data.samples["0/2"]?.[0]?.workerCpuMs ?? [];
			for (const ms of roundRobin) expect(ms).toBeGreaterThan(0);
			expect(data.shipping).toHaveLength(1);
			expect(data.shipping[0]?.roundTripMs.advanced).toHaveLength(3);
			expect(data.shipping[0]?.bytes).toBeGreaterThan(1000);
			const written = writeMetricsReport(suite, outDir);
			expect(readFileSync(written.markdown, "utf8")).toContain(
				"req per daemon CPU-s",
			);
		},
		120_000,
	);
});
