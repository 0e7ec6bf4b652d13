import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "@jest/globals";
import {
	NO_OWN_FRAME,
	type SamplingHeapProfileNode,
	summarizeAllocations,
} from "./support/allocation-summary.js";
import { writeAnswersFile } from "./support/bare-answers.js";
import { startBenchDaemon } from "./support/bench-daemon.js";
import { removeBundles, startChild } from "./support/child-process.js";
import { throughputDocument } from "./support/flag-documents.js";
import {
	DAEMON_YOUNG_GENERATION_NODE_ARGS,
	type GcTally,
	gcTallyEnv,
	readGcTally,
} from "./support/gc-tally.js";
import type { LayerCeilingReadyLine } from "./support/layer-ceiling-server.js";
import { ensureLoadGenerators } from "./support/load-generators.js";
import { startBareCeiling } from "./support/start-bare-ceiling.js";
import { loadCases } from "./support/throughput-cases.js";

// The GC-tally wiring of the bench's server processes and the allocation profile tool, in smoke mode: real
// processes and real load (h2load), no performance thresholds; only that the figures exist and are plausible.
// Full use: `node --import tsx bench/support/daemon-variants-ab.ts` and
// `node --import tsx bench/support/allocation-profile.ts --case <case>`.
afterAll(() => {
	removeBundles();
});

const h2load = ensureLoadGenerators(false).h2load;
const withH2load = h2load ? it : it.skip;
if (!h2load)
	process.stderr.write(
		"gc-allocation smoke: h2load is not installed; its tests are skipped\n",
	);

function frame(
	functionName: string,
	url: string,
	selfSize: number,
	children: SamplingHeapProfileNode[] = [],
): SamplingHeapProfileNode {
	return {
		callFrame: { functionName, url, lineNumber: 9, columnNumber: 0 },
		selfSize,
		children,
	};
}

describe("allocation summary", () => {
	it("charges Node and dependency allocations to the innermost own frame", () => {
		const own = "file:///w/packages/daemon/src/api/handler.ts";
		const head = frame("(root)", "", 0, [
			frame("onIncoming", "node:_http_server", 300, [
				frame("handle", own, 1000, [
					frame(
						"toBinary",
						"file:///w/node_modules/@bufbuild/protobuf/x.js",
						0,
						[frame("Buffer", "node:buffer", 500)],
					),
					frame("render", "file:///w/packages/daemon/src/api/render.ts", 200),
				]),
			]),
			frame("(GC)", "", 100),
		]);
		const summary = summarizeAllocations(head, 10);
		expect(summary.bytesPerRequest).toBe(210);
		expect(summary.ownBytesPerRequest).toBe(170);
		expect(summary.byOwnFrame).toEqual([
			{
				name: "handle",
				where: "packages/daemon/src/api/handler.ts:10",
				bytesPerRequest: 150,
			},
			{ name: NO_OWN_FRAME, where: "", bytesPerRequest: 40 },
			{
				name: "render",
				where: "packages/daemon/src/api/render.ts:10",
				bytesPerRequest: 20,
			},
		]);
		expect(summary.topFrames[0]).toEqual({
			name: "handle",
			where: "packages/daemon/src/api/handler.ts:10",
			bytesPerRequest: 100,
		});
		expect(summary.byModule).toEqual([
			{ module: "@flagd-ts/daemon", bytesPerRequest: 120 },
			{ module: "node internals", bytesPerRequest: 80 },
			{ module: "(GC)", bytesPerRequest: 10 },
		]);
		// Source-mapped positions replace the executed ones.
		const mapped = summarizeAllocations(head, 10, 1, (url, line) => ({
			url: url.replace(".ts", ".src.ts"),
			lineNumber: line + 100,
		}));
		expect(mapped.byOwnFrame[0]?.where).toBe(
			"packages/daemon/src/api/handler.src.ts:110",
		);
		expect(() => summarizeAllocations(head, 0)).toThrow(RangeError);
	});
});

