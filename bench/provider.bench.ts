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
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os, { loadavg, tmpdir } from "node:os";
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
	ProviderEvents,
} from "@openfeature/server-sdk";
import { loopbackDaemonArgs } from "../test/support/daemon-argv.js";
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
	/** Sync port (flagd.sync.v1) of the real daemon; undefined for the fake flagd, which has none. */
	syncPort?: number;
	/** The daemon's flag file (the in-process bench rewrites it). */
	file?: string;
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
			...loopbackDaemonArgs(),
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
		const ports = await new Promise<[number, number]>((resolve, reject) => {
			const timer = setTimeout(
				() => reject(new Error("no 'flagd started' within 20 s")),
				20_000,
			);
			const lines = createInterface({ input: child.stdout });
			lines.on("line", (line) => {
				if (!line.includes('"flagd started"')) return;
				clearTimeout(timer);
				const started = JSON.parse(line) as {
					evaluation?: unknown;
					sync?: unknown;
				};
				resolve([
					Number(new URL(String(started.evaluation)).port),
					Number(new URL(String(started.sync)).port),
				]);
			});
			child.once("exit", (code) =>
				reject(new Error(`daemon exited with ${code}`)),
			);
		});
		return {
			port: ports[0],
			syncPort: ports[1],
			file,
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
	batchSize?: number,
): Promise<Measured[]> {
	const n = batchSize ?? (flag === "cached" ? CACHED_BATCH : UNCACHED_BATCH);
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
	const inMemory = contenders.find((c) => c.name === "in-memory");
	const inProcessReport =
		server.syncPort === undefined ||
		server.file === undefined ||
		inMemory === undefined
			? "### in-process\n\nskipped: the real daemon did not start (the fake flagd has no sync service)\n"
			: await inProcessBench(
					{ syncPort: server.syncPort, file: server.file },
					inMemory,
				);
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
	const latencyReport = `${lines.join("\n")}\n${inProcessReport}`;
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

/** A document of `count` flags, half static and half targeted; `generation` changes every flag. */
function largeDocument(count: number, generation: number): string {
	const flags: Record<string, unknown> = {};
	for (let i = 0; i < count; i++) {
		flags[`flag-${i}`] = {
			state: "ENABLED",
			variants: { a: `a-${generation}`, b: "b" },
			defaultVariant: generation % 2 === 0 ? "a" : "b",
			...(i % 2 === 0
				? {
						targeting: {
							if: [{ "==": [{ var: "tier" }, `gold-${i}`] }, "b", null],
						},
					}
				: {}),
		};
	}
	return JSON.stringify({ flags: { ...FLAGS.flags, ...flags } });
}

/** Resolves on the next CONFIGURATION_CHANGED of `client` (bounded). */
function nextChange(client: Client, timeoutMs = 60_000): Promise<void> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error("no CONFIGURATION_CHANGED")),
			timeoutMs,
		);
		const handler = (): void => {
			clearTimeout(timer);
			client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
			resolve();
		};
		client.addHandler(ProviderEvents.ConfigurationChanged, handler);
	});
}

/** Writes like an editor saving (temp file renamed over the original). */
function saveFile(file: string, text: string): void {
	const temp = `${file}.tmp`;
	writeFileSync(temp, text);
	renameSync(temp, file);
}

/**
 * In-process section: evaluations/s of the in-process and file resolvers (ours, compiled and interpreted),
 * @openfeature/flagd-provider in in-process mode on the same daemon, and InMemoryProvider; then the time to apply a
 * 10,000-flag update and the latency from a file write to CONFIGURATION_CHANGED.
 */
