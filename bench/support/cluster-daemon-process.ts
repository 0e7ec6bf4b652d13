/**
 * Measuring prototype for the "many cores" question (bench/workers.bench.ts), NOT a product mode:
 * `node cluster-daemon-process.mjs --source <file> --workers <n> [--sched rr|none]`.
 *
 * The primary forks `n` node:cluster workers; each runs the real daemon (startDaemon, same flag file, every port 0
 * on 127.0.0.1). Under cluster a worker's `listen(0)` is forwarded to the primary, which binds one socket per
 * (address, port, index) and hands the same port to every worker that listens in the same order, so all workers
 * serve the same four ports. `--sched rr` (Linux default, SCHED_RR): the primary accepts every connection and
 * passes it to a worker round-robin over IPC; `--sched none`: the workers accept from the shared socket
 * themselves (the kernel picks). Each worker watches the flag file itself here: the product design would sync once
 * in the primary and ship the state (see docs/performance.md, "Many cores").
 *
 * Prints one JSON line when every worker is ready: `{"event":"ready","pid","workerPids","ports",...}`.
 * SIGTERM closes every worker gracefully, then the primary exits.
 */
import cluster, { type Worker } from "node:cluster";
import { parseArgs } from "node:util";
import { startDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import type { DaemonReadyLine } from "./daemon-process.js";
import { cliDaemonConfig, warningsLogger } from "./start-cli-daemon.js";

/** The primary's ready line: the daemon's, plus the workers' pids (for CPU time from /proc). */
export interface ClusterReadyLine extends DaemonReadyLine {
	readonly workerPids: readonly number[];
}

interface WorkerReady {
	readonly kind: "ready";
	readonly ports: DaemonReadyLine["ports"];
	readonly readyMs: number;
}

const { values } = parseArgs({
	options: {
		source: { type: "string" },
		workers: { type: "string", default: "2" },
		sched: { type: "string", default: "rr" },
	},
});

async function runWorker(): Promise<void> {
	const source = values.source;
	if (source === undefined) throw new Error("--source <file> is required");
	const started = performance.now();
	const daemon = await startDaemon(cliDaemonConfig({ sources: [source] }), {
		logger: warningsLogger(),
	});
	await daemon.ready;
	const message: WorkerReady = {
		kind: "ready",
		ports: {
			evaluation: daemon.ports.evaluation ?? 0,
			ofrep: daemon.ports.ofrep,
			sync: daemon.ports.sync ?? 0,
			management: daemon.ports.management,
		},
		readyMs: performance.now() - started,
	};
	process.send?.(message);
	process.on("message", (m: unknown) => {
		if (m === "close")
			daemon.close().then(
				() => process.exit(0),
				() => process.exit(1),
			);
	});
	// The primary relays SIGTERM as a "close" message; a terminal's SIGINT reaches the whole group.
	process.on("SIGTERM", () => undefined);
	process.on("SIGINT", () => undefined);
}

async function runPrimary(): Promise<void> {
	cluster.schedulingPolicy =
		values.sched === "none" ? cluster.SCHED_NONE : cluster.SCHED_RR;
	const count = Number(values.workers);
	if (!Number.isInteger(count) || count < 1)
		throw new Error(`--workers must be a positive integer: ${values.workers}`);
	const started = performance.now();
	const workers: Worker[] = [];
	const readies: Promise<WorkerReady>[] = [];
	let stopping = false;
	for (let i = 0; i < count; i++) {
		const worker = cluster.fork();
		workers.push(worker);
		readies.push(
			new Promise((resolve, reject) => {
				worker.on("message", (m: WorkerReady) => {
					if (m.kind === "ready") resolve(m);
				});
				worker.once("exit", (code) => {
					if (!stopping) reject(new Error(`worker exited (${code})`));
				});
			}),
		);
	}
	const ready = await Promise.all(readies);
	const ports = ready[0]?.ports;
	if (ports === undefined) throw new Error("no worker");
	for (const r of ready)
		if (JSON.stringify(r.ports) !== JSON.stringify(ports))
			throw new Error(
				`workers bound different ports: ${JSON.stringify(ready.map((x) => x.ports))}`,
			);
	const stop = (): void => {
		if (stopping) return;
		stopping = true;
		let left = workers.length;
		for (const w of workers) {
			w.once("exit", () => {
				left--;
				if (left === 0) process.exit(0);
			});
			w.send("close");
		}
	};
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
	const memory = process.memoryUsage();
	const line: ClusterReadyLine = {
		event: "ready",
		pid: process.pid,
		workerPids: workers.map((w) => w.process.pid ?? 0),
		ports,
		readyMs: performance.now() - started,
		heapUsedBytes: memory.heapUsed,
		heapTotalBytes: memory.heapTotal,
		externalBytes: memory.external,
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

(cluster.isPrimary ? runPrimary() : runWorker()).catch((e: unknown) => {
	process.stderr.write(
		`cluster-daemon-process failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
	);
	process.exit(1);
});
