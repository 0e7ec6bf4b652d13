/**
 * Provider benchmark: evaluations through the OpenFeature server SDK client, cached (a STATIC flag) and uncached
 * (a targeting flag, one RPC per evaluation), for our FlagdProvider over gRPC and Connect, for
 * @openfeature/flagd-provider 0.16.1 (grpc-js, RPC mode) against the same server, and for the SDK's
 * InMemoryProvider as the ceiling. Reports evaluations/s and per-evaluation p50/p99 latency.
 *
 * The shared harness (bench/harness.ts) times synchronous batches; provider evaluations are async, so this file
 * measures with its own interleaved loop (each round runs one batch per provider, order rotated) and hands the
 * ours-vs-peer ratios to the harness's report writer. The daemon runs in its own process (as in production);
 * latencies include its work and the loopback round trip, which every provider pays equally.
 *
 * Run: `npm run bench -- provider` (full) or `npm run bench -- provider --smoke`.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { FlagdProvider } from "@flagd-ts/provider";
import { FlagdProvider as PeerFlagdProvider } from "@openfeature/flagd-provider";
import {
	type Client,
	InMemoryProvider,
	type Logger,
	OpenFeature,
	type Provider,
} from "@openfeature/server-sdk";
import { type FakeFlagd, startFakeFlagd } from "../test/support/fake-flagd.js";
import {
	formatSuite,
	type PairResult,
	type Stats,
	stats,
	writeReport,
} from "./harness.js";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const outIndex = args.indexOf("--out");
// The repo root: scripts/bench.mjs runs every bench with cwd = repo root (the compiled bench lives elsewhere).
const here = path.join(process.cwd(), "bench");
const outDir =
	outIndex >= 0 && args[outIndex + 1] !== undefined
		? path.resolve(args[outIndex + 1] as string)
		: path.join(here, "results");

const ROUNDS = smoke ? 3 : 15;
const CACHED_BATCH = smoke ? 500 : 5000;
const UNCACHED_BATCH = smoke ? 50 : 400;
const WARMUP = smoke ? 200 : 2000;

const silent: Logger = {
	error: () => {},
	warn: () => {},
	info: () => {},
	debug: () => {},
};

interface Contender {
	readonly name: string;
	readonly client: Client;
}

interface Measured {
	readonly name: string;
	/** µs per evaluation, one value per batch. */
	readonly batchUs: number[];
	/** Latency of every single evaluation, µs. */
	readonly latenciesUs: number[];
}

const FLAGS = {
	flags: {
		"static-flag": {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
		"targeted-flag": {
			state: "ENABLED",
			variants: { fast: "fast", slow: "slow" },
			defaultVariant: "slow",
			targeting: { if: [{ "==": [{ var: "tier" }, "gold"] }, "fast", null] },
		},
	},
};

/**
 * The real daemon in its own process (`flagd start` from packages/daemon/dist/flagd.mjs, file source), so the
 * client side is measured as in production; the in-test fake flagd if the daemon cannot start.
 */
async function startServer(): Promise<{
	port: number;
	describe: string;
	close: () => Promise<void>;
}> {
	const dir = mkdtempSync(path.join(tmpdir(), "provider-bench-"));
	const file = path.join(dir, "flags.json");
	writeFileSync(file, JSON.stringify(FLAGS));
	// The single-file daemon (`npm run bundle`, the production shape), built afresh and run with plain node.
	const built = spawnSync(
		process.execPath,
		[path.join(here, "..", "scripts", "bundle-daemon.mjs")],
		{ stdio: ["ignore", "ignore", "inherit"] },
	);
	if (built.status !== 0)
		throw new Error(`scripts/bundle-daemon.mjs exited with ${built.status}`);
	const cli = path.join(here, "..", "packages", "daemon", "dist", "flagd.mjs");
	const child = spawn(
		process.execPath,
		[
			cli,
			"start",
			"-p",
			"0",
			"-m",
			"0",
			"-g",
			"0",
			"-r",
			"0",
			"--bind-address",
			"127.0.0.1",
			"-z",
			"json",
			"--uri",
			`file:${file}`,
		],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	const stopChild = async (): Promise<void> => {
		if (child.exitCode === null) {
			const exited = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGTERM");
			await exited;
		}
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		const port = await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(
				() => reject(new Error("no 'flagd started' within 20 s")),
				20_000,
			);
			const lines = createInterface({ input: child.stdout });
			lines.on("line", (line) => {
				if (!line.includes('"flagd started"')) return;
				clearTimeout(timer);
				const evaluation = String(
					(JSON.parse(line) as { evaluation?: unknown }).evaluation,
				);
				resolve(Number(new URL(evaluation).port));
			});
			child.once("exit", (code) =>
				reject(new Error(`daemon exited with ${code}`)),
			);
		});
		return {
			port,
			describe:
				"@flagd-ts/daemon single-file build (dist/flagd.mjs) in a separate process, file source",
			close: stopChild,
		};
	} catch (err: unknown) {
		process.stderr.write(
			`bench provider: daemon did not start (${String(err)}); using the fake flagd\n`,
		);
		await stopChild();
	}
	const flagd: FakeFlagd = await startFakeFlagd({
		flags: {
			"static-flag": { value: true, variant: "on" },
			"targeted-flag": {
				value: undefined,
				targeting: (ctx) => ({
					value: ctx.tier === "gold" ? "fast" : "slow",
					variant: String(ctx.tier),
				}),
			},
		},
	});
	return {
		port: flagd.port,
		describe: "in-process fake flagd (test/support/fake-flagd.ts)",
		close: () => flagd.close(),
	};
}