async function inProcessBench(
	server: { syncPort: number; file: string },
	inMemory: Contender,
): Promise<string> {
	const base = { host: "127.0.0.1", env: {}, logger: silent } as const;
	const fileDir = mkdtempSync(path.join(tmpdir(), "provider-bench-file-"));
	const flagFile = path.join(fileDir, "flags.json");
	writeFileSync(flagFile, JSON.stringify(FLAGS));
	const oursInProcess = new FlagdProvider({
		...base,
		port: server.syncPort,
		resolver: "in-process",
	});
	const peerInProcess = new PeerFlagdProvider(
		{
			host: "127.0.0.1",
			port: server.syncPort,
			resolverType: "in-process",
		},
		silent,
	);
	const contenders = [
		await register("ours-in-process", oursInProcess),
		await register(
			"ours-in-process-interpreted",
			new FlagdProvider({
				...base,
				port: server.syncPort,
				resolver: "in-process",
				evaluatorMode: "interpreted",
			}),
		),
		await register(
			"ours-file",
			new FlagdProvider({
				env: {},
				logger: silent,
				resolver: "file",
				offlineFlagSourcePath: flagFile,
			}),
		),
		await register("flagd-provider-0.16.1-in-process", peerInProcess),
		inMemory,
	];
	const staticFlag = await measure(contenders, "cached", CACHED_BATCH);
	const targeting = await measure(contenders, "uncached", CACHED_BATCH);
	const median = (m: Measured): number => 1e6 / stats(m.batchUs).median;
	const find = (list: Measured[], name: string): Measured => {
		const m = list.find((x) => x.name === name);
		if (!m) throw new Error(`no result for ${name}`);
		return m;
	};
	const lines = [
		`### in-process evaluation (${ROUNDS} interleaved rounds of ${CACHED_BATCH}; daemon sync port; load ${loadText()})`,
		"",
		"| flag | provider | evals/s (median batch) | p50 µs | p99 µs |",
		"|---|---|---:|---:|---:|",
	];
	for (const [label, list] of [
		["static", staticFlag],
		["targeting", targeting],
	] as const) {
		for (const m of list) {
			lines.push(
				`| ${label} | ${m.name} | ${Math.round(median(m)).toLocaleString("en-US")} | ${percentile(m.latenciesUs, 50).toFixed(1)} | ${percentile(m.latenciesUs, 99).toFixed(1)} |`,
			);
		}
	}
	const peer = "flagd-provider-0.16.1-in-process";
	const targetingVsPeer =
		median(find(targeting, "ours-in-process")) / median(find(targeting, peer));
	const staticVsMemory =
		median(find(staticFlag, "ours-in-process")) /
		median(find(staticFlag, "in-memory"));
	const p50 = (list: Measured[], name: string): number =>
		percentile(find(list, name).latenciesUs, 50);
	lines.push(
		"",
		`Targets (ours in-process, compiled): targeting ≥ 2× flagd-provider in-process → **${targetingVsPeer.toFixed(2)}×** (by p50 latency ${(p50(targeting, peer) / p50(targeting, "ours-in-process")).toFixed(2)}×); static ≥ 90 % of InMemoryProvider → **${(staticVsMemory * 100).toFixed(0)} %** (by p50 latency ${((p50(staticFlag, "in-memory") / p50(staticFlag, "ours-in-process")) * 100).toFixed(0)} %).`,
		"",
	);

	// The providers' own cost, without the SDK's per-call work (hooks, context merge, event plumbing) around it.
	const direct = await measureDirect([
		{ name: "ours-in-process", provider: oursInProcess },
		{ name: peer, provider: peerInProcess },
	]);
	const directOurs = find(direct, "ours-in-process");
	const directPeer = find(direct, peer);
	lines.push(
		`Provider alone (\`resolveStringEvaluation\` on the targeting flag, awaited, no SDK): ours ${Math.round(median(directOurs)).toLocaleString("en-US")} evals/s (p50 ${percentile(directOurs.latenciesUs, 50).toFixed(2)} µs), flagd-provider in-process ${Math.round(median(directPeer)).toLocaleString("en-US")} evals/s (p50 ${percentile(directPeer.latenciesUs, 50).toFixed(2)} µs) → **${(median(directOurs) / median(directPeer)).toFixed(2)}×**.`,
		"",
	);

	// 10,000-flag updates: every flag changes each time (half of them targeted).
	const updates = smoke ? 2 : 5;
	const [ours, oursFile, peerClient] = [
		"ours-in-process",
		"ours-file",
		peer,
	].map((name) => contenders.find((c) => c.name === name)?.client) as [
		Client,
		Client,
		Client,
	];
	const updateMs: Record<string, number[]> = {
		"ours-file (file write → CONFIGURATION_CHANGED)": [],
		"ours-in-process (daemon file write → daemon → sync → CONFIGURATION_CHANGED)":
			[],
		"flagd-provider-0.16.1-in-process (same path)": [],
	};
	const [fileKey, oursKey, peerKey] = Object.keys(updateMs) as [
		string,
		string,
		string,
	];
	for (let g = 1; g <= updates; g++) {
		const text = largeDocument(10_000, g);
		let started = performance.now();
		const fileChanged = nextChange(oursFile);
		saveFile(flagFile, text);
		await fileChanged;
		updateMs[fileKey]?.push(performance.now() - started);
		const oursChanged = nextChange(ours).then(() =>
			updateMs[oursKey]?.push(performance.now() - started),
		);
		const peerChanged = nextChange(peerClient).then(() =>
			updateMs[peerKey]?.push(performance.now() - started),
		);
		started = performance.now();
		saveFile(server.file, text);
		await Promise.all([oursChanged, peerChanged]);
	}
	lines.push(
		`### 10,000-flag update (${updates} updates, every flag changed; load ${loadText()})`,
		"",
		"| path | median ms | max ms |",
		"|---|---:|---:|",
	);
	for (const [name, values] of Object.entries(updateMs)) {
		lines.push(
			`| ${name} | ${percentile(values, 50).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`,
		);
	}

	// Small edits: file write → CONFIGURATION_CHANGED at the provider.
	saveFile(flagFile, JSON.stringify(FLAGS));
	await nextChange(oursFile);
	const writes = smoke ? 20 : 200;
	const latencies: number[] = [];
	for (let i = 0; i < writes; i++) {
		const doc = structuredClone(FLAGS) as {
			flags: Record<string, { variants: Record<string, unknown> }>;
		};
		(
			doc.flags["static-flag"] as { variants: Record<string, unknown> }
		).variants.extra = i;
		const changed = nextChange(oursFile);
		const started = performance.now();
		saveFile(flagFile, JSON.stringify(doc));
		await changed;
		latencies.push(performance.now() - started);
	}
	lines.push(
		"",
		`### file write → CONFIGURATION_CHANGED (${writes} saves by rename; load ${loadText()})`,
		"",
		`p50 **${percentile(latencies, 50).toFixed(1)} ms**, p99 **${percentile(latencies, 99).toFixed(1)} ms** (target p99 < 50 ms), max ${Math.max(...latencies).toFixed(1)} ms.`,
		"",
	);
	rmSync(fileDir, { recursive: true, force: true });
	return lines.join("\n");
}

