/**
 * Interleaved A/B of daemon process variants (V8 flags) on the unary Connect/gRPC throughput cases:
 * `node --import tsx bench/support/daemon-variants-ab.ts [--runs 5] [--duration-s 2.5] [--warm-s 2] [--cases 3 | id,id] [--variants a,b,...]`.
 *
 * Every variant is its own daemon process (bench/support/daemon-process.ts) serving the throughput document, and
 * one bare node:http / node:http2 ceiling answers the daemon's recorded bytes. Each run loads every (case,
 * variant) pair once, the variant order rotating run by run, and reads the server's CPU time from /proc: the
 * figure is server CPU µs per request and bare ÷ daemon per run (steady on a shared machine where req/s are not).
 * After the runs it prints each variant's RSS. Variants: `capped` (flagd's young-generation cap, as shipped),
 * `uncapped` (`--v8-defaults`), `capped+<flag>[+<flag>…]` (the cap plus node/V8 flags, e.g. `capped+--no-parallel-scavenge`), `semi<N>` (node `--max-semi-space-size=N`, which leaves the cap off), `min<N>`
 * (the young generation fixed at N MiB per semi-space), `src=<dir>` (flagd's cap, the daemon built from another
 * checkout's sources, e.g. `git archive` of a base commit with node_modules linked: before/after comparisons of
 * code changes in one interleaved run) and `src-uncapped=<dir>` (the same without the cap). `--layers` adds the
 * servers between the bare ceiling and the daemon (layer-ceiling-server.ts: node:http2's compatibility API, and the
 * daemon's listener, each answering the recorded bytes); `--layers-capped` runs them with the daemon's young
 * generation instead of V8's defaults, so their GC counts compare with the capped daemon's.
 *
 * Beside the bare ceiling at V8's defaults (the reference of every ratio), a second bare ceiling runs with the
 * daemon's young generation (1 MiB per semi-space, gc-tally.ts DAEMON_YOUNG_GENERATION_NODE_ARGS): what bare
 * node:http / node:http2 does under the same cap. Every server keeps a GC tally (gc-tally.ts), and the table gives
 * each side's young-generation collections per 1,000 requests: at the same semi-space size, a load-independent
 * measure of how much the server allocates per request.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { stats } from "../harness.js";
import { writeAnswersFile } from "./bare-answers.js";
import { type BenchDaemon, startBenchDaemon } from "./bench-daemon.js";
import { startChild } from "./child-process.js";
import { throughputDocument } from "./flag-documents.js";
import {
	DAEMON_YOUNG_GENERATION_NODE_ARGS,
	formatGcCounts,
	type GcRun,
	type GcTally,
	gcRun,
	gcTallyEnv,
	readGcTally,
} from "./gc-tally.js";
import type { LayerCeilingReadyLine } from "./layer-ceiling-server.js";
import { loadAverage1m, readCpuTimeMs } from "./proc-stats.js";
import { startBareCeiling } from "./start-bare-ceiling.js";
import { type Endpoints, loadCases } from "./throughput-cases.js";

const { values } = parseArgs({
	options: {
		runs: { type: "string", default: "5" },
		"duration-s": { type: "string", default: "2.5" },
		// Load on the same side right before each measured run, discarded (see daemon-throughput-suite.ts).
		"warm-s": { type: "string", default: "2" },
		variants: { type: "string", default: "capped,uncapped,semi2,semi4" },
		cases: { type: "string", default: "3" },
		// Also the layers between the bare ceiling and the daemon (layer-ceiling-server.ts).
		layers: { type: "boolean", default: false },
		// The layer servers with the daemon's young generation (implies --layers).
		"layers-capped": { type: "boolean", default: false },
	},
});
const runs = Number(values.runs);
const durationS = Number(values["duration-s"]);
const warmS = Number(values["warm-s"]);
const variantNames = (values.variants ?? "").split(",");

function daemonOptions(variant: string): {
	v8Defaults: boolean;
	nodeArgs: string[];
	script?: string;
} {
	// `src=<dir>` and, without flagd's young-generation cap, `src-uncapped=<dir>`.
	const src = /^src(-uncapped)?=(.+)$/.exec(variant);
	if (src !== null)
		return {
			v8Defaults: src[1] !== undefined,
			nodeArgs: [],
			// startChild takes scripts relative to the repo root (the cwd).
			script: path.relative(
				process.cwd(),
				path.resolve(src[2] as string, "bench/support/daemon-process.ts"),
			),
		};
	if (variant === "capped") return { v8Defaults: false, nodeArgs: [] };
	// `capped+<node flag>[+<node flag>…]`: flagd's cap with extra node/V8 flags (`capped+--no-parallel-scavenge`).
	if (variant.startsWith("capped+"))
		return { v8Defaults: false, nodeArgs: variant.split("+").slice(1) };
	if (variant === "uncapped") return { v8Defaults: true, nodeArgs: [] };
	// `min<N>`: the young generation fixed at N MiB per semi-space (grown at start, never past it).
	const min = /^min(\d+)$/.exec(variant);
	if (min !== null)
		return {
			v8Defaults: false,
			nodeArgs: [
				`--min-semi-space-size=${min[1]}`,
				`--max-semi-space-size=${min[1]}`,
			],
		};
	const semi = /^semi(\d+)$/.exec(variant);
	if (semi !== null)
		return {
			v8Defaults: false,
			nodeArgs: [`--max-semi-space-size=${semi[1]}`],
		};
	throw new Error(`unknown variant ${variant}`);
}

/** One measured server; `tally` reads its GC running totals (gc-tally.ts). */
interface Side {
	readonly name: string;
	readonly pid: number;
	readonly target: Endpoints;
	readonly tally: () => Promise<GcTally>;
}