async function register(name: string, provider: Provider): Promise<Contender> {
	await OpenFeature.setProviderAndWait(name, provider);
	return { name, client: OpenFeature.getClient(name) };
}

const CONTEXT = { targetingKey: "user-1", tier: "gold" };

async function batch(
	c: Contender,
	flag: "cached" | "uncached",
	n: number,
	into?: Measured,
): Promise<void> {
	const started = process.hrtime.bigint();
	for (let i = 0; i < n; i++) {
		const t0 = process.hrtime.bigint();
		const value =
			flag === "cached"
				? await c.client.getBooleanValue("static-flag", false, CONTEXT)
				: await c.client.getStringValue("targeted-flag", "none", CONTEXT);
		if (value === false || value === "none")
			throw new Error(`${c.name}: evaluation failed (${flag})`);
		into?.latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
	}
	into?.batchUs.push(Number(process.hrtime.bigint() - started) / 1000 / n);
}

async function measure(
	contenders: readonly Contender[],
	flag: "cached" | "uncached",
): Promise<Measured[]> {
	const n = flag === "cached" ? CACHED_BATCH : UNCACHED_BATCH;
	const results = contenders.map(
		(c) => ({ name: c.name, batchUs: [], latenciesUs: [] }) as Measured,
	);
	for (const c of contenders)
		await batch(c, flag, flag === "cached" ? WARMUP : WARMUP / 10);
	for (let round = 0; round < ROUNDS; round++) {
		// Rotate the order so no contender always runs right after the same neighbour (GC, JIT, sockets).
		for (let k = 0; k < contenders.length; k++) {
			const idx = (round + k) % contenders.length;
			await batch(contenders[idx] as Contender, flag, n, results[idx]);
		}
	}
	return results;
}

function percentile(values: readonly number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return (
		sorted[
			Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
		] ?? Number.NaN
	);
}

function pair(name: string, ours: Measured, peer: Measured): PairResult {
	const oursUs: Stats = stats(ours.batchUs);
	const peerUs: Stats = stats(peer.batchUs);
	return {
		name,
		oursUs,
		peerUs,
		ratio: stats(
			ours.batchUs.map((o, i) => (peer.batchUs[i] ?? Number.NaN) / o),
		),
		oursOpsPerSec: Math.round(1e6 / oursUs.median),
		peerOpsPerSec: Math.round(1e6 / peerUs.median),
		opsPerBatch: ours.latenciesUs.length / Math.max(1, ours.batchUs.length),
	};
}

