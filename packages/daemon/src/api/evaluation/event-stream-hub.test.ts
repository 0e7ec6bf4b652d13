/**
 * EventStream on the direct streaming path (event-stream-hub.ts, transport/direct-path/direct-stream-path.ts) over
 * real 127.0.0.1 listeners and connect-node clients: every protocol (gRPC, gRPC-web, Connect binary and JSON, v1
 * and v2), many streams receiving one change, clients leaving mid-broadcast, a client that does not read, the
 * stream cap, shutdown, and malformed request bodies. `hub.size` counts only streams the direct path serves, so a
 * test that sees it grow knows which path answered.
 */
import http2 from "node:http2";
import {
	Code,
	ConnectError,
	createClient,
	type Transport,
} from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
	createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	type LogEntry,
	recordingLogger,
} from "../../logging/testdata/recording-logger.js";
import { ContextBuilder } from "../../resolver/context-builder.js";
import { FlagResolver } from "../../resolver/flag-resolver.js";
import { FlagStore } from "../../store/flag-store.js";
import { SelectorCache } from "../../store/selector-cache.js";
import { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import {
	createConnectHandler,
	serviceRoute,
} from "../../transport/connect-handler.js";
import {
	listenMultiProtocol,
	type RunningListener,
} from "../../transport/http-listener.js";
import { StreamLimiter } from "../../transport/stream-limiter.js";
import { createEvaluationServiceV1 } from "./evaluation-service-v1.js";
import { createEvaluationServiceV2 } from "./evaluation-service-v2.js";
import { directEventStream, EventStreamHub } from "./event-stream-hub.js";

const SOURCE = "file:flags.json";

function document(variant: string, extra: Record<string, unknown> = {}) {
	return JSON.stringify({
		flags: {
			a: {
				state: "ENABLED",
				variants: { x: 1, y: 2 },
				defaultVariant: variant,
			},
			constructor: {
				state: "ENABLED",
				variants: { x: 1, y: 2 },
				defaultVariant: variant,
			},
			...extra,
		},
	});
}

interface Fixture {
	readonly store: FlagStore;
	readonly hub: EventStreamHub;
	readonly port: number;
	readonly logs: LogEntry[];
	readonly shutdown: AbortController;
	apply(content: string): void;
}

const listeners: RunningListener[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0)) cleanup();
	await Promise.all(listeners.splice(0).map((l) => l.close(0)));
});

async function start(
	options: {
		ready?: boolean;
		maxBufferedBytes?: number;
		maxStreams?: number;
		keepAliveMs?: number;
	} = {},
): Promise<Fixture> {
	const logs: LogEntry[] = [];
	const logger = recordingLogger(logs);
	const store = new FlagStore({ sources: [SOURCE], logger });
	const apply = (content: string) => {
		const applied = store.apply({ source: SOURCE, format: "json", content });
		if (!applied.ok) throw applied.error;
	};
	if (options.ready !== false) apply(document("x"));
	const resolver = new FlagResolver({
		store,
		selectors: new SelectorCache(),
		contexts: new ContextBuilder({ staticContext: {}, headerContext: {} }),
		metrics: new DaemonMetrics(),
	});
	const shutdown = new AbortController();
	const streams = {
		shutdownSignal: shutdown.signal,
		keepAliveMs: options.keepAliveMs ?? 60_000,
		deadlineMs: 0,
	};
	const hub = new EventStreamHub({
		store,
		...streams,
		logger,
		...(options.maxBufferedBytes === undefined
			? {}
			: { maxBufferedBytes: options.maxBufferedBytes }),
	});
	const eventStream = directEventStream(resolver, hub);
	const handler = createConnectHandler({
		logger,
		services: [
			serviceRoute(
				EvaluationServiceV1,
				createEvaluationServiceV1(resolver, streams),
				{
					directStreams: { eventStream },
				},
			),
			serviceRoute(
				EvaluationServiceV2,
				createEvaluationServiceV2(resolver, streams),
				{
					directStreams: { eventStream },
				},
			),
		],
		jsonOptions: { alwaysEmitImplicit: true, ignoreUnknownFields: true },
		streamLimiter:
			options.maxStreams === undefined
				? undefined
				: new StreamLimiter({
						max: options.maxStreams,
						what: "event streams",
						option: "--max-event-streams",
					}),
	});
	const listener = await listenMultiProtocol(handler, {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "test",
	});
	listeners.push(listener);
	return { store, hub, port: listener.port as number, logs, shutdown, apply };
}