/**
 * The two layer servers as sides: node:http2's compatibility API (HTTP/1.1 cases on the bare node:http server,
 * which has no such layer) and the daemon's listener, both answering the recorded bytes.
 */
async function layerSides(
	answersFile: string,
	stops: (() => Promise<unknown>)[],
	capped: boolean,
): Promise<Side[]> {
	const layers = await startChild<LayerCeilingReadyLine>({
		script: "bench/support/layer-ceiling-server.ts",
		args: ["--answers", answersFile],
		nodeArgs: capped ? DAEMON_YOUNG_GENERATION_NODE_ARGS : [],
		env: gcTallyEnv(),
	});

	const tally = () => readGcTally(layers);
	stops.push(() => layers.stop());
	const { compat, listener } = layers.ready.ports;
	return [
		{
			name: capped
				? "compat API (h2c only, capped like the daemon)"
				: "compat API (h2c only)",
			pid: layers.ready.pid,
			target: {
				evaluationPort: listener,
				ofrepPort: listener,
				h2cPort: compat,
			},
			tally,
		},
		{
			name: capped
				? "daemon listener (capped like the daemon)"
				: "daemon listener",
			pid: layers.ready.pid,
			target: { evaluationPort: listener, ofrepPort: listener },
			tally,
		},
	];
}

const loadStart = loadAverage1m();
const dir = mkdtempSync(path.join(os.tmpdir(), "bench-variants-"));
const flagFile = path.join(dir, "flags.json");
// `--cases N`: the first N unary cases; `--cases connect-h2c,grpc-h2c`: those.
const allCases = loadCases(dir, false);
const cases = /^\d+$/.test(values.cases)
	? allCases.slice(0, Number(values.cases))
	: values.cases.split(",").map((id) => {
			const c = allCases.find((x) => x.id === id);
			if (c === undefined)
				throw new Error(
					`--cases: no case ${id} (${allCases.map((x) => x.id).join(", ")})`,
				);
			return c;
		});
