/**
 * Client CPU per uncached evaluation, by layer: sequential ResolveBoolean calls (a targeting flag) against the
 * daemon in its own process, for our provider over gRPC and over Connect (HTTP/2), and for
 * @openfeature/flagd-provider 0.16.1 (grpc-js). Reports p50 latency and client CPU µs per call
 * (`process.cpuUsage()`, so the daemon's work is not counted): CPU is what the provider costs the application and
 * is far less sensitive to a loaded machine than wall-clock latency. Rounds are interleaved.
 *
 * Run: `npm run bench -- provider-transport` (or `-- provider-transport --smoke`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import {
	createGrpcTransport,
	Http2SessionManager,
} from "@connectrpc/connect-node";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import { FlagdProvider } from "@flagd-ts/provider";
import { FlagdProvider as PeerFlagdProvider } from "@openfeature/flagd-provider";
import type { Logger } from "@openfeature/server-sdk";
import { startBenchDaemon } from "./support/bench-daemon.js";
import {
	THROUGHPUT_CONTEXT,
	THROUGHPUT_FLAG,
	throughputDocument,
} from "./support/flag-documents.js";

const smoke = process.argv.includes("--smoke");
// `--only <n>`: measure contender n alone (for a CPU profile of one client: node --cpu-prof on the compiled bench).
const onlyIndex = process.argv.indexOf("--only");
const only = onlyIndex >= 0 ? Number(process.argv[onlyIndex + 1]) : Number.NaN;
const ROUNDS = smoke ? 2 : 7;
const CALLS = smoke ? 200 : 1500;
const WARMUP = smoke ? 100 : 1000;
const silent: Logger = {
	error: () => {},
	warn: () => {},
	info: () => {},
	debug: () => {},
};

interface Row {
	name: string;
	p50: number[];
	cpu: number[];
}

type Resolve = () => Promise<unknown>;

async function round(
	resolve: Resolve,
	calls: number,
): Promise<{ p50: number; cpuUs: number }> {
	const lat: number[] = [];
	const cpu0 = process.cpuUsage();
	for (let i = 0; i < calls; i++) {
		const t = performance.now();
		await resolve();
		lat.push((performance.now() - t) * 1000);
	}
	const cpu = process.cpuUsage(cpu0);
	lat.sort((a, b) => a - b);
	return {
		p50: lat[Math.floor(lat.length / 2)] as number,
		cpuUs: (cpu.user + cpu.system) / calls,
	};
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
	const load0 = loadavg()[0] as number;
	const dir = mkdtempSync(path.join(tmpdir(), "provider-transport-bench-"));
	const flagFile = path.join(dir, "flags.json");
	writeFileSync(flagFile, JSON.stringify(throughputDocument()));
	const daemon = await startBenchDaemon({
		flagFile,
		document: throughputDocument(),
	});
	let rows: Row[] = [];
	try {
		const port = daemon.ports.evaluation;
		const common = {
			host: "127.0.0.1",
			port,
			env: {},
			logger: silent,
			cache: "disabled" as const,
			// Generous: connecting on a loaded machine can take longer than the default 500 ms.
			deadlineMs: 5000,
		};
		const ours = new FlagdProvider({ ...common, transport: "grpc" });
		const oursConnect = new FlagdProvider({
			...common,
			transport: "connect",
			httpVersion: "2",
		});
		const peer = new PeerFlagdProvider(
			{ host: "127.0.0.1", port, cache: "disabled", deadlineMs: 5000 },
			silent,
		);
		await Promise.all([
			ours.initialize(),
			oursConnect.initialize(),
			peer.initialize(),
		]);
		const ctx = THROUGHPUT_CONTEXT;
		// connect-node's own gRPC transport for unary calls too (what the provider uses without grpc-unary-transport.ts).
		const baseUrl = `http://127.0.0.1:${port}`;
		const sessionManager = new Http2SessionManager(baseUrl);
		const plain = createClient(
			EvaluationServiceV2,
			createGrpcTransport({ baseUrl, sessionManager }),
		);
		const contenders: Array<[string, Resolve]> = [
			[
				"ours gRPC (grpc-unary-transport on connect-node's session manager)",
				() => ours.resolveBooleanEvaluation(THROUGHPUT_FLAG, false, ctx),
			],
			[
				"connect-node gRPC transport, generated client (raw call, no provider)",
				() =>
					plain.resolveBoolean(
						{ flagKey: THROUGHPUT_FLAG, context: ctx },
						{ timeoutMs: 5000 },
					),
			],
			[
				"ours Connect h2 (connect-node)",
				() => oursConnect.resolveBooleanEvaluation(THROUGHPUT_FLAG, false, ctx),
			],
			[
				"flagd-provider 0.16.1 (grpc-js)",
				() =>
					peer.resolveBooleanEvaluation(THROUGHPUT_FLAG, false, ctx, silent),
			],
		];
		if (!Number.isNaN(only))
			contenders.splice(
				0,
				contenders.length,
				contenders[only] as [string, Resolve],
			);
		rows = contenders.map(([name]) => ({ name, p50: [], cpu: [] }));
		for (const [, r] of contenders) await round(r, WARMUP);
		for (let k = 0; k < ROUNDS; k++) {
			for (let j = 0; j < contenders.length; j++) {
				const i = (j + k) % contenders.length;
				const [, r] = contenders[i] as [string, Resolve];
				const res = await round(r, CALLS);
				(rows[i] as Row).p50.push(res.p50);
				(rows[i] as Row).cpu.push(res.cpuUs);
			}
		}
		await Promise.all([ours.onClose(), oursConnect.onClose(), peer.onClose()]);
		sessionManager.abort();
	} finally {
		await daemon.stop();
	}
	rmSync(dir, { recursive: true, force: true });
	const load1 = loadavg()[0] as number;
	const peerRow = rows[rows.length - 1] as Row; // the peer, unless --only
	const lines = [
		`### provider-transport: client CPU per uncached evaluation (${smoke ? "smoke" : "full"}, ${ROUNDS} interleaved rounds of ${CALLS} sequential calls)`,
		"",
		`Load average (1 min) at start/end: ${load0.toFixed(2)} / ${load1.toFixed(2)}.`,
		"",
		"| client | p50 µs (median of rounds) | p50 / peer | client CPU µs per call | CPU / peer |",
		"|---|---:|---:|---:|---:|",
		...rows.map(
			(r) =>
				`| ${r.name} | ${median(r.p50).toFixed(0)} | ${(median(r.p50) / median(peerRow.p50)).toFixed(2)}× | ${median(r.cpu).toFixed(0)} | ${(median(r.cpu) / median(peerRow.cpu)).toFixed(2)}× |`,
		),
	];
	process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((err: unknown) => {
	process.stderr.write(
		`bench provider-transport failed: ${String(err instanceof Error ? err.stack : err)}\n`,
	);
	process.exit(1);
});
