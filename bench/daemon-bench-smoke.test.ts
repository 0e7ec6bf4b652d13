import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { runPairs, writeReport } from "./harness.js";
import { captureAnswers } from "./support/bare-answers.js";
import { parseBenchArgs, percentile } from "./support/bench-args.js";
import { startBenchDaemon } from "./support/bench-daemon.js";
import { removeBundles, startChild } from "./support/child-process.js";
import { summarizeCpuProfile } from "./support/cpu-profile-summary.js";
import { runDaemonThroughput } from "./support/daemon-throughput-suite.js";
import { scaleDocument, throughputDocument } from "./support/flag-documents.js";
import type { LayerCeilingReadyLine } from "./support/layer-ceiling-server.js";
import { ensureLoadGenerators } from "./support/load-generators.js";
import {
	type MetricsSuite,
	writeMetricsReport,
} from "./support/metrics-report.js";
import { runPropagation } from "./support/propagation-suite.js";
import { runScale } from "./support/scale-suite.js";
import { runSoak } from "./support/soak-suite.js";

// The daemon benchmarks in smoke mode (seconds each), so they cannot rot: real daemon processes, real load
// generators (wrk/h2load) and real EventStream clients; no performance thresholds (the 2-core machine is shared
// and noisy), only that every measurement ran and is sane. Full runs: `npm run bench`.
const outDir = mkdtempSync(path.join(os.tmpdir(), "daemon-bench-smoke-"));
const suites: MetricsSuite[] = [];

afterAll(() => {
	rmSync(outDir, { recursive: true, force: true });
	removeBundles();
});

describe("bench support helpers", () => {
	it("computes nearest-rank percentiles", () => {
		const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
		expect(percentile(samples, 50)).toBe(50);
		expect(percentile(samples, 99)).toBe(99);
		expect(percentile(samples, 100)).toBe(100);
		expect(percentile([7], 99)).toBe(7);
		expect(Number.isNaN(percentile([], 50))).toBe(true);
	});

	it("parses the arguments scripts/bench.mjs passes", () => {
		expect(parseBenchArgs(["--smoke", "--out", "/tmp/x"])).toEqual({
			smoke: true,
			outDir: "/tmp/x",
			profile: false,
			gcTally: false,
		});
		expect(parseBenchArgs(["--gc-tally"]).gcTally).toBe(true);
		expect(parseBenchArgs(["--profile"]).outDir).toBe(
			path.resolve("bench/results"),
		);
		expect(() => parseBenchArgs(["--out"])).toThrow("--out needs a directory");
	});

	it("generates n-flag documents with the three kinds", () => {
		const flags = Object.values(scaleDocument(9).flags);
		expect(flags).toHaveLength(9);
		expect(flags.filter((f) => f.targeting === undefined)).toHaveLength(3);
		expect(
			flags.filter((f) =>
				JSON.stringify(f.targeting ?? "").includes("fractional"),
			),
		).toHaveLength(3);
		expect(() => scaleDocument(-1)).toThrow(RangeError);
	});

	it("shares eight targeting rules, or gives every targeted flag its own", () => {
		const rules = (distinctRules: boolean) =>
			new Set(
				Object.values(scaleDocument(48, { distinctRules }).flags)
					.filter((f) => f.targeting !== undefined)
					.map((f) => JSON.stringify(f.targeting)),
			).size;
		// Rules name their flag's variants, which rotate over four sets: 4 `if` and 4 `fractional` rules shared.
		expect(rules(false)).toBe(8);
		expect(rules(true)).toBe(32);
	});

	it("summarises a CPU profile by self time", () => {
		const file = path.join(outDir, "tiny.cpuprofile");
		const frame = (id: number, functionName: string, url: string) => ({
			id,
			callFrame: {
				functionName,
				url,
				lineNumber: 9,
				columnNumber: 0,
				scriptId: "0",
			},
		});
		writeFileSync(
			file,
			JSON.stringify({
				nodes: [
					frame(1, "(root)", ""),
					frame(2, "(idle)", ""),
					frame(3, "evaluate", "file:///w/packages/evaluator/src/evaluate.ts"),
					frame(
						4,
						"serialize",
						"file:///w/node_modules/@bufbuild/protobuf/dist/cjs/x.js",
					),
				],
				samples: [2, 2, 2, 3, 3, 3, 4],
				timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
				startTime: 0,
				endTime: 7000,
			}),
		);
		const summary = summarizeCpuProfile(file);
		expect(summary.samples).toBe(4);
		expect(summary.busyMs).toBe(4);
		expect(summary.wallMs).toBe(7);
		expect(summary.topFrames[0]).toEqual({
			name: "evaluate",
			where: "packages/evaluator/src/evaluate.ts:10",
			selfPercent: 75,
		});
		expect(summary.byModule).toEqual([
			{ module: "@flagd-ts/evaluator", selfPercent: 75 },
			{ module: "@bufbuild/protobuf", selfPercent: 25 },
		]);
	});
});

