/**
 * Many OFREP SSE subscribers (`GET /ofrep/v1/sse`) for the OFREP propagation benchmark: one HTTP/1.1 connection
 * each (as every browser tab holds its own), each stream parsed with eventsource-parser. The subscribers are spread
 * over worker threads so that parsing 1,000 deliveries is not serialised on the measuring thread's event loop: each
 * worker timestamps an event when its bytes are parsed with the process-wide wall clock in sub-millisecond
 * resolution (`performance.timeOrigin + performance.now()`), and the latency is that minus the mark taken, on the
 * same clock, just before the flag file is written.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";

export interface SseSubscriberGroupOptions {
	readonly port: number;
	readonly count: number;
	/** Request path, e.g. `/ofrep/v1/sse`. */
	readonly path: string;
	/** Worker threads the subscribers are spread over. @default min(count, 4) */
	readonly workers?: number;
}

/** The wall clock every thread of the process shares, in ms with sub-ms resolution. */
export const sharedNowMs = (): number =>
	performance.timeOrigin + performance.now();

type WorkerMessage =
	| { type: "open" }
	| { type: "events"; at: number[] }
	| { type: "error"; message: string };

/**
 * One worker's subscribers (plain JavaScript run with `eval`, so it works the same bundled and under Jest). It
 * reports each opened stream, the arrival times of `refetchEvaluation` events (batched per turn of its event loop)
 * and failures; a "close" message destroys every connection and ends the worker.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const { createParser } = require(workerData.parserPath);
const now = () => performance.timeOrigin + performance.now();
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const requests = [];
let closing = false;
let batch = [];
const flush = () => {
	const at = batch;
	batch = [];
	parentPort.postMessage({ type: "events", at });
};
for (let i = 0; i < workerData.count; i++) {
	const req = http.get({ host: "127.0.0.1", port: workerData.port, path: workerData.path, agent });
	requests.push(req);
	req.on("error", (e) => {
		if (!closing) parentPort.postMessage({ type: "error", message: e.message });
	});
	req.on("response", (res) => {
		if (res.statusCode !== 200) {
			parentPort.postMessage({ type: "error", message: "status " + res.statusCode });
			res.resume();
			return;
		}
		let first = true;
		const parser = createParser({
			onEvent: (event) => {
				if (JSON.parse(event.data).type !== "refetchEvaluation") return;
				if (batch.length === 0) setImmediate(flush);
				batch.push(now());
			},
		});
		res.setEncoding("utf8");
		res.on("data", (chunk) => {
			// The stream's first bytes (an id line) mean it is subscribed.
			if (first) {
				first = false;
				parentPort.postMessage({ type: "open" });
			}
			parser.feed(chunk);
		});
		res.on("end", () => {
			if (!closing) parentPort.postMessage({ type: "error", message: "stream ended by the server" });
		});
	});
}
parentPort.on("message", (message) => {
	if (message !== "close") return;
	closing = true;
	let left = requests.length;
	const done = () => {
		if (--left > 0) return;
		agent.destroy();
		parentPort.close();
	};
	if (left === 0) { left = 1; done(); return; }
	for (const req of requests) {
		req.once("close", done);
		req.destroy();
	}
});
`;

/** A set of open SSE subscribers spread over worker threads. */
export class SseSubscriberGroup {
	readonly count: number;
	readonly workers: number;
	private readonly threads: Worker[] = [];
	private readonly exited: Promise<void>[] = [];
	private openCount = 0;
	private markAt = 0;
	private pending: number[] = [];
	private readonly failures: string[] = [];

	constructor(options: SseSubscriberGroupOptions) {
		this.count = options.count;
		const workers = Math.max(1, Math.min(options.count, options.workers ?? 4));
		this.workers = workers;
		const parserPath = createRequire(
			path.join(process.cwd(), "package.json"),
		).resolve("eventsource-parser");
		for (let w = 0; w < workers; w++) {
			// Spread evenly: the first `count % workers` workers take one more.
			const share =
				Math.floor(options.count / workers) +
				(w < options.count % workers ? 1 : 0);
			const worker = new Worker(WORKER_SOURCE, {
				eval: true,
				workerData: {
					port: options.port,
					path: options.path,
					count: share,
					parserPath,
				},
			});
			worker.on("message", (message: WorkerMessage) => this.onMessage(message));
			worker.on("error", (e) => this.failures.push(e.message));
			this.exited.push(
				new Promise((resolve) => worker.once("exit", () => resolve())),
			);
			this.threads.push(worker);
		}
	}

	private onMessage(message: WorkerMessage): void {
		if (message.type === "open") this.openCount++;
		else if (message.type === "error") this.failures.push(message.message);
		else for (const at of message.at) this.pending.push(at - this.markAt);
	}

	/** Subscribers whose stream is open. */
	get ready(): number {
		return this.openCount;
	}

	get errors(): readonly string[] {
		return this.failures;
	}

	/** Starts a change measurement: the latencies collected next are relative to now. */
	mark(): void {
		this.markAt = sharedNowMs();
		this.pending = [];
	}

	/** Event deliveries since the last mark, in ms after it. */
	get received(): readonly number[] {
		return this.pending;
	}

	/** Closes every connection and waits until every worker has ended. */
	async close(): Promise<void> {
		for (const worker of this.threads) worker.postMessage("close");
		const bound = setTimeout(() => {
			for (const worker of this.threads) void worker.terminate();
		}, 10_000);
		await Promise.all(this.exited);
		clearTimeout(bound);
	}
}