const daemons: BenchDaemon[] = [];
const stops: (() => Promise<unknown>)[] = [];
try {
	for (const v of variantNames) {
		const d = await startBenchDaemon({
			flagFile,
			document: throughputDocument(),
			...daemonOptions(v),
			gcTally: true,
		});
		daemons.push(d);
		stops.push(() => d.stop());
	}
	const first = daemons[0] as BenchDaemon;
	const answersFile = path.join(dir, "bare-answers.json");
	await writeAnswersFile(answersFile, {
		evaluationPort: first.ports.evaluation,
		ofrepPort: first.ports.ofrep,
	});
	const startBare = async (nodeArgs: readonly string[]) => {
		const bare = await startBareCeiling(answersFile, { nodeArgs });
		stops.push(() => bare.stop());
		return { pid: bare.pid, target: bare.target, tally: bare.tally };
	};
	const sides: Side[] = [
		...daemons.map((d, i) => ({
			name: variantNames[i] as string,
			pid: d.pid,
			target: { evaluationPort: d.ports.evaluation, ofrepPort: d.ports.ofrep },
			tally: () => d.gcTally(),
		})),
		...(values.layers || values["layers-capped"]
			? await layerSides(answersFile, stops, values["layers-capped"] === true)
			: []),
		{
			name: "bare (young generation capped like the daemon)",
			...(await startBare(DAEMON_YOUNG_GENERATION_NODE_ARGS)),
		},
		// Last: the reference of every ratio.
		{ name: "bare", ...(await startBare([])) },
	];
	// A side whose process keeps no tally (a `src=` checkout older than gc-tally.ts) is asked once, then not again.
	const untallied = new Set<number>();
	const readTally = async (si: number): Promise<GcTally | undefined> => {
		if (untallied.has(si)) return undefined;
		try {
			return await (sides[si] as Side).tally();
		} catch (e) {
			untallied.add(si);
			process.stderr.write(
				`${(sides[si] as Side).name}: no GC tally (${e instanceof Error ? e.message : String(e)})\n`,
			);
			return undefined;
		}
	};
	// cpu[case][side] = µs per request per run; rps and young-generation GCs per 1,000 requests likewise.
	const cpu = cases.map(() => sides.map(() => [] as number[]));
	const rps = cases.map(() => sides.map(() => [] as number[]));
	const gcs = cases.map(() => sides.map(() => [] as GcRun[]));
	for (let run = 0; run < runs; run++) {
		for (const [ci, c] of cases.entries()) {
			const order = sides.map((_, i) => (i + run) % sides.length);
			if (run % 2 === 1) order.reverse();
			for (const si of order) {
				const s = sides[si] as Side;
				if (warmS > 0) await c.run(s.target, warmS);
				const tallyBefore = await readTally(si);
				const before = readCpuTimeMs(s.pid);
				const r = await c.run(s.target, durationS);
				cpu[ci]?.[si]?.push(
					((readCpuTimeMs(s.pid) - before) * 1000) / r.completed,
				);
				rps[ci]?.[si]?.push(r.requestsPerSec);
				const tallyAfter =
					tallyBefore === undefined ? undefined : await readTally(si);
				if (tallyBefore !== undefined && tallyAfter !== undefined)
					gcs[ci]?.[si]?.push(gcRun(tallyBefore, tallyAfter, r.completed));
			}
		}
		process.stderr.write(`run ${run + 1}/${runs} done\n`);
	}
	const bareIndex = sides.length - 1;
	const fmt = (xs: number[], f: (n: number) => string) => {
		if (xs.length === 0) return "–";
		const q = stats(xs);
		return `${f(q.median)} (${f(q.min)}–${f(q.max)})`;
	};
	const lines = [
		`load average 1m: ${loadStart.toFixed(2)} → ${loadAverage1m().toFixed(2)}; ${runs} runs × ${durationS} s per side, each after ${warmS} s of the same load (discarded)`,
		`| case | variant | CPU µs/req | bare ÷ daemon CPU | req/s | daemon ÷ bare req/s | CPU ÷ ${variantNames[0]} CPU | young-gen GCs per 1,000 requests, semi-space size |`,
		"|---|---|---|---|---|---|---|---|",
	];
	for (const [ci, c] of cases.entries()) {
		const bareCpu = cpu[ci]?.[bareIndex] ?? [];
		const bareRps = rps[ci]?.[bareIndex] ?? [];
		for (const [si, s] of sides.entries()) {
			const mine = cpu[ci]?.[si] ?? [];
			const myRps = rps[ci]?.[si] ?? [];
			lines.push(
				`| ${c.name} | ${s.name} | ${fmt(mine, (n) => n.toFixed(1))} | ${fmt(
					mine.map((us, i) => (bareCpu[i] ?? 0) / us),
					(n) => `${(n * 100).toFixed(0)} %`,
				)} | ${fmt(myRps, (n) => n.toFixed(0))} | ${fmt(
					myRps.map((r, i) => r / (bareRps[i] ?? 1)),
					(n) => `${(n * 100).toFixed(0)} %`,
				)} | ${fmt(
					mine.map((us, i) => us / (cpu[ci]?.[0]?.[i] ?? 1)),
					(n) => `${(n * 100).toFixed(0)} %`,
				)} | ${formatGcCounts(gcs[ci]?.[si] ?? [])} |`,
			);
		}
	}
	lines.push(
		"",
		"Ratios are to bare at V8's defaults. Young-gen GCs: scavenges in the server process per 1,000 completed requests (h2load's 0.3 s warm-up included, as in CPU µs/req), and the semi-space size after the runs; counts at the same size compare allocation per request (the daemon starts at 2 MiB per semi-space and drops to 1 MiB once V8 shrinks its young generation, which halves the work a scavenge covers).",
		`RSS after the runs: ${daemons.map((d, i) => `${variantNames[i]} ${(d.rssBytes() / 1048576).toFixed(1)} MiB (peak ${(d.peakRssBytes() / 1048576).toFixed(1)})`).join(", ")}`,
	);
	process.stdout.write(`${lines.join("\n")}\n`);
} finally {
	for (const stop of stops) await stop();
	rmSync(dir, { recursive: true, force: true });
}
