/**
 * Bytes the daemon allocates per request, by where: `node --import tsx bench/support/allocation-profile.ts
 * [--case connect-h2c|grpc-h2c|connect-h1|ofrep-single|ofrep-bulk] [--requests N] [--duration-s S] [--top N]
 * [--json]`.
 *
 * Starts the daemon in this process as the `flagd` command does (start-cli-daemon.ts: young-generation cap,
 * optimizer paused while loading) serving the throughput document, warms it up with one run of the case's load,
 * then samples allocations with V8's sampling heap profiler (inspector `HeapProfiler.startSampling`, one sample per
 * ~512 bytes, objects collected by minor and major GCs included, so short-lived request garbage counts) while the
 * throughput benchmark's load generator (throughput-cases.ts) sends the case's requests: N with h2load; wrk has no
 * request count, so `connect-h1` runs for `--duration-s`. Prints Markdown tables of bytes per completed request:
 * by module, by innermost frame from packages/ (allocations by Node, V8 or a dependency charged to the nearest
 * daemon frame on the stack) and top frames by self bytes (allocation-summary.ts); `--json` prints the summary as
 * one JSON line instead.
 *
 * Allocation per request does not depend on CPU speed, so unlike req/s it is steady on a busy machine; the
 * sampling profiler's estimate varies by a few percent from run to run. TypeScript lines come from the source maps
 * tsx registers; a V8 frame's line is where its function starts. Under tsx the young generation is already 2 MiB
 * per semi-space when the cap applies (the report says which), which changes how often V8 collects, not how much
 * the daemon allocates. Everything else this process allocates during the run (reading h2load's output) is counted
 * too, and is negligible against thousands of requests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { findSourceMap } from "node:module";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import v8 from "node:v8";
import {
	allocationTables,
	type LocateFrame,
	summarizeAllocations,
} from "./allocation-summary.js";
import { throughputDocument } from "./flag-documents.js";
import { renderTable } from "./metrics-report.js";
import { startCliDaemon } from "./start-cli-daemon.js";

const CASE_IDS = [
	"connect-h2c",
	"grpc-h2c",
	"connect-h1",
	"ofrep-single",
	"ofrep-bulk",
] as const;
const SAMPLING_INTERVAL_BYTES = 512;

/** Source lines of transpiled TypeScript through the source maps tsx registers (undefined: keep the position). */
const sourceMapLocate: LocateFrame = (url, lineNumber, columnNumber) => {
	if (!url.startsWith("file://")) return undefined;
	const entry = findSourceMap(url)?.findEntry(lineNumber, columnNumber);
	if (entry === undefined || !("originalSource" in entry)) return undefined;
	return { url: entry.originalSource, lineNumber: entry.originalLine };
};

function positive(name: string, value: string): number {
	const n = Number(value);
	if (!Number.isInteger(n) || n <= 0)
		throw new Error(`--${name} must be a positive integer, got "${value}"`);
	return n;
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			case: { type: "string", default: "connect-h2c" },
			requests: { type: "string", default: "10000" },
			"duration-s": { type: "string", default: "3" },
			top: { type: "string", default: "15" },
			json: { type: "boolean", default: false },
		},
	});
	const caseId = values.case;
	const known: readonly string[] = CASE_IDS;
	if (!known.includes(caseId))
		throw new Error(
			`--case must be one of ${CASE_IDS.join(", ")}, got "${caseId}"`,
		);
	const requests = positive("requests", values.requests);
	const durationS = positive("duration-s", values["duration-s"]);
	const top = positive("top", values.top);
	const dir = mkdtempSync(path.join(os.tmpdir(), "bench-allocation-"));
	try {
		const flagFile = path.join(dir, "flags.json");
		writeFileSync(flagFile, JSON.stringify(throughputDocument()));
		// First, as `flagd` does: the young-generation cap applies before the load cases' clients are loaded.
		const { daemon } = await startCliDaemon({ sources: [flagFile] });
		try {
			const { ensureLoadGenerators } = await import("./load-generators.js");
			const { loadCases } = await import("./throughput-cases.js");
			const loadCase = loadCases(dir, false, requests).find(
				(c) => c.id === caseId,
			);
			if (loadCase === undefined) throw new Error(`no load case ${caseId}`);
			if (!ensureLoadGenerators(false)[loadCase.tool])
				throw new Error(
					`${loadCase.tool} is not installed (apt-get install ${loadCase.tool === "wrk" ? "wrk" : "nghttp2-client"})`,
				);
			const target = {
				evaluationPort: daemon.ports.evaluation ?? 0,
				ofrepPort: daemon.ports.ofrep,
			};
			const timed = loadCase.tool === "wrk" ? durationS : undefined;
			await loadCase.run(target, timed);
			const session = new Session();
			session.connect();
			let result: Awaited<ReturnType<typeof loadCase.run>>;
			let head: Parameters<typeof summarizeAllocations>[0];
			try {
				await session.post("HeapProfiler.enable");
				await session.post("HeapProfiler.startSampling", {
					samplingInterval: SAMPLING_INTERVAL_BYTES,
					includeObjectsCollectedByMajorGC: true,
					includeObjectsCollectedByMinorGC: true,
				});
				result = await loadCase.run(target, timed);
				head = (await session.post("HeapProfiler.stopSampling")).profile.head;
			} finally {
				session.disconnect();
			}
			const summary = summarizeAllocations(
				head,
				result.completed,
				top,
				sourceMapLocate,
			);
			if (values.json) {
				process.stdout.write(
					`${JSON.stringify({ case: caseId, ...summary })}\n`,
				);
				return;
			}
			const semiSpaceMiB =
				(v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")
					?.space_size ?? 0) /
				2 /
				1048576;
			const what = `${loadCase.name} (\`${loadCase.concurrency}\`)`;
			process.stdout.write(
				[
					`## Allocation profile: ${what}`,
					"",
					`Node ${process.version}; young generation ${semiSpaceMiB.toFixed(1)} MiB per semi-space; sampling interval ${SAMPLING_INTERVAL_BYTES} bytes, objects collected by minor and major GC included; ${result.completed.toLocaleString("en-US")} requests after a warm-up run.`,
					"",
					...allocationTables(summary, loadCase.name).map(renderTable),
				].join("\n"),
			);
		} finally {
			await daemon.close();
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

main().then(
	() => process.exit(0),
	(e: unknown) => {
		process.stderr.write(
			`allocation-profile failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
		);
		process.exit(1);
	},
);