type Event = { type: string; data?: unknown };

/** An open EventStream with a bounded wait per message. */
function open(transport: Transport, version: "v1" | "v2" = "v1") {
	const controller = new AbortController();
	cleanups.push(() => controller.abort());
	const service = version === "v1" ? EvaluationServiceV1 : EvaluationServiceV2;
	const iterator = createClient(service, transport)
		.eventStream({}, { signal: controller.signal })
		[Symbol.asyncIterator]();
	return {
		async next(timeoutMs = 5_000): Promise<Event> {
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<never>((_, reject) => {
				timer = setTimeout(
					() => reject(new Error("no event in time")),
					timeoutMs,
				);
			});
			try {
				const result = await Promise.race([iterator.next(), timeout]);
				if (result.done === true) throw new Error("stream ended");
				return { type: result.value.type, data: result.value.data };
			} finally {
				clearTimeout(timer);
			}
		},
		/** Resolves when the server ends the stream (OK), rejects with its error. */
		async end(): Promise<void> {
			for (;;) {
				const result = await iterator.next();
				if (result.done === true) return;
			}
		},
		close: () => controller.abort(),
	};
}

async function until(condition: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

const CHANGE = {
	type: "configuration_change",
	data: { flags: { a: { type: "update" }, constructor: { type: "update" } } },
};

const PROTOCOLS: [string, (base: string) => Transport][] = [
	["gRPC", (baseUrl) => createGrpcTransport({ baseUrl })],
	[
		"gRPC-web, HTTP/1.1",
		(baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
	],
	[
		"gRPC-web JSON, HTTP/2",
		(baseUrl) =>
			createGrpcWebTransport({
				baseUrl,
				httpVersion: "2",
				useBinaryFormat: false,
			}),
	],
	[
		"Connect binary, HTTP/1.1",
		(baseUrl) =>
			createConnectTransport({
				baseUrl,
				httpVersion: "1.1",
				useBinaryFormat: true,
			}),
	],
	[
		"Connect JSON, HTTP/1.1",
		(baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
	],
	[
		"Connect JSON, HTTP/2",
		(baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" }),
	],
];

describe("EventStream on the direct streaming path", () => {
	describe.each(PROTOCOLS)("%s", (_name, transportFor) => {
		it.each(["v1", "v2"] as const)(
			"%s: provider_ready, a change with every key (constructor too), and the stream leaves the hub on cancel",
			async (version) => {
				const f = await start();
				const stream = open(
					transportFor(`http://127.0.0.1:${f.port}`),
					version,
				);
				expect(await stream.next()).toEqual({
					type: "provider_ready",
					data: {},
				});
				expect(f.hub.size).toBe(1);
				f.apply(document("y"));
				const change = await stream.next();
				expect(change.type).toBe(CHANGE.type);
				expect(JSON.stringify(change.data)).toBe(JSON.stringify(CHANGE.data));
				stream.close();
				await until(() => f.hub.size === 0, "the stream to leave the hub");
				expect(f.hub.selectorCount).toBe(0);
			},
		);
	});

	it("a __proto__ flag key reaches the wire (protobuf-es clients move it into the prototype, so read the bytes)", async () => {
		const f = await start();
		const session = http2.connect(`http://127.0.0.1:${f.port}`);
		cleanups.push(() => session.destroy());
		const req = session.request({
			":method": "POST",
			":path": "/flagd.evaluation.v2.Service/EventStream",
			"content-type": "application/grpc",
			te: "trailers",
		});
		req.end(Buffer.from([0, 0, 0, 0, 0]));
		const chunks: Buffer[] = [];
		req.on("data", (chunk: Buffer) => chunks.push(chunk));
		await until(() => f.hub.size === 1 && chunks.length > 0, "provider_ready");
		const proto = JSON.stringify({
			flags: {
				a: { state: "ENABLED", variants: { x: 1, y: 2 }, defaultVariant: "y" },
				["__proto__"]: {
					state: "ENABLED",
					variants: { x: 1 },
					defaultVariant: "x",
				},
			},
		});
		expect(proto).toContain("__proto__");
		f.apply(proto);
		await until(
			() => Buffer.concat(chunks).includes("configuration_change"),
			"the change",
		);
		const bytes = Buffer.concat(chunks);
		expect(bytes.includes("__proto__")).toBe(true);
		expect(bytes.includes("write")).toBe(true);
	});

	it("keep_alive before the first sync, provider_ready once ready, keep_alive when idle", async () => {
		const f = await start({ ready: false, keepAliveMs: 100 });
		const stream = open(
			createGrpcTransport({ baseUrl: `http://127.0.0.1:${f.port}` }),
		);
		expect((await stream.next()).type).toBe("keep_alive");
		f.apply(document("x"));
		expect(await stream.next()).toEqual({ type: "provider_ready", data: {} });
		expect((await stream.next()).type).toBe("keep_alive");
	});

	it("sends provider_shutdown and ends every stream OK on shutdown", async () => {
		const f = await start();
		const base = `http://127.0.0.1:${f.port}`;
		const streams = [
			open(createGrpcTransport({ baseUrl: base })),
			open(createConnectTransport({ baseUrl: base, httpVersion: "1.1" }), "v2"),
			open(createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1" })),
		];
		for (const s of streams)
			expect((await s.next()).type).toBe("provider_ready");
		f.shutdown.abort();
		for (const s of streams) {
			expect(await s.next()).toEqual({ type: "provider_shutdown", data: {} });
			await expect(s.end()).resolves.toBeUndefined();
		}
		await until(() => f.hub.size === 0, "the hub to empty");
	});

	it("many streams, one change: all receive the identical event, encoded once", async () => {
		const f = await start();
		const base = `http://127.0.0.1:${f.port}`;
		const grpc = createGrpcTransport({ baseUrl: base });
		const connect = createConnectTransport({ baseUrl: base, httpVersion: "2" });
		const streams = Array.from({ length: 200 }, (_, i) =>
			open(i % 2 === 0 ? grpc : connect, i % 3 === 0 ? "v2" : "v1"),
		);
		for (const s of streams)
			expect((await s.next()).type).toBe("provider_ready");
		expect(f.hub.size).toBe(200);
		expect(f.hub.selectorCount).toBe(1);
		f.apply(document("y"));
		const events = await Promise.all(streams.map((s) => s.next()));
		for (const event of events)
			expect(JSON.stringify(event)).toBe(JSON.stringify(CHANGE));
		for (const s of streams) s.close();
		await until(() => f.hub.size === 0, "the hub to empty");
		expect(f.hub.selectorCount).toBe(0);
	});

	it("clients closing mid-broadcast: no crash, the others get the event, the hub empties", async () => {
		const f = await start();
		const base = `http://127.0.0.1:${f.port}`;
		const transport = createGrpcTransport({ baseUrl: base });
		const streams = Array.from({ length: 200 }, () => open(transport));
		for (const s of streams)
			expect((await s.next()).type).toBe("provider_ready");
		// Half of them go while the change is being written.
		const leaving = streams.filter((_, i) => i % 2 === 0);
		const staying = streams.filter((_, i) => i % 2 === 1);
		setImmediate(() => {
			for (const s of leaving) s.close();
		});
		f.apply(document("y"));
		for (const s of leaving) s.close();
		for (const s of staying)
			expect((await s.next()).type).toBe("configuration_change");
		f.apply(document("x"));
		for (const s of staying)
			expect((await s.next()).type).toBe("configuration_change");
		await until(
			() => f.hub.size === staying.length,
			"the leaving streams to go",
		);
		for (const s of staying) s.close();
		await until(() => f.hub.size === 0, "the hub to empty");
		expect(f.hub.selectorCount).toBe(0);
		expect(f.logs.filter((l) => l.level === "error")).toEqual([]);
	});

	it("drops a client that does not read once its unsent bytes pass the bound, with one warning", async () => {
		const f = await start({ maxBufferedBytes: 4_096 });
		// A raw HTTP/2 client that grants no flow-control window: the server can send headers, never data.
		const session = http2.connect(`http://127.0.0.1:${f.port}`, {
			settings: { initialWindowSize: 0 },
		});
		cleanups.push(() => session.destroy());
		const req = session.request({
			":method": "POST",
			":path": "/flagd.evaluation.v1.Service/EventStream",
			"content-type": "application/grpc",
			te: "trailers",
		});
		req.end(Buffer.from([0, 0, 0, 0, 0]));
		// The reset surfaces as an 'error' on the client stream as well; the code is what this test reads.
		req.on("error", () => {});
		const closed = new Promise<number>((resolve) =>
			req.once("close", () => resolve(req.rstCode)),
		);
		await until(() => f.hub.size === 1, "the stream to open");
		// Each change names 200 flags: a few KB per event.
		const many = Object.fromEntries(
			Array.from({ length: 200 }, (_, i) => [
				`flag-${i}-${"k".repeat(20)}`,
				{ state: "ENABLED", variants: { x: 1 }, defaultVariant: "x" },
			]),
		);
		for (let i = 0; i < 20 && f.hub.size > 0; i++) {
			f.apply(document(i % 2 === 0 ? "y" : "x", i % 2 === 0 ? many : {}));
			await new Promise((resolve) => setImmediate(resolve));
		}
		expect(await closed).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
		await until(() => f.hub.size === 0, "the dropped stream to leave the hub");
		const warnings = f.logs.filter((l) => l.level === "warn");
		expect(warnings).toHaveLength(1);
		expect(warnings[0]?.message).toMatch(
			/EventStream client is not reading \(\d+ bytes unsent\): stream closed/,
		);
	});

	it("refuses a stream over the cap with RESOURCE_EXHAUSTED naming the option", async () => {
		const f = await start({ maxStreams: 2 });
		const transport = createGrpcTransport({
			baseUrl: `http://127.0.0.1:${f.port}`,
		});
		const first = open(transport);
		const second = open(transport, "v2");
		expect((await first.next()).type).toBe("provider_ready");
		expect((await second.next()).type).toBe("provider_ready");
		const third = open(transport);
		const error = await third.next().then(
			() => undefined,
			(e: unknown) => ConnectError.from(e),
		);
		expect(error?.code).toBe(Code.ResourceExhausted);
		expect(error?.rawMessage).toBe(
			"too many open event streams: the limit is 2 (--max-event-streams)",
		);
		first.close();
		await until(() => f.hub.size === 1, "the first stream to go");
		const fourth = open(transport);
		expect((await fourth.next()).type).toBe("provider_ready");
	});

	it("an invalid selector is INVALID_ARGUMENT", async () => {
		const f = await start();
		const transport = createGrpcTransport({
			baseUrl: `http://127.0.0.1:${f.port}`,
		});
		const iterator = createClient(EvaluationServiceV1, transport)
			.eventStream({}, { headers: { "flagd-selector": "nonsense=1" } })
			[Symbol.asyncIterator]();
		const error = await iterator.next().then(
			() => undefined,
			(e: unknown) => ConnectError.from(e),
		);
		expect(error?.code).toBe(Code.InvalidArgument);
		expect(f.hub.size).toBe(0);
	});

	it.each([
		[
			"gRPC, a message that is not protobuf",
			"application/grpc",
			Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]),
		],
		[
			"gRPC, an envelope longer than the body",
			"application/grpc",
			Buffer.from([0, 0, 0, 0, 9, 1]),
		],
		[
			"Connect JSON, not JSON",
			"application/connect+json",
			Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), Buffer.from("{not json")]),
		],
	])(
		"malformed request body (%s): a clear error, no stream opened",
		async (_name, contentType, body) => {
			const f = await start();
			const session = http2.connect(`http://127.0.0.1:${f.port}`);
			cleanups.push(() => session.destroy());
			const req = session.request({
				":method": "POST",
				":path": "/flagd.evaluation.v1.Service/EventStream",
				"content-type": contentType,
				te: "trailers",
			});
			req.end(body);
			const chunks: Buffer[] = [];
			req.on("data", (chunk: Buffer) => chunks.push(chunk));
			const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
				req.once("trailers", (t) => resolve(t));
				req.once("end", () => resolve({}));
			});
			const done = await trailers;
			await new Promise((resolve) => req.once("close", resolve));
			if (contentType === "application/grpc") {
				expect(done["grpc-status"]).toBe(String(Code.InvalidArgument));
				expect(String(done["grpc-message"])).not.toBe("");
			} else {
				// The Connect end-stream message (flag 2) carries the error.
				const all = Buffer.concat(chunks);
				expect(all[0]).toBe(2);
				const end = JSON.parse(all.subarray(5).toString()) as {
					error: { code: string; message: string };
				};
				expect(end.error.code).toBe("invalid_argument");
				expect(end.error.message).not.toBe("");
			}
			expect(f.hub.size).toBe(0);
		},
	);
});
