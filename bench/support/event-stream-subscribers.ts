/**
 * Many flagd EventStream subscribers in one process, for the propagation and soak benchmarks. They use the
 * connect-node gRPC transport (what flagd providers use), spread over several HTTP/2 sessions (one transport =
 * one session; `streamsPerSession` streams multiplexed on each), and record when each configuration_change
 * arrives relative to a mark set by the benchmark just before it writes the flag file.
 */
import { setMaxListeners } from "node:events";
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import {
	EventStreamRequestSchema,
	EventStreamResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";

export interface SubscriberGroupOptions {
	readonly port: number;
	readonly count: number;
	/** @default 1000 */
	readonly streamsPerSession?: number;
}

/** A set of open EventStream subscribers. */
export class SubscriberGroup {
	readonly count: number;
	readonly sessions: number;
	private readonly controller = new AbortController();
	private readonly loops: Promise<void>[] = [];
	private readyCount = 0;
	private markAt = 0;
	private pending: number[] = [];
	private readonly failures: string[] = [];

	constructor(options: SubscriberGroupOptions) {
		this.count = options.count;
		// Every stream listens on the one abort signal: that is by design, not a leak.
		setMaxListeners(options.count + 10, this.controller.signal);
		const perSession = options.streamsPerSession ?? 1000;
		this.sessions = Math.max(1, Math.ceil(options.count / perSession));
		const clients = Array.from({ length: this.sessions }, () =>
			createClient(
				EvaluationServiceV1,
				createGrpcTransport({ baseUrl: `http://127.0.0.1:${options.port}` }),
			),
		);
		for (let i = 0; i < options.count; i++) {
			const client = clients[i % clients.length];
			if (client === undefined) throw new Error("no client");
			this.loops.push(this.consume(client));
		}
	}

	private async consume(
		client: ReturnType<typeof createClient<typeof EvaluationServiceV1>>,
	): Promise<void> {
		try {
			for await (const event of client.eventStream(
				{},
				{ signal: this.controller.signal },
			)) {
				if (event.type === "provider_ready") this.readyCount++;
				else if (event.type === "configuration_change")
					this.pending.push(performance.now() - this.markAt);
			}
			if (!this.controller.signal.aborted)
				this.failures.push("stream ended by the server");
		} catch (e: unknown) {
			if (
				this.controller.signal.aborted &&
				ConnectError.from(e).code === Code.Canceled
			)
				return;
			this.failures.push(ConnectError.from(e).message);
		}
	}

	/** Subscribers that have received provider_ready. */
	get ready(): number {
		return this.readyCount;
	}

	/** Errors seen so far (a stream that failed or ended while it should be open). */
	get errors(): readonly string[] {
		return this.failures;
	}

	/** Starts a change measurement: the latencies collected next are relative to now. */
	mark(): void {
		this.markAt = performance.now();
		this.pending = [];
	}

	/** configuration_change deliveries since the last mark, in ms after it. */
	get received(): readonly number[] {
		return this.pending;
	}

	/** Closes every stream (client-side cancel) and waits for the loops to end. */
	async close(): Promise<void> {
		this.controller.abort();
		await Promise.all(this.loops);
	}
}

/**
 * The same subscribers without a client framework: each is one node:http2 request (gRPC, sessions of
 * `streamsPerSession` streams) whose response messages are split at their 5-byte envelope headers and decoded with
 * protobuf-es. It costs the benchmark process a fraction of connect-node's per-stream pipeline, so with thousands of
 * subscribers the latency it measures is mostly the daemon's.
 */
export class LightSubscriberGroup {
	readonly count: number;
	readonly sessions: number;
	private readonly clients: http2.ClientHttp2Session[] = [];
	private readyCount = 0;
	private markAt = 0;
	private pending: number[] = [];
	private readonly failures: string[] = [];
	private closing = false;

	constructor(options: SubscriberGroupOptions) {
		this.count = options.count;
		const perSession = options.streamsPerSession ?? 1000;
		this.sessions = Math.max(1, Math.ceil(options.count / perSession));
		for (let i = 0; i < this.sessions; i++) {
			const session = http2.connect(`http://127.0.0.1:${options.port}`);
			session.on("error", (e: Error) => {
				if (!this.closing) this.failures.push(`session: ${e.message}`);
			});
			this.clients.push(session);
		}
		const request = Buffer.from(
			encodeEnvelope(
				0,
				toBinary(EventStreamRequestSchema, create(EventStreamRequestSchema)),
			),
		);
		for (let i = 0; i < options.count; i++) {
			const session = this.clients[i % this.clients.length];
			if (session === undefined) throw new Error("no session");
			this.open(session, request);
		}
	}

	private open(session: http2.ClientHttp2Session, request: Buffer): void {
		const stream = session.request({
			":method": "POST",
			":path": "/flagd.evaluation.v1.Service/EventStream",
			"content-type": "application/grpc",
			te: "trailers",
		});
		let buffered: Buffer = Buffer.alloc(0);
		stream.on("data", (chunk: Buffer) => {
			buffered =
				buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
			while (buffered.length >= 5) {
				const length = buffered.readUInt32BE(1);
				if (buffered.length < 5 + length) break;
				const event = fromBinary(
					EventStreamResponseSchema,
					buffered.subarray(5, 5 + length),
				);
				buffered = buffered.subarray(5 + length);
				if (event.type === "provider_ready") this.readyCount++;
				else if (event.type === "configuration_change")
					this.pending.push(performance.now() - this.markAt);
			}
		});
		stream.on("error", (e: Error) => {
			if (!this.closing) this.failures.push(e.message);
		});
		stream.on("end", () => {
			if (!this.closing) this.failures.push("stream ended by the server");
		});
		stream.end(request);
	}

	get ready(): number {
		return this.readyCount;
	}

	get errors(): readonly string[] {
		return this.failures;
	}

	mark(): void {
		this.markAt = performance.now();
		this.pending = [];
	}

	get received(): readonly number[] {
		return this.pending;
	}

	async close(): Promise<void> {
		this.closing = true;
		await Promise.all(
			this.clients.map(
				(session) =>
					new Promise<void>((resolve) => {
						session.once("close", () => resolve());
						session.destroy();
					}),
			),
		);
	}
}
