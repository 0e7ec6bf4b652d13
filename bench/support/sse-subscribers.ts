/**
 * Many OFREP SSE subscribers (`GET /ofrep/v1/sse`) in one process, for the OFREP propagation benchmark: one HTTP/1.1
 * connection each (as every browser tab holds its own), the stream parsed with eventsource-parser, and the arrival
 * of each `refetchEvaluation` recorded relative to a mark set just before the flag file is written.
 */
import http from "node:http";
import { createParser } from "eventsource-parser";

export interface SseSubscriberGroupOptions {
	readonly port: number;
	readonly count: number;
	/** Request path, e.g. `/ofrep/v1/sse`. */
	readonly path: string;
}

/** A set of open SSE subscribers. */
export class SseSubscriberGroup {
	readonly count: number;
	private readonly agent = new http.Agent({
		keepAlive: false,
		maxSockets: Number.POSITIVE_INFINITY,
	});
	private readonly requests: http.ClientRequest[] = [];
	private readonly closed: Promise<void>[] = [];
	private openCount = 0;
	private markAt = 0;
	private pending: number[] = [];
	private readonly failures: string[] = [];
	private closing = false;

	constructor(options: SseSubscriberGroupOptions) {
		this.count = options.count;
		for (let i = 0; i < options.count; i++) this.open(options);
	}

	private open(options: SseSubscriberGroupOptions): void {
		const req = http.get({
			host: "127.0.0.1",
			port: options.port,
			path: options.path,
			agent: this.agent,
		});
		this.requests.push(req);
		this.closed.push(
			new Promise((resolve) => {
				req.once("close", () => resolve());
			}),
		);
		req.on("error", (e) => {
			if (!this.closing) this.failures.push(e.message);
		});
		req.on("response", (res) => {
			if (res.statusCode !== 200) {
				this.failures.push(`status ${res.statusCode}`);
				res.resume();
				return;
			}
			let first = true;
			const parser = createParser({
				onEvent: (event) => {
					if (JSON.parse(event.data).type === "refetchEvaluation")
						this.pending.push(performance.now() - this.markAt);
				},
			});
			res.setEncoding("utf8");
			res.on("data", (chunk: string) => {
				// The stream's first bytes (an id line) mean it is subscribed.
				if (first) {
					first = false;
					this.openCount++;
				}
				parser.feed(chunk);
			});
			res.on("end", () => {
				if (!this.closing) this.failures.push("stream ended by the server");
			});
		});
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
		this.markAt = performance.now();
		this.pending = [];
	}

	/** Event deliveries since the last mark, in ms after it. */
	get received(): readonly number[] {
		return this.pending;
	}

	/** Closes every connection and waits until all are closed. */
	async close(): Promise<void> {
		this.closing = true;
		for (const req of this.requests) req.destroy();
		await Promise.all(this.closed);
		this.agent.destroy();
	}
}