async function main(): Promise<void> {
	const loadAtStart = loadavg()[0] as number;
	const server = await startServer();
	// A generous deadline for every contender: connecting on a loaded shared machine can take over 500 ms.
	const common = {
		host: "127.0.0.1",
		port: server.port,
		env: {},
		logger: silent,
		deadlineMs: 5000,
	};
	const contenders = [
		await register(
			"ours-grpc",
			new FlagdProvider({ ...common, transport: "grpc" }),
		),
		await register(
			"ours-connect",
			new FlagdProvider({
				...common,
				transport: "connect",
				httpVersion: "1.1",
			}),
		),
		await register(
			"flagd-provider-0.16.1",
			new PeerFlagdProvider(
				{
					host: "127.0.0.1",
					port: server.port,
					cache: "lru",
					deadlineMs: 5000,
				},
				silent,
			),
		),
		await register(
			"in-memory",
			new InMemoryProvider({
				"static-flag": {
					variants: { on: true, off: false },
					defaultVariant: "on",
					disabled: false,
				},
				"targeted-flag": {
					variants: { fast: "fast", slow: "slow" },
					defaultVariant: "slow",
					disabled: false,
					contextEvaluator: (ctx) => (ctx.tier === "gold" ? "fast" : "slow"),
				},
			}),
		),
	];
	const cached = await measure(contenders, "cached");
	const uncached = await measure(contenders, "uncached");
	await OpenFeature.close();
	await server.close();

	const byName = (list: Measured[], name: string): Measured => {
		const m = list.find((x) => x.name === name);
		if (!m) throw new Error(`no result for ${name}`);
		return m;
	};
	const loadAtEnd = loadavg()[0] as number;
	const lines = [
		`### provider latency (${smoke ? "smoke" : "full"}, ${ROUNDS} interleaved rounds; server: ${server.describe})`,
		"",
		`Load average (1 min) at start/end: ${loadAtStart.toFixed(2)} / ${loadAtEnd.toFixed(2)} (2 cores, shared machine).`,
		"",
		"| mode | provider | evals/s (median batch) | p50 µs | p99 µs |",
		"|---|---|---:|---:|---:|",
	];
	for (const [mode, list] of [
		["cached", cached],
		["uncached", uncached],
	] as const) {
		for (const m of list) {
			const s = stats(m.batchUs);
			lines.push(
				`| ${mode} | ${m.name} | ${Math.round(1e6 / s.median).toLocaleString("en-US")} | ${percentile(m.latenciesUs, 50).toFixed(1)} | ${percentile(m.latenciesUs, 99).toFixed(1)} |`,
			);
		}
	}
	const peer = "flagd-provider-0.16.1";
	const p50 = (list: Measured[], n: string): number =>
		percentile(byName(list, n).latenciesUs, 50);
	const cachedVsPeer =
		1 /
		stats(byName(cached, "ours-grpc").batchUs).median /
		(1 / stats(byName(cached, peer).batchUs).median);
	const cachedVsCeiling =
		1 /
		stats(byName(cached, "ours-grpc").batchUs).median /
		(1 / stats(byName(cached, "in-memory").batchUs).median);
	const uncachedP50 = p50(uncached, "ours-grpc") / p50(uncached, peer);
	lines.push(
		"",
		`Targets (ours over gRPC): cached ≥ 1.5× flagd-provider → **${cachedVsPeer.toFixed(2)}×**; cached ≥ 90 % of InMemoryProvider → **${(cachedVsCeiling * 100).toFixed(0)} %**; uncached p50 ≤ 0.85× flagd-provider → **${uncachedP50.toFixed(2)}×**.`,
		"",
	);
	const latencyReport = lines.join("\n");
	process.stdout.write(`${latencyReport}\n`);

	const suite = {
		suite: "provider",
		ours: "@flagd-ts/provider (gRPC)",
		peer: "@openfeature/flagd-provider 0.16.1",
		mode: smoke ? "smoke" : "full",
		config: { warmupMs: 0, runs: ROUNDS, batchMs: 0, smoke },
		pairs: [
			pair(
				"cached (STATIC → CACHED)",
				byName(cached, "ours-grpc"),
				byName(cached, peer),
			),
			pair(
				"uncached (TARGETING_MATCH, one RPC)",
				byName(uncached, "ours-grpc"),
				byName(uncached, peer),
			),
			pair(
				"uncached over Connect HTTP/1.1",
				byName(uncached, "ours-connect"),
				byName(uncached, peer),
			),
		],
		geometricMeanRatio: Number.NaN,
		geometricMeanOver: [] as string[],
	} as const;
	const ratios = suite.pairs.map((p) => p.ratio.median);
	const result = {
		...suite,
		geometricMeanRatio: Math.exp(
			ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length,
		),
		geometricMeanOver: suite.pairs.map((p) => p.name),
	};
	process.stdout.write(`${formatSuite(result)}\n`);
	const written = writeReport(result, outDir);
	const latencyPath = path.join(outDir, "provider-latency.md");
	writeFileSync(
		latencyPath,
		`# Provider benchmark: latency and throughput\n\n${latencyReport}`,
	);
	process.stdout.write(
		`bench: wrote ${written.markdown}, ${written.json} and ${latencyPath}\n`,
	);
}

main().catch((err: unknown) => {
	process.stderr.write(
		`bench provider failed: ${String(err instanceof Error ? err.stack : err)}\n`,
	);
	process.exit(1);
});