/** Direct `resolveStringEvaluation` calls on the targeting flag, interleaved rounds like {@link measure}. */
async function measureDirect(
	providers: ReadonlyArray<{ name: string; provider: Provider }>,
): Promise<Measured[]> {
	const results = providers.map(
		(p) => ({ name: p.name, batchUs: [], latenciesUs: [] }) as Measured,
	);
	const run = async (index: number, n: number, into?: Measured) => {
		const { name, provider } = providers[index] as {
			name: string;
			provider: Provider;
		};
		const started = process.hrtime.bigint();
		for (let i = 0; i < n; i++) {
			const t0 = process.hrtime.bigint();
			const details = await provider.resolveStringEvaluation(
				"targeted-flag",
				"none",
				CONTEXT,
				silent,
			);
			if (details.value !== "fast")
				throw new Error(`${name}: direct evaluation failed`);
			into?.latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
		}
		into?.batchUs.push(Number(process.hrtime.bigint() - started) / 1000 / n);
	};
	for (let i = 0; i < providers.length; i++) await run(i, WARMUP);
	for (let round = 0; round < ROUNDS; round++) {
		for (let k = 0; k < providers.length; k++) {
			const idx = (round + k) % providers.length;
			await run(idx, CACHED_BATCH, results[idx]);
		}
	}
	return results;
}

/** `uptime`'s load averages: the machine is shared, so figures are read beside them. */
function loadText(): string {
	return os
		.loadavg()
		.map((l) => l.toFixed(2))
		.join(" / ");
}

main().catch((err: unknown) => {
	process.stderr.write(
		`bench provider failed: ${String(err instanceof Error ? err.stack : err)}\n`,
	);
	process.exit(1);
});
