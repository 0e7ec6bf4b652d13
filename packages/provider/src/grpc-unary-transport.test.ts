import { once } from "node:events";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import * as tls from "node:tls";
import { create, toBinary } from "@bufbuild/protobuf";
import {
	type CallOptions,
	Code,
	ConnectError,
	type ConnectRouter,
	createClient,
	type Transport,
} from "@connectrpc/connect";
import {
	connectNodeAdapter,
	createGrpcTransport,
	Http2SessionManager,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	createGrpcUnaryTransport,
	type GrpcUnaryTransportOptions,
} from "./grpc-unary-transport.js";
import { Http2Client } from "./http2/http2-client.js";

const ERROR_MESSAGE = "flag 'x' not found – ünïcode %";
const stringResponse = EvaluationServiceV2.method.resolveString.output;

/** An HTTP/2 server on 127.0.0.1 whose sessions are counted and can all be destroyed at the end. */
interface TestServer {
	readonly server: http2.Http2Server;
	readonly url: string;
	readonly port: number;
	readonly sessions: Set<http2.ServerHttp2Session>;
	sessionCount: number;
	close(): Promise<void>;
}

async function listen(server: http2.Http2Server): Promise<TestServer> {
	const sessions = new Set<http2.ServerHttp2Session>();
	const result: TestServer = {
		server,
		url: "",
		port: 0,
		sessions,
		sessionCount: 0,
		async close() {
			for (const session of sessions) session.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
	server.on("session", (session: http2.ServerHttp2Session) => {
		result.sessionCount++;
		sessions.add(session);
		session.on("close", () => sessions.delete(session));
	});
	server.listen(0, "127.0.0.1");
	await once(server, "listening");
	const { port } = server.address() as AddressInfo;
	return Object.assign(result, { url: `http://127.0.0.1:${port}`, port });
}

/** A client of both evaluation services, wired as create-transport.ts does: unary calls on our HTTP/2 client. */
function connectClient(
	url: string,
	extra: Partial<
		Omit<
			GrpcUnaryTransportOptions,
			"client" | "streamTransport" | "authority" | "scheme"
		>
	> = {},
) {
	const { hostname, port, protocol } = new URL(url);
	const secure = protocol === "https:";
	const http2Client = new Http2Client({
		dial: () =>
			secure
				? tls.connect({
						host: hostname,
						port: Number(port),
						ALPNProtocols: ["h2"],
					})
				: net.connect({ host: hostname, port: Number(port) }),
		secure,
	});
	const sessionManager = new Http2SessionManager(url);
	const transport: Transport = createGrpcUnaryTransport({
		client: http2Client,
		authority: `${hostname}:${port}`,
		scheme: secure ? "https" : "http",
		streamTransport: createGrpcTransport({ baseUrl: url, sessionManager }),
		...extra,
	});
	return {
		http2Client,
		close() {
			http2Client.close();
			sessionManager.abort();
		},
		v1: createClient(EvaluationServiceV1, transport),
		v2: createClient(EvaluationServiceV2, transport),
	};
}

/** The ConnectError a call rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
	try {
		await promise;
	} catch (err: unknown) {
		expect(err).toBeInstanceOf(ConnectError);
		return err as ConnectError;
	}
	throw new Error("the call succeeded");
}

/** A promise plus its resolver, for awaiting events signalled from a handler. */
interface Signal<T> {
	promise: Promise<T>;
	resolve: (v: T) => void;
}

function signal<T = void>(): Signal<T> {
	let resolve!: (v: T) => void;
	const promise = new Promise<T>((r) => {
		resolve = r;
	});
	return { promise, resolve };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	// Clients first, so the servers' close does not wait for their sessions.
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("createGrpcUnaryTransport against a connect-node server", () => {
	interface Seen {
		headers?: Headers;
		stallAborted?: Signal<unknown>;
		stallStarted?: Signal<void>;
	}

	async function start(extra?: Parameters<typeof connectClient>[1]) {
		const seen: Seen = {};
		const routes = (r: ConnectRouter) => {
			r.service(EvaluationServiceV2, {
				resolveString(req, ctx) {
					seen.headers = ctx.requestHeader;
					ctx.responseHeader.set("x-answer-header", "from-header");
					ctx.responseTrailer.set("x-answer-trailer", "from-trailer");
					return {
						value: `value of ${req.flagKey}`,
						variant: "on",
						reason: "TARGETING_MATCH",
						metadata: { scope: "test", weight: 1.5, nested: { ok: true } },
					};
				},
				resolveBoolean() {
					throw new ConnectError(ERROR_MESSAGE, Code.NotFound, {
						"x-error-detail": "missing",
					});
				},
				// Echoes the request context, so Struct encoding and decoding both travel through the wire.
				resolveObject(req) {
					return { value: req.context ?? {}, reason: "STATIC" };
				},
				resolveInt(req) {
					return { value: BigInt(req.flagKey), reason: "STATIC" };
				},
				// Never answers; settles only when the call is cancelled or its deadline passes.
				async resolveFloat(_req, ctx) {
					seen.stallStarted?.resolve();
					await new Promise((resolve) =>
						ctx.signal.addEventListener("abort", resolve, { once: true }),
					);
					seen.stallAborted?.resolve(ctx.signal.reason);
					throw new ConnectError("gave up", Code.Aborted);
				},
				async *eventStream() {
					yield { type: "provider_ready" };
					yield { type: "configuration_change", data: { flags: { a: 1 } } };
				},
			});
			r.service(EvaluationServiceV1, {
				resolveAll() {
					return {
						flags: {
							f: {
								reason: "STATIC",
								variant: "on",
								value: { case: "boolValue", value: true },
							},
						},
					};
				},
			});
		};
		const server = await listen(
			http2.createServer(connectNodeAdapter({ routes })),
		);
		const client = connectClient(server.url, extra);
		cleanups.push(
			() => server.close(),
			() => client.close(),
		);
		return { server, client, seen };
	}

	it("returns the decoded response with its header and trailer", async () => {
		const { client } = await start();
		let header: Headers | undefined;
		let trailer: Headers | undefined;
		const response = await client.v2.resolveString(
			{ flagKey: "greeting" },
			{
				onHeader: (h) => {
					header = h;
				},
				onTrailer: (t) => {
					trailer = t;
				},
			},
		);
		expect(response).toEqual({
			$typeName: "flagd.evaluation.v2.ResolveStringResponse",
			value: "value of greeting",
			variant: "on",
			reason: "TARGETING_MATCH",
			metadata: { scope: "test", weight: 1.5, nested: { ok: true } },
		});
		expect(header?.get("x-answer-header")).toBe("from-header");
		expect(trailer?.get("x-answer-trailer")).toBe("from-trailer");
		expect(trailer?.get("grpc-status")).toBe("0");
	});

	it("round-trips a Struct with non-ASCII, long and special values, and negative int64", async () => {
		const { client } = await start();
		const context = {
			ключ: "värde ✓",
			long: "x".repeat(20_000),
			list: [1, -0, null, "a", { deep: [true] }],
			empty: {},
			"": "empty key",
		};
		const object = await client.v2.resolveObject({ flagKey: "o", context });
		expect(object.value).toEqual(context);
		expect(Object.is((object.value as { list: number[] }).list[1], -0)).toBe(
			true,
		);
		const int = await client.v2.resolveInt({ flagKey: "-9007199254740993" });
		expect(int.value).toBe(-9007199254740993n);
	});

	it("decodes responses the codec does not handle with @bufbuild/protobuf (v1 ResolveAll)", async () => {
		const { client } = await start();
		const response = await client.v1.resolveAll({ context: { a: "b" } });
		expect(response.flags.f?.value).toEqual({ case: "boolValue", value: true });
		expect(response.flags.f?.variant).toBe("on");
	});

	it("carries the gRPC status, the exact message and error metadata", async () => {
		const { client } = await start();
		const err = await rejection(client.v2.resolveBoolean({ flagKey: "x" }));
		expect(err.code).toBe(Code.NotFound);
		// grpc-message is percent-encoded on the wire; the decoded text must be byte-for-byte the original.
		expect(err.rawMessage).toBe(ERROR_MESSAGE);
		expect(err.metadata.get("x-error-detail")).toBe("missing");
		// The call after an error works on the same transport.
		const ok = await client.v2.resolveString({ flagKey: "after" });
		expect(ok.value).toBe("value of after");
	});

	it("sends user-agent, grpc-timeout, call headers and headers added by onRequestHeaders", async () => {
		const { client, seen } = await start({
			userAgent: "test-agent/1.0",
			onRequestHeaders: (headers) => {
				headers.traceparent =
					"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
			},
		});
		const options: CallOptions = {
			timeoutMs: 4321,
			headers: { "X-Custom": "custom value", "flagd-selector": "source=a" },
		};
		await client.v2.resolveString({ flagKey: "h" }, options);
		const headers = seen.headers as Headers;
		expect(headers.get("user-agent")).toBe("test-agent/1.0");
		expect(headers.get("grpc-timeout")).toBe("4321m");
		expect(headers.get("x-custom")).toBe("custom value");
		expect(headers.get("flagd-selector")).toBe("source=a");
		expect(headers.get("traceparent")).toBe(
			"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		);
		expect(headers.get("content-type")).toBe("application/grpc+proto");
		expect(headers.get("te")).toBe("trailers");
	});

	it("uses the default user-agent, no grpc-timeout without a timeout, and lets a call header override the agent", async () => {
		const { client, seen } = await start();
		await client.v2.resolveString({ flagKey: "h" });
		expect(seen.headers?.get("user-agent")).toBe("flagd-ts-provider");
		expect(seen.headers?.has("grpc-timeout")).toBe(false);
		await client.v2.resolveString(
			{ flagKey: "h" },
			{ headers: new Headers({ "user-agent": "per-call" }) },
		);
		expect(seen.headers?.get("user-agent")).toBe("per-call");
	});

	it("delegates the event stream to its own HTTP/2 session and keeps one session for unary calls", async () => {
		const { client, server } = await start();
		await client.v2.resolveString({ flagKey: "before" });
		const events = [];
		for await (const event of client.v2.eventStream({})) events.push(event);
		await client.v2.resolveString({ flagKey: "after" });
		expect(events.map((e) => [e.type, e.data])).toEqual([
			["provider_ready", undefined],
			["configuration_change", { flags: { a: 1 } }],
		]);
		await client.v2.resolveString({ flagKey: "again" });
		expect(server.sessionCount).toBe(2);
	});

	it("cancels the server's call when aborted mid-call, and the next call works", async () => {
		const { client, seen } = await start();
		seen.stallStarted = signal();
		seen.stallAborted = signal<unknown>();
		const controller = new AbortController();
		const call = client.v2.resolveFloat(
			{ flagKey: "slow" },
			{ signal: controller.signal },
		);
		await seen.stallStarted.promise;
		controller.abort(new Error("user gave up"));
		const err = await rejection(call);
		expect(err.code).toBe(Code.Canceled);
		expect(err.rawMessage).toContain("user gave up");
		// The stream was reset, so the server's handler sees its signal fire.
		await seen.stallAborted.promise;
		expect((await client.v2.resolveString({ flagKey: "next" })).value).toBe(
			"value of next",
		);
	});

	it("rejects at once when the signal is already aborted", async () => {
		const { client, server } = await start();
		const err = await rejection(
			client.v2.resolveString(
				{ flagKey: "x" },
				{ signal: AbortSignal.abort() },
			),
		);
		expect(err.code).toBe(Code.Canceled);
		// Nothing was sent: no connection was even opened.
		expect(server.sessionCount).toBe(0);
	});
});

describe("createGrpcUnaryTransport against a misbehaving HTTP/2 server", () => {
	type Handler = (
		stream: http2.ServerHttp2Stream,
		headers: http2.IncomingHttpHeaders,
	) => void;

	/** A message in a gRPC envelope. */
	function envelope(payload: Uint8Array, flags = 0): Buffer {
		const frame = Buffer.alloc(5 + payload.length);
		frame[0] = flags;
		frame.writeUInt32BE(payload.length, 1);
		frame.set(payload, 5);
		return frame;
	}

	/** A ResolveStringResponse with only `value` set. */
	function responseBytes(value: string): Uint8Array {
		return toBinary(stringResponse, create(stringResponse, { value }));
	}

	const GRPC_HEADERS = {
		":status": 200,
		"content-type": "application/grpc+proto",
	};

	/** Answers like a healthy gRPC server: headers, the messages given, trailers with status 0. */
	function answer(
		stream: http2.ServerHttp2Stream,
		frames: Buffer[],
		trailers: http2.OutgoingHttpHeaders = { "grpc-status": "0" },
	): void {
		stream.respond(GRPC_HEADERS, { waitForTrailers: true });
		stream.on("wantTrailers", () => stream.sendTrailers(trailers));
		for (const frame of frames) stream.write(frame);
		stream.end();
	}

	/** Reads the request, then answers with the flag key echoed in the value. */
	const healthy: Handler = (stream) => {
		const chunks: Buffer[] = [];
		stream.on("data", (c: Buffer) => chunks.push(c));
		stream.on("end", () => {
			const body = Buffer.concat(chunks);
			// ResolveStringRequest: 0x0a, length, flag key (short keys only).
			const flagKey = body.subarray(7, 7 + (body[6] as number)).toString();
			answer(stream, [envelope(responseBytes(`echo ${flagKey}`))]);
		});
	};

	async function start(
		options: Partial<Pick<GrpcUnaryTransportOptions, "readMaxBytes">> = {},
	) {
		const state: { handler: Handler; requests: http2.IncomingHttpHeaders[] } = {
			handler: healthy,
			requests: [],
		};
		const server = await listen(http2.createServer());
		server.server.on("stream", (stream, headers) => {
			// Streams the client resets may fail to write; that is the client's doing, not a server fault.
			stream.on("error", () => {});
			state.requests.push(headers);
			state.handler(stream, headers);
		});
		const client = connectClient(server.url, options);
		cleanups.push(
			() => server.close(),
			() => client.close(),
		);
		/** Asserts the same transport works again once the server behaves. */
		const expectRecovery = async () => {
			state.handler = healthy;
			const response = await client.v2.resolveString({ flagKey: "again" });
			expect(response.value).toBe("echo again");
		};
		return { server, client, state, expectRecovery };
	}

	async function failWith(
		handler: Handler,
		code: Code,
		fragment: string | RegExp,
		options?: Parameters<typeof start>[0],
	): Promise<void> {
		const { client, state, expectRecovery } = await start(options);
		state.handler = handler;
		const err = await rejection(client.v2.resolveString({ flagKey: "f" }));
		expect(Code[err.code]).toBe(Code[code]);
		expect(err.rawMessage).toMatch(fragment);
		await expectRecovery();
	}

	it("frames the request as one uncompressed gRPC message on the method's path", async () => {
		const { client, state } = await start();
		let body: Buffer | undefined;
		state.handler = (stream) => {
			const chunks: Buffer[] = [];
			stream.on("data", (c: Buffer) => chunks.push(c));
			stream.on("end", () => {
				body = Buffer.concat(chunks);
				answer(stream, [envelope(responseBytes("ok"))]);
			});
		};
		const flagKey = "ü".repeat(100);
		const response = await client.v2.resolveString({
			flagKey,
			context: { a: 1 },
		});
		expect(response.value).toBe("ok");
		const request = EvaluationServiceV2.method.resolveString.input;
		const payload = toBinary(
			request,
			create(request, { flagKey, context: { a: 1 } }),
		);
		expect(body?.toString("hex")).toBe(envelope(payload).toString("hex"));
		expect(state.requests[0]).toMatchObject({
			":method": "POST",
			":path": "/flagd.evaluation.v2.Service/ResolveString",
			"content-type": "application/grpc+proto",
			te: "trailers",
		});
	});

	it("maps HTTP 503 without grpc-status to Unavailable", () =>
		failWith(
			(stream) => {
				stream.respond({ ":status": 503 });
				stream.end("overloaded");
			},
			Code.Unavailable,
			"HTTP 503",
		));

	it("maps HTTP 200 with text/html to Unknown", () =>
		failWith(
			(stream) => {
				stream.respond({ ":status": 200, "content-type": "text/html" });
				stream.end("<html>proxy page</html>");
			},
			Code.Unknown,
			"unsupported content type text/html",
		));

	it("reads a trailers-only error (status in the headers)", () =>
		failWith(
			(stream) => {
				stream.respond(
					{
						...GRPC_HEADERS,
						"grpc-status": "5",
						"grpc-message": "flag%20gone",
					},
					{ endStream: true },
				);
			},
			Code.NotFound,
			/^flag gone$/,
		));

	it("maps undecodable grpc-status-details-bin to DataLoss instead of throwing from the socket callback", () =>
		failWith(
			(stream) =>
				answer(stream, [], {
					"grpc-status": "5",
					"grpc-status-details-bin": "!!!",
				}),
			Code.DataLoss,
			"invalid base64 string",
		));

	it("maps a response without grpc-status to Internal", () =>
		failWith(
			(stream) => {
				stream.respond(GRPC_HEADERS);
				stream.end(envelope(responseBytes("no status")));
			},
			Code.Internal,
			"missing status",
		));

	it("maps a compressed message (none negotiated) to Internal", () =>
		failWith(
			(stream) => answer(stream, [envelope(responseBytes("z"), 1)]),
			Code.Internal,
			"compressed",
		));

	it("accepts a message of exactly readMaxBytes and maps a larger one to ResourceExhausted", async () => {
		const { client, state, expectRecovery } = await start({ readMaxBytes: 16 });
		// value "x"×14 encodes to tag, length and 14 bytes: exactly 16.
		const atLimit = responseBytes("x".repeat(14));
		expect(atLimit.length).toBe(16);
		state.handler = (stream) => answer(stream, [envelope(atLimit)]);
		const ok = await client.v2.resolveString({ flagKey: "f" });
		expect(ok.value).toBe("x".repeat(14));

		state.handler = (stream) =>
			answer(stream, [envelope(responseBytes("x".repeat(15)))]);
		const err = await rejection(client.v2.resolveString({ flagKey: "f" }));
		expect(Code[err.code]).toBe(Code[Code.ResourceExhausted]);
		expect(err.rawMessage).toMatch(/readMaxBytes 16$/);

		// A large body is refused while it arrives, before it is all buffered.
		state.handler = (stream) =>
			answer(stream, [envelope(responseBytes("x".repeat(256 * 1024)))]);
		const big = await rejection(client.v2.resolveString({ flagKey: "f" }));
		expect(Code[big.code]).toBe(Code[Code.ResourceExhausted]);
		expect(big.rawMessage).toMatch(/readMaxBytes 16$/);
		await expectRecovery();
	});

	it("maps two messages in a unary response to Unimplemented", () =>
		failWith(
			(stream) =>
				answer(stream, [
					envelope(responseBytes("one")),
					envelope(responseBytes("two")),
				]),
			Code.Unimplemented,
			"extra output message",
		));

	it("maps zero messages with status 0 to Unimplemented", () =>
		failWith(
			(stream) => answer(stream, []),
			Code.Unimplemented,
			"missing output message",
		));

	it("maps a truncated message to Internal", () =>
		failWith(
			(stream) =>
				answer(stream, [envelope(responseBytes("cut")).subarray(0, 8)]),
			Code.Internal,
			"premature end",
		));

	it("sends a refused stream once more, and maps a second REFUSED_STREAM to Unavailable", async () => {
		const { client, state, expectRecovery } = await start();
		let refusals = 0;
		state.handler = (stream) => {
			refusals += 1;
			if (refusals <= 1) stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
			else healthy(stream, {});
		};
		// Refused once: the server did not process it, so the client sends it again (gRPC transparent retry).
		expect((await client.v2.resolveString({ flagKey: "r" })).value).toBe(
			"echo r",
		);
		expect(refusals).toBe(2);
		await failWith(
			(stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM),
			Code.Unavailable,
			"stream reset by the server (REFUSED_STREAM)",
		);
		await expectRecovery();
	});

	it("maps RST_STREAM INTERNAL_ERROR to Internal", () =>
		failWith(
			(stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
			Code.Internal,
			"stream reset by the server (INTERNAL_ERROR)",
		));

	it("ends a call the server never answers at its deadline, and resets the stream", async () => {
		const { client, state, expectRecovery } = await start();
		const serverSawClose = signal<number>();
		state.handler = (stream) => {
			stream.on("close", () => serverSawClose.resolve(stream.rstCode));
		};
		// Dial first, so the measured time is the deadline and not the connection set-up.
		await expectRecovery();
		state.handler = (stream) => {
			stream.on("close", () => serverSawClose.resolve(stream.rstCode));
		};
		const started = performance.now();
		const err = await rejection(
			client.v2.resolveString({ flagKey: "f" }, { timeoutMs: 200 }),
		);
		const elapsed = performance.now() - started;
		expect(err.code).toBe(Code.DeadlineExceeded);
		expect(err.rawMessage).toContain("200 ms");
		expect(elapsed).toBeGreaterThanOrEqual(199);
		expect(elapsed).toBeLessThan(200 + 800);
		expect(state.requests.at(-1)?.["grpc-timeout"]).toBe("200m");
		expect(await serverSawClose.promise).toBe(http2.constants.NGHTTP2_CANCEL);
		await expectRecovery();
	});

	it("maps an abort mid-call to Canceled and resets the stream", async () => {
		const { client, state, expectRecovery } = await start();
		const arrived = signal();
		const serverSawClose = signal<number>();
		state.handler = (stream) => {
			stream.on("close", () => serverSawClose.resolve(stream.rstCode));
			arrived.resolve();
		};
		const controller = new AbortController();
		const call = client.v2.resolveString(
			{ flagKey: "f" },
			{ signal: controller.signal },
		);
		await arrived.promise;
		controller.abort();
		const err = await rejection(call);
		expect(err.code).toBe(Code.Canceled);
		expect(await serverSawClose.promise).toBe(http2.constants.NGHTTP2_CANCEL);
		await expectRecovery();
	});

	it("maps the server's session going away mid-call to Unavailable, and dials again for the next call", async () => {
		const { client, server, state, expectRecovery } = await start();
		state.handler = (stream) => stream.session?.destroy();
		const err = await rejection(client.v2.resolveString({ flagKey: "f" }));
		expect(Code[err.code]).toBe(Code[Code.Unavailable]);
		expect(err.rawMessage).toBe(
			"the server closed the connection before the answer",
		);
		await expectRecovery();
		expect(server.sessionCount).toBe(2);

		// Gone after the response headers and part of the message.
		state.handler = (stream) => {
			stream.respond(GRPC_HEADERS);
			stream.write(envelope(responseBytes("partial")).subarray(0, 6), () =>
				stream.session?.destroy(),
			);
		};
		const late = await rejection(client.v2.resolveString({ flagKey: "f" }));
		expect(Code[late.code]).toBe(Code[Code.Unavailable]);
		await expectRecovery();
		expect(server.sessionCount).toBe(3);
	});

	it("cancels a call aborted while the connection is still being dialled", async () => {
		const { client, state, expectRecovery } = await start();
		state.handler = () => {};
		const controller = new AbortController();
		// The client has no connection yet, so this abort lands while the session manager dials.
		const call = client.v2.resolveString(
			{ flagKey: "f" },
			{ signal: controller.signal, timeoutMs: 5000 },
		);
		controller.abort();
		const err = await rejection(call);
		expect(err.code).toBe(Code.Canceled);
		await expectRecovery();
	});

	it("applies the deadline and the signal while the connection cannot be set up", async () => {
		// Accepts TCP and never answers the TLS handshake, so the dial never completes.
		const sockets = new Set<net.Socket>();
		const silent = net.createServer((socket) => sockets.add(socket));
		silent.listen(0, "127.0.0.1");
		await once(silent, "listening");
		cleanups.push(async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => silent.close(() => resolve()));
		});
		const { port } = silent.address() as AddressInfo;
		const client = connectClient(`https://127.0.0.1:${port}`);
		cleanups.push(() => client.close());

		const started = performance.now();
		const err = await rejection(
			client.v2.resolveString({ flagKey: "f" }, { timeoutMs: 200 }),
		);
		const elapsed = performance.now() - started;
		expect(err.code).toBe(Code.DeadlineExceeded);
		expect(elapsed).toBeGreaterThanOrEqual(199);
		expect(elapsed).toBeLessThan(200 + 800);
		expect(sockets.size).toBe(1);

		const controller = new AbortController();
		const call = client.v2.resolveString(
			{ flagKey: "f" },
			{ signal: controller.signal },
		);
		controller.abort(new Error("stop dialling"));
		const aborted = await rejection(call);
		expect(aborted.code).toBe(Code.Canceled);
		expect(aborted.rawMessage).toContain("stop dialling");
	});

	it("maps nothing listening to Unavailable", async () => {
		// A port that was just in use and is now closed.
		const gone = await listen(http2.createServer());
		await gone.close();
		const client = connectClient(gone.url);
		cleanups.push(() => client.close());
		const err = await rejection(client.v2.resolveString({ flagKey: "f" }));
		expect(Code[err.code]).toBe(Code[Code.Unavailable]);
		expect(err.rawMessage).toMatch(/ECONNREFUSED/);
	});
});