describe("GC tallies and allocation profile (smoke)", () => {
	withH2load(
		"the daemon and the bare and layer servers count young-generation GCs, which grow under load",
		async () => {
			const dir = mkdtempSync(path.join(os.tmpdir(), "gc-tally-smoke-"));
			const stops: (() => Promise<unknown>)[] = [];
			try {
				const daemon = await startBenchDaemon({
					flagFile: path.join(dir, "flags.json"),
					document: throughputDocument(),
					gcTally: true,
				});
				stops.push(() => daemon.stop());
				const answersFile = path.join(dir, "answers.json");
				await writeAnswersFile(answersFile, {
					evaluationPort: daemon.ports.evaluation,
					ofrepPort: daemon.ports.ofrep,
				});
				// At the daemon's 1 MiB semi-spaces, 600 requests of several KB each must fill the young generation.
				const bare = await startBareCeiling(answersFile, {
					nodeArgs: DAEMON_YOUNG_GENERATION_NODE_ARGS,
				});
				stops.push(() => bare.stop());
				const layers = await startChild<LayerCeilingReadyLine>({
					script: "bench/support/layer-ceiling-server.ts",
					args: ["--answers", answersFile],
					nodeArgs: DAEMON_YOUNG_GENERATION_NODE_ARGS,
					env: gcTallyEnv(),
				});
				stops.push(() => layers.stop());
				const h2c = loadCases(dir, true).find((c) => c.id === "connect-h2c");
				if (h2c === undefined) throw new Error("no connect-h2c case");
				const servers: {
					name: string;
					tally: () => Promise<GcTally>;
					h2cPort: number;
				}[] = [
					{
						name: "daemon",
						tally: () => daemon.gcTally(),
						h2cPort: daemon.ports.evaluation,
					},
					{
						name: "bare",
						tally: () => bare.tally(),
						h2cPort: bare.target.h2cPort ?? 0,
					},
					{
						name: "layers",
						tally: () => readGcTally(layers),
						h2cPort: layers.ready.ports.listener,
					},
				];
				for (const server of servers) {
					const before = await server.tally();
					for (const value of Object.values(before)) {
						expect(typeof value).toBe("number");
						expect(value).toBeGreaterThanOrEqual(0);
					}
					const result = await h2c.run(
						{ evaluationPort: server.h2cPort, ofrepPort: server.h2cPort },
						undefined,
					);
					expect(result.completed).toBe(600);
					const after = await server.tally();
					expect({
						server: server.name,
						grew: after.minor > before.minor,
					}).toEqual({ server: server.name, grew: true });
					expect(after.minorMs).toBeGreaterThan(before.minorMs);
					expect(after.major).toBeGreaterThanOrEqual(before.major);
					expect(after.semiSpaceBytes).toBeGreaterThan(0);
					// The servers started with the daemon's young generation hold it (V8 may shrink it when idle).
					if (server.name !== "daemon")
						expect(after.semiSpaceBytes).toBeLessThanOrEqual(1024 * 1024);
				}
			} finally {
				for (const stop of stops.reverse()) await stop();
				rmSync(dir, { recursive: true, force: true });
			}
		},
		60_000,
	);

	withH2load(
		"the allocation profile tool reports plausible bytes per request",
		async () => {
			const { stdout } = await promisify(execFile)(
				process.execPath,
				[
					"--import",
					"tsx",
					"bench/support/allocation-profile.ts",
					"--case",
					"ofrep-single",
					"--requests",
					"600",
					"--json",
				],
				{ timeout: 60_000 },
			);
			const summary = JSON.parse(stdout.trim()) as {
				case: string;
				requests: number;
				bytesPerRequest: number;
				ownBytesPerRequest: number;
				byOwnFrame: { name: string; where: string }[];
			};
			expect(summary.case).toBe("ofrep-single");
			expect(summary.requests).toBe(600);
			// An OFREP request takes kilobytes (parsing, answer, socket writes), never a megabyte.
			expect(summary.bytesPerRequest).toBeGreaterThan(1024);
			expect(summary.bytesPerRequest).toBeLessThan(1024 * 1024);
			expect(summary.ownBytesPerRequest).toBeGreaterThan(0);
			expect(summary.ownBytesPerRequest).toBeLessThanOrEqual(
				summary.bytesPerRequest,
			);
			expect(
				summary.byOwnFrame.some((f) => f.where.startsWith("packages/daemon/")),
			).toBe(true);
		},
		90_000,
	);
});