describe("daemon benchmarks (smoke)", () => {
	it("measures daemon throughput against the bare node:http / node:http2 ceiling", async () => {
		const tools = ensureLoadGenerators(false);
		const suite = await runDaemonThroughput({ smoke: true, profile: false });
		suites.push(suite);
		const expected = [
			tools.wrk,
			tools.h2load,
			tools.h2load,
			tools.h2load,
			tools.h2load,
		].filter(Boolean).length;
		if (expected < 5)
			process.stderr.write(
				`daemon-throughput smoke: wrk ${tools.wrk}, h2load ${tools.h2load}; missing tools' cases are reported as not measured\n`,
			);
		expect(suite.pairs).toHaveLength(expected);
		for (const pair of suite.pairs) {
			expect(pair.oursOpsPerSec).toBeGreaterThan(0);
			expect(pair.peerOpsPerSec).toBeGreaterThan(0);
			expect(pair.ratio.median).toBeGreaterThan(0);
		}
		expect(suite.markdown).toContain("daemon / bare");
		expect(suite.markdown).toContain("daemon / bare at the same cap");
		// Young-generation GCs per 1,000 requests (gc-tally.ts): the bare server held at 1 MiB semi-spaces collects
		// within any case's smoke load (hundreds of requests of kilobytes each); the daemon's young generation may
		// grow once its request rate lifts the cap (young-generation-governor.ts), so its figure is a count, maybe 0.
		const runs = suite.data as {
			skipped?: string;
			bareCappedRatios: number[];
			daemonGcs: { per1000: number; semiSpaceBytes: number }[];
			bareGcs: { per1000: number; semiSpaceBytes: number }[];
			bareCappedGcs: { per1000: number; semiSpaceBytes: number }[];
		}[];
		for (const r of runs.filter((x) => x.skipped === undefined)) {
			expect(r.daemonGcs[0]?.per1000).toBeGreaterThanOrEqual(0);
			expect(r.bareCappedGcs[0]?.per1000).toBeGreaterThan(0);
			expect(r.bareGcs[0]?.per1000).toBeGreaterThanOrEqual(0);
			// A semi-space size was read with each count (V8's largest is 16 MiB in Node 20).
			for (const g of [r.daemonGcs[0], r.bareCappedGcs[0], r.bareGcs[0]]) {
				expect(g?.semiSpaceBytes).toBeGreaterThan(0);
				expect(g?.semiSpaceBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
			}
			expect(r.bareCappedRatios[0]).toBeGreaterThan(0);
		}
	}, 60_000);

	it("layer servers (compat API, daemon listener) answer the daemon's recorded bytes", async () => {
		const dir = mkdtempSync(path.join(os.tmpdir(), "layer-smoke-"));
		const daemon = await startBenchDaemon({
			flagFile: path.join(dir, "flags.json"),
			document: throughputDocument(),
		});
		try {
			const recorded = await captureAnswers({
				evaluationPort: daemon.ports.evaluation,
				ofrepPort: daemon.ports.ofrep,
			});
			const answersFile = path.join(dir, "answers.json");
			writeFileSync(answersFile, JSON.stringify(recorded));
			const layers = await startChild<LayerCeilingReadyLine>({
				script: "bench/support/layer-ceiling-server.ts",
				args: ["--answers", answersFile],
			});
			try {
				const { compat, listener } = layers.ready.ports;
				const viaListener = await captureAnswers({
					evaluationPort: listener,
					ofrepPort: listener,
				});
				const viaCompat = await captureAnswers({
					evaluationPort: listener,
					ofrepPort: listener,
					h2cPort: compat,
				});
				expect(viaListener).toEqual(recorded);
				expect(viaCompat).toEqual(recorded);
				// The recorded answers are real ones: a flag value in Connect JSON, a gRPC status in the trailers.
				expect(
					Buffer.from(recorded.connectH2c.body, "base64").toString(),
				).toContain('"value"');
				expect(recorded.grpcH2c.trailers).toContainEqual(["grpc-status", "0"]);
			} finally {
				await layers.stop();
			}
		} finally {
			await daemon.stop();
			rmSync(dir, { recursive: true, force: true });
		}
	}, 60_000);

	it("measures propagation to EventStream subscribers", async () => {
		const suite = await runPropagation({ smoke: true });
		suites.push(suite);
		const rows = suite.tables[0]?.rows ?? [];
		expect(rows.map((r) => r[0])).toEqual(["1", "100"]);
		for (const row of rows) {
			const p50 = Number(row[3]);
			// A change takes a read, a parse and a send (a JSON rename skips the debounce), never seconds at 100.
			expect(p50).toBeGreaterThan(0);
			expect(p50).toBeLessThan(5_000);
		}
		// The light subscribers' table (node:http2 + protobuf-es) has its 100-subscriber smoke row too.
		expect((suite.tables[1]?.rows ?? []).map((r) => r[0])).toEqual(["100"]);
		expect(suite.targets).toHaveLength(3);
	}, 60_000);

	it("measures load time, RSS and ResolveAll by flag count", async () => {
		const suite = await runScale({ smoke: true });
		suites.push(suite);
		const { sizes: data, v8Variants } = suite.data as {
			sizes: {
				flags: number;
				rssBytes: number[];
				rssAfterResolveAllBytes: number[];
				loadMs: number[];
				resolveAllMs: number[];
			}[];
			v8Variants: unknown[];
		};
		expect(data.map((d) => d.flags)).toEqual([0, 100, 1000]);
		for (const d of data) {
			expect(d.rssBytes[0]).toBeGreaterThan(10 * 1024 * 1024);
			expect(d.rssAfterResolveAllBytes[0]).toBeGreaterThan(10 * 1024 * 1024);
			expect(d.loadMs[0]).toBeGreaterThan(0);
		}
		expect(v8Variants).toEqual([]);
		expect(data[2]?.resolveAllMs.length).toBe(3);
	}, 60_000);

	it("soaks the daemon and compares RSS and descriptors before/after", async () => {
		const suite = await runSoak({ smoke: true });
		suites.push(suite);
		const data = suite.data as {
			before: { fds: number; rssBytes: number; heapUsedBytes: number };
			after: { fds: number; heapUsedBytes: number };
			summary: {
				unary: number;
				ofrep: number;
				streamsOpened: number;
				changes: number;
				errors: number;
			};
		};
		expect(data.before.fds).toBeGreaterThan(0);
		expect(data.before.heapUsedBytes).toBeGreaterThan(1024 * 1024);
		expect(data.after.heapUsedBytes).toBeGreaterThan(1024 * 1024);
		expect(data.after.fds).toBeGreaterThan(0);
		expect(data.summary.errors).toBe(0);
		expect(data.summary.unary).toBeGreaterThan(0);
		expect(data.summary.ofrep).toBeGreaterThan(0);
		expect(data.summary.streamsOpened).toBeGreaterThan(0);
		expect(data.summary.changes).toBeGreaterThan(0);
	}, 60_000);

	it("merges into the harness report without losing either side", () => {
		expect(suites).toHaveLength(4);
		for (const suite of suites) writeMetricsReport(suite, outDir);
		// A harness-based benchmark writing after ours must keep our entries and still render.
		const trivial = runPairs(
			{ suite: "trivial", ours: "a", peer: "b" },
			[{ name: "noop", ours: () => 1, peer: () => 2 }],
			{
				smoke: true,
				runs: 1,
			},
		);
		const written = writeReport(trivial, outDir);
		const json = JSON.parse(readFileSync(written.json, "utf8")) as {
			suites: Record<string, { markdown?: string }>;
		};
		expect(Object.keys(json.suites).sort()).toEqual([
			"daemon-throughput",
			"propagation",
			"scale",
			"soak",
			"trivial",
		]);
		// Ours again: the Markdown uses each metrics suite's own rendering.
		const again = writeMetricsReport(suites[0] as MetricsSuite, outDir);
		const markdown = readFileSync(again.markdown, "utf8");
		for (const suite of suites) expect(markdown).toContain(suite.markdown);
		expect(markdown).toContain("### trivial: a vs b");
	});
});
