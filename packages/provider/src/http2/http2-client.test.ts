/**
 * Conformance tests of our HTTP/2 client at the frame/stream level: against real node:http2 (nghttp2) servers,
 * and against a hand-written frame-level server (testdata/raw-http2-server.ts) for behaviour nghttp2 never
 * produces. The gRPC layer on top is covered by grpc-unary-transport.test.ts.
 */
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as tls from "node:tls";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import { runTsChild } from "../../../../test/support/run-child.js";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../../../../test/support/tls-fixtures.js";
import { encodeHeaderBlock } from "./hpack-encoder.js";
import { Http2Client, type Http2ClientOptions } from "./http2-client.js";
import type {
	Http2ClientStream,
	Http2Fields,
	Http2StreamHandler,
} from "./http2-client-stream.js";
import {
	FrameFlag,
	FrameType,
	frame,
	Http2ErrorCode,
	Setting,
} from "./http2-frame.js";
import type { Http2StreamError } from "./http2-stream-error.js";
import {
	dataFrame,
	goawayFrame,
	headersFrame,
	okResponse,
	parseGoaway,
	pingFrame,
	type RawConnection,
	type RawFrame,
	RawHttp2Server,
	rstStreamFrame,
	settingsAckFrame,
	settingsFrame,
} from "./testdata/raw-http2-server.js";

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: everything a test opens registers its disposal here; afterEach runs them newest first.

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// ---------------------------------------------------------------------------------------------------------------
// Client side: handlers that record every callback, and clients whose sockets are all destroyed at the end.

type ClientEvent =
	| {
			readonly kind: "headers";
			readonly fields: Http2Fields;
			readonly end: boolean;
	  }
	| { readonly kind: "data"; readonly data: Buffer; readonly end: boolean }
	| { readonly kind: "failure"; readonly error: Http2StreamError };

interface Call {
	readonly handler: Http2StreamHandler;
	/** Every callback, in order (also any that arrive after the call settled). */
	readonly events: ClientEvent[];
	/** Settles at the first endStream or failure. */
	readonly done: Promise<void>;
}

function recorder(): Call {
	const events: ClientEvent[] = [];
	let settle!: () => void;
	const done = new Promise<void>((resolve) => {
		settle = resolve;
	});
	return {
		events,
		done,
		handler: {
			onHeaders(fields, end) {
				events.push({ kind: "headers", fields: { ...fields }, end });
				if (end) settle();
			},
			onData(data, end) {
				events.push({ kind: "data", data, end });
				if (end) settle();
			},
			onFailure(error) {
				events.push({ kind: "failure", error });
				settle();
			},
		},
	};
}

interface Outcome {
	readonly headers: Http2Fields | undefined;
	readonly body: Buffer;
	readonly trailers: Http2Fields | undefined;
	readonly error: Http2StreamError | undefined;
}

/** What a settled call received, checking the callback order the handler interface promises. */
async function outcome(call: Call): Promise<Outcome> {
	await call.done;
	const { events } = call;
	const failure = events.find((e) => e.kind === "failure");
	if (failure !== undefined) {
		// A failure is the only callback after whatever arrived before it.
		expect(events.indexOf(failure)).toBe(events.length - 1);
		return {
			headers: undefined,
			body: Buffer.alloc(0),
			trailers: undefined,
			error: failure.error,
		};
	}
	// Exactly the last callback carries endStream.
	expect(events.map((e) => e.kind !== "failure" && e.end)).toEqual(
		events.map((_, i) => i === events.length - 1),
	);
	const headerEvents = events.filter((e) => e.kind === "headers");
	const body = Buffer.concat(
		events.flatMap((e) => (e.kind === "data" ? [e.data] : [])),
	);
	const first = headerEvents[0];
	const last =
		headerEvents.length > 1 ? headerEvents[headerEvents.length - 1] : undefined;
	return {
		headers: first?.fields,
		body,
		trailers: last?.fields,
		error: undefined,
	};
}

function requestBlock(
	authority: string,
	requestPath: string,
	extra: readonly (readonly [string, string])[] = [],
	scheme = "http",
): Uint8Array {
	return encodeHeaderBlock([
		[":method", "POST"],
		[":scheme", scheme],
		[":authority", authority],
		[":path", requestPath],
		...extra,
	]);
}

interface TrackedClient {
	readonly client: Http2Client;
	/** Every socket `dial` returned, in order. */
	readonly sockets: (net.Socket | tls.TLSSocket)[];
	/** Sends a request (empty body unless given) and records the answer. */
	call(
		requestPath?: string,
		body?: Uint8Array,
		extra?: readonly (readonly [string, string])[],
	): Call & { stream: Http2ClientStream };
}

function trackedClient(
	dial: () => net.Socket | tls.TLSSocket,
	options: Partial<Omit<Http2ClientOptions, "dial">> = {},
	authority = "127.0.0.1",
): TrackedClient {
	const sockets: (net.Socket | tls.TLSSocket)[] = [];
	const client = new Http2Client({
		secure: false,
		...options,
		dial: () => {
			const socket = dial();
			sockets.push(socket);
			return socket;
		},
	});
	cleanups.push(() => {
		client.close();
		for (const socket of sockets) socket.destroy();
	});
	return {
		client,
		sockets,
		call(requestPath = "/test", body = new Uint8Array(0), extra = []) {
			const call = recorder();
			const scheme = options.secure === true ? "https" : "http";
			const stream = client.request(
				requestBlock(authority, requestPath, extra, scheme),
				body,
				call.handler,
			);
			return { ...call, stream };
		},
	};
}

function tcpClient(
	port: number,
	options: Partial<Omit<Http2ClientOptions, "dial">> = {},
): TrackedClient {
	return trackedClient(
		() => net.connect(port, "127.0.0.1"),
		options,
		`127.0.0.1:${port}`,
	);
}

// ---------------------------------------------------------------------------------------------------------------
// Servers.

interface NodeServer {
	readonly server: http2.Http2Server | http2.Http2SecureServer;
	readonly port: number;
	readonly sessions: Set<http2.ServerHttp2Session>;
	sessionCount: number;
}

/** Tracks sessions of a node:http2 server and registers its shutdown. Listens on 127.0.0.1:0 unless `listen` says otherwise. */
async function startNode(
	server: http2.Http2Server | http2.Http2SecureServer,
	listen: (s: net.Server) => void = (s) => s.listen(0, "127.0.0.1"),
): Promise<NodeServer> {
	const sessions = new Set<http2.ServerHttp2Session>();
	const result: NodeServer = { server, port: 0, sessions, sessionCount: 0 };
	server.on("session", (session: http2.ServerHttp2Session) => {
		result.sessionCount++;
		sessions.add(session);
		session.on("close", () => sessions.delete(session));
		session.on("error", () => {});
	});
	cleanups.push(async () => {
		for (const session of sessions) session.destroy();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});
	listen(server);
	await once(server, "listening");
	const address = server.address();
	return Object.assign(result, {
		port:
			typeof address === "object" && address !== null
				? (address as AddressInfo).port
				: 0,
	});
}

/** Reads a server stream's whole request body. */
async function readBody(stream: http2.ServerHttp2Stream): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

async function startRaw(
	onConnection: (connection: RawConnection) => void,
): Promise<RawHttp2Server> {
	const raw = await RawHttp2Server.listen(onConnection);
	cleanups.push(() => raw.close());
	return raw;
}

/** Raw-server behaviour of a healthy peer: SETTINGS, ACKs, and "200 conn<index>" to every request. */
function serveHealthy(connection: RawConnection): void {
	connection.sendSettings();
	connection.onFrame((f) => {
		if (f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) === 0) {
			connection.write(settingsAckFrame());
		}
		const requestEnded =
			f.type === FrameType.HEADERS || f.type === FrameType.DATA;
		if (requestEnded && (f.flags & FrameFlag.END_STREAM) !== 0) {
			connection.write(okResponse(f.streamId, `conn${connection.index}`));
		}
	});
}

const sha256 = (data: Uint8Array): string =>
	createHash("sha256").update(data).digest("hex");
const isHeaders = (f: RawFrame): boolean => f.type === FrameType.HEADERS;

// ---------------------------------------------------------------------------------------------------------------

describe("Http2Client against node:http2", () => {
	it("sends the request as the server sees it and delivers headers, echoed body and trailers", async () => {
		let seen: http2.IncomingHttpHeaders | undefined;
		const server = await startNode(http2.createServer());
		server.server.on("stream", async (stream, headers) => {
			seen = headers;
			const body = await readBody(stream);
			stream.respond(
				{ ":status": 200, "x-resp": "r1" },
				{ waitForTrailers: true },
			);
			stream.on("wantTrailers", () =>
				stream.sendTrailers({ "x-trailer": "t1" }),
			);
			stream.end(body);
		});
		const { call } = trackedClient(
			() => net.connect(server.port, "127.0.0.1"),
			{},
			"example.test:8443",
		);
		const body = randomBytes(1000);
		const result = await outcome(
			call("/svc/Echo?x=1", body, [["x-custom", "v1"]]),
		);

		expect(seen?.[":method"]).toBe("POST");
		expect(seen?.[":path"]).toBe("/svc/Echo?x=1");
		expect(seen?.[":authority"]).toBe("example.test:8443");
		expect(seen?.[":scheme"]).toBe("http");
		expect(seen?.["x-custom"]).toBe("v1");
		expect(result.error).toBeUndefined();
		expect(result.headers?.[":status"]).toBe("200");
		expect(result.headers?.["x-resp"]).toBe("r1");
		expect(result.body.equals(body)).toBe(true);
		expect(result.trailers).toEqual({ "x-trailer": "t1" });
	});

	it("sends an empty request with END_STREAM on HEADERS and ends the answer on its last DATA", async () => {
		let requestBytes = -1;
		const server = await startNode(http2.createServer());
		server.server.on("stream", async (stream) => {
			requestBytes = (await readBody(stream)).length;
			stream.respond({ ":status": 200 });
			stream.end("abc");
		});
		const call = tcpClient(server.port).call("/empty");
		const result = await outcome(call);
		expect(requestBytes).toBe(0);
		expect(result.headers?.[":status"]).toBe("200");
		expect(result.body.toString()).toBe("abc");
		expect(result.trailers).toBeUndefined();
		expect(call.events.at(-1)?.kind).toBe("data");
	});

	it("delivers a trailers-only answer as one onHeaders call with endStream", async () => {
		const server = await startNode(http2.createServer());
		server.server.on("stream", (stream) => {
			stream.respond(
				{ ":status": 200, "grpc-status": "5" },
				{ endStream: true },
			);
		});
		const call = tcpClient(server.port).call();
		await call.done;
		expect(call.events).toHaveLength(1);
		expect(call.events[0]).toMatchObject({
			kind: "headers",
			end: true,
			fields: { ":status": "200", "grpc-status": "5" },
		});
	});

	it("sends a 300 KB request body past the server's 65,535-byte window completely and in order", async () => {
		const server = await startNode(http2.createServer());
		server.server.on("stream", async (stream) => {
			const body = await readBody(stream);
			stream.respond({ ":status": 200 });
			stream.end(JSON.stringify({ length: body.length, sha256: sha256(body) }));
		});
		const body = randomBytes(300_000);
		const result = await outcome(tcpClient(server.port).call("/upload", body));
		expect(result.error).toBeUndefined();
		expect(JSON.parse(result.body.toString())).toEqual({
			length: 300_000,
			sha256: sha256(body),
		});
	}, 10_000);

	it("receives a 10 MiB response body past its 4 MiB stream window completely", async () => {
		const payload = randomBytes(10 * 1024 * 1024);
		const server = await startNode(http2.createServer());
		server.server.on("stream", (stream) => {
			stream.respond({ ":status": 200 });
			stream.end(payload);
		});
		const result = await outcome(tcpClient(server.port).call("/download"));
		expect(result.error).toBeUndefined();
		expect(result.body.length).toBe(payload.length);
		expect(sha256(result.body)).toBe(sha256(payload));
	}, 10_000);

	it.each([
		["after the server's SETTINGS arrived", true],
		["before the server's SETTINGS arrived", false],
	])(
		"with maxConcurrentStreams 1, five concurrent requests (%s) all complete one at a time",
		async (_label, warm) => {
			let open = 0;
			let maxOpen = 0;
			let handled = 0;
			const server = await startNode(
				http2.createServer({ settings: { maxConcurrentStreams: 1 } }),
			);
			server.server.on("stream", (stream, headers) => {
				open++;
				handled++;
				maxOpen = Math.max(maxOpen, open);
				// Hold each stream a little so that a client ignoring the limit would overlap streams.
				setTimeout(() => {
					open--;
					stream.respond({ ":status": 200 });
					stream.end(String(headers[":path"]));
				}, 10);
			});
			const tracked = tcpClient(server.port);
			if (warm)
				expect((await outcome(tracked.call("/warm"))).body.toString()).toBe(
					"/warm",
				);
			const calls = [1, 2, 3, 4, 5].map((i) => tracked.call(`/c${i}`));
			const results = await Promise.all(calls.map(outcome));
			expect(results.map((r) => r.error?.message ?? r.body.toString())).toEqual(
				["/c1", "/c2", "/c3", "/c4", "/c5"],
			);
			expect(maxOpen).toBe(1);
			expect(handled).toBe(warm ? 6 : 5);
			expect(server.sessionCount).toBe(1);
		},
	);

	it("sends a request header block over 16 KiB and decodes a response header block over 16 KiB", async () => {
		const bigRequest = randomBytes(30_000).toString("base64");
		const bigResponse = randomBytes(30_000).toString("base64");
		let seen: string | undefined;
		const server = await startNode(
			http2.createServer({
				settings: { maxHeaderListSize: 200_000 },
				maxSendHeaderBlockLength: 200_000,
			}),
		);
		server.server.on("stream", (stream, headers) => {
			seen = headers["x-big"] as string;
			stream.respond({ ":status": 200, "x-big-resp": bigResponse });
			stream.end("ok");
		});
		const block = requestBlock(`127.0.0.1:${server.port}`, "/big", [
			["x-big", bigRequest],
		]);
		// The precondition of the test: the block needs CONTINUATION frames.
		expect(block.length).toBeGreaterThan(16_384);
		const result = await outcome(
			tcpClient(server.port).call("/big", new Uint8Array(0), [
				["x-big", bigRequest],
			]),
		);
		expect(result.error).toBeUndefined();
		expect(seen).toBe(bigRequest);
		expect(result.headers?.["x-big-resp"]).toBe(bigResponse);
		expect(result.body.toString()).toBe("ok");
	});

	it("finishes the call in flight when the server closes its session, then dials a new connection", async () => {
		const server = await startNode(http2.createServer());
		server.server.on("stream", (stream, headers) => {
			if (headers[":path"] === "/first") {
				// GOAWAY goes out before the answer.
				stream.session?.close();
			}
			stream.respond({ ":status": 200 });
			stream.end(String(headers[":path"]));
		});
		const tracked = tcpClient(server.port);
		const first = tracked.call("/first");
		// The next call is sent the moment the first completes, while the old connection still exists.
		const second = first.done.then(() => tracked.call("/second"));
		expect((await outcome(first)).body.toString()).toBe("/first");
		const secondResult = await outcome(await second);
		expect(secondResult.error).toBeUndefined();
		expect(secondResult.body.toString()).toBe("/second");
		expect(server.sessionCount).toBe(2);
		expect(tracked.sockets).toHaveLength(2);
		// The client closes the drained connection itself.
		const old = tracked.sockets[0] as net.Socket;
		await new Promise<void>((resolve) =>
			old.closed ? resolve() : old.once("close", () => resolve()),
		);
	}, 10_000);

	it("signals the table size after the server changed SETTINGS_HEADER_TABLE_SIZE (nghttp2 insists)", async () => {
		const server = await startNode(
			http2.createServer({ settings: { headerTableSize: 0 } }),
		);
		server.server.on("stream", (stream, headers) => {
			stream.respond({ ":status": 200 });
			stream.end(String(headers[":path"]));
		});
		const tracked = tcpClient(server.port);
		// The first request usually leaves before the server's SETTINGS arrive; the later ones follow our ACK.
		for (const requestPath of ["/1", "/2", "/3"]) {
			const result = await outcome(tracked.call(requestPath));
			expect(result.error?.message ?? result.body.toString()).toBe(requestPath);
		}
		expect(server.sessionCount).toBe(1);
	}, 10_000);

	it("answers the server's PING", async () => {
		const server = await startNode(http2.createServer());
		server.server.on("stream", (stream) => {
			stream.respond({ ":status": 200 });
			stream.end();
		});
		await outcome(tcpClient(server.port).call());
		const [session] = [...server.sessions];
		const payload = Buffer.from("8 bytes!");
		const echoed = await new Promise<Buffer>((resolve, reject) => {
			session?.ping(payload, (err, _duration, ack) =>
				err ? reject(err) : resolve(ack),
			);
		});
		expect(echoed.equals(payload)).toBe(true);
	});

	it("cancel() of a started stream sends RST_STREAM CANCEL", async () => {
		const server = await startNode(http2.createServer());
		let serverStream!: (s: http2.ServerHttp2Stream) => void;
		const started = new Promise<http2.ServerHttp2Stream>((resolve) => {
			serverStream = resolve;
		});
		server.server.on("stream", (stream) => serverStream(stream));
		const call = tcpClient(server.port).call();
		const stream = await started;
		const closed = once(stream, "close");
		call.stream.cancel();
		await closed;
		expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
		expect(call.events).toEqual([]);
	});

	it("works over a Unix socket", async () => {
		const dir = mkdtempSync(path.join(tmpdir(), "h2-unix-"));
		cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
		const socketPath = path.join(dir, "h2.sock");
		const server = await startNode(http2.createServer(), (s) =>
			s.listen(socketPath),
		);
		server.server.on("stream", (stream, headers) => {
			stream.respond({ ":status": 200 });
			stream.end(`unix ${headers[":authority"]}`);
		});
		const result = await outcome(
			trackedClient(
				() => net.connect({ path: socketPath }),
				{},
				"localhost",
			).call(),
		);
		expect(result.error).toBeUndefined();
		expect(result.body.toString()).toBe("unix localhost");
	});
});

describe("Http2Client over TLS", () => {
	let fixtures: TlsFixtures;
	beforeAll(() => {
		fixtures = createTlsFixtures();
	});
	afterAll(() => fixtures.remove());

	const dialTls = (port: number) => () =>
		tls.connect({
			host: "127.0.0.1",
			port,
			ca: [readFileSync(fixtures.caCertPath)],
			ALPNProtocols: ["h2"],
			servername: "localhost",
		});

	it("talks HTTP/2 to a node:http2 secure server chosen by ALPN", async () => {
		const server = await startNode(
			http2.createSecureServer({
				key: fixtures.serverKey,
				cert: fixtures.serverCert,
			}),
		);
		server.server.on("stream", (stream, headers) => {
			stream.respond({ ":status": 200 });
			stream.end(`${headers[":scheme"]} ${stream.session?.alpnProtocol}`);
		});
		const result = await outcome(
			trackedClient(dialTls(server.port), { secure: true }, "localhost").call(),
		);
		expect(result.error).toBeUndefined();
		expect(result.body.toString()).toBe("https h2");
	});

	it.each([
		// node's https server offers http/1.1 by ALPN and refuses the handshake (no_application_protocol alert).
		[
			"an https server (ALPN http/1.1 only)",
			() =>
				https.createServer(
					{ key: fixtures.serverKey, cert: fixtures.serverCert },
					(_req, res) => res.end(),
				),
		],
		// A TLS server without ALPN completes the handshake and selects nothing.
		[
			"a TLS server without ALPN",
			() =>
				tls.createServer(
					{ key: fixtures.serverKey, cert: fixtures.serverCert },
					(s) => s.end(),
				),
		],
	])(
		"fails with kind connection naming ALPN against %s",
		async (_label, create) => {
			const server = create();
			const sockets = new Set<net.Socket>();
			server.on("connection", (s: net.Socket) => sockets.add(s));
			cleanups.push(async () => {
				for (const s of sockets) s.destroy();
				await new Promise<void>((resolve) => server.close(() => resolve()));
			});
			server.listen(0, "127.0.0.1");
			await once(server, "listening");
			const port = (server.address() as AddressInfo).port;
			const result = await outcome(
				trackedClient(dialTls(port), { secure: true }, "localhost").call(),
			);
			expect(result.error?.kind).toBe("connection");
			expect(result.error?.message).toMatch(/ALPN/);
		},
	);
});

describe("Http2Client against a frame-level server", () => {
	it("sends a header block over 16 KiB as HEADERS + CONTINUATION and decodes a response split the same way", async () => {
		const bigRequest = randomBytes(30_000).toString("base64");
		const bigResponse = randomBytes(30_000).toString("base64");
		const responseBlock = Buffer.from(
			encodeHeaderBlock([
				[":status", "200"],
				["x-big-resp", bigResponse],
			]),
		);
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (
					f.type === FrameType.CONTINUATION &&
					(f.flags & FrameFlag.END_HEADERS) !== 0
				) {
					c.write(
						frame(
							FrameType.HEADERS,
							0,
							f.streamId,
							responseBlock.subarray(0, 10_000),
						),
						frame(
							FrameType.CONTINUATION,
							0,
							f.streamId,
							responseBlock.subarray(10_000, 20_000),
						),
						frame(
							FrameType.CONTINUATION,
							FrameFlag.END_HEADERS,
							f.streamId,
							responseBlock.subarray(20_000),
						),
						dataFrame(f.streamId, "ok", FrameFlag.END_STREAM),
					);
				}
			});
		});
		const tracked = tcpClient(raw.port);
		const result = await outcome(
			tracked.call("/big", new Uint8Array(0), [["x-big", bigRequest]]),
		);
		expect(result.error).toBeUndefined();
		expect(result.headers?.["x-big-resp"]).toBe(bigResponse);
		expect(result.body.toString()).toBe("ok");

		const conn = await raw.connection(0);
		const blockFrames = conn.frames.filter(
			(f) => f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION,
		);
		// HEADERS (END_STREAM, no END_HEADERS), then CONTINUATIONs of which only the last has END_HEADERS.
		expect(blockFrames.length).toBeGreaterThanOrEqual(2);
		expect(blockFrames.map((f) => [f.type, f.flags])).toEqual(
			blockFrames.map((_, i) =>
				i === 0
					? [FrameType.HEADERS, FrameFlag.END_STREAM]
					: [
							FrameType.CONTINUATION,
							i === blockFrames.length - 1 ? FrameFlag.END_HEADERS : 0,
						],
			),
		);
		for (const f of blockFrames) {
			expect(f.streamId).toBe(1);
			expect(f.payload.length).toBeLessThanOrEqual(16_384);
		}
		const sent = Buffer.concat(blockFrames.map((f) => f.payload));
		expect(
			sent.equals(
				Buffer.from(
					requestBlock(`127.0.0.1:${raw.port}`, "/big", [
						["x-big", bigRequest],
					]),
				),
			),
		).toBe(true);
	});

	it("keeps request DATA within the stream window, and sends more on SETTINGS and WINDOW_UPDATE credit", async () => {
		const raw = await startRaw((c) => {
			// A small stream window but a large connection window: only the stream window can hold the body back.
			c.sendSettings([[Setting.INITIAL_WINDOW_SIZE, 1000]]);
			const increment = Buffer.alloc(4);
			increment.writeUInt32BE(1_000_000, 0);
			c.write(frame(FrameType.WINDOW_UPDATE, 0, 0, increment));
			c.onFrame((f) => {
				if (isHeaders(f) && (f.flags & FrameFlag.END_STREAM) !== 0)
					c.write(okResponse(f.streamId, "warm"));
			});
		});
		const tracked = tcpClient(raw.port);
		// Before our SETTINGS arrive the client may use the default 65,535-byte window (RFC 9113 §6.9.2), so the
		// upload starts once the client has acknowledged them.
		await outcome(tracked.call("/warm"));
		const conn = await raw.connection(0);
		await conn.waitFor(
			(f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0,
		);
		const body = randomBytes(5000);
		const call = tracked.call("/upload", body);
		const dataBytes = (): number =>
			conn.framesOf(FrameType.DATA).reduce((n, f) => n + f.payload.length, 0);
		// A PING round trip after the client's SETTINGS ACK: whatever DATA the client would send unprompted is in by then.
		const roundTrip = async (id: number): Promise<void> => {
			const payload = Buffer.alloc(8, id);
			const ack = conn.waitForNext(
				(f) => f.type === FrameType.PING && f.payload.equals(payload),
			);
			conn.write(pingFrame(payload));
			await ack;
		};
		await roundTrip(1);
		expect(dataBytes()).toBe(1000);
		// Raising SETTINGS_INITIAL_WINDOW_SIZE adds the difference to the open stream's window.
		conn.sendSettings([[Setting.INITIAL_WINDOW_SIZE, 3000]]);
		await roundTrip(2);
		expect(dataBytes()).toBe(3000);
		const increment = Buffer.alloc(4);
		increment.writeUInt32BE(2000, 0);
		conn.write(frame(FrameType.WINDOW_UPDATE, 0, 3, increment));
		const last = await conn.waitFor(
			(f) =>
				f.type === FrameType.DATA && (f.flags & FrameFlag.END_STREAM) !== 0,
		);
		const received = Buffer.concat(
			conn.framesOf(FrameType.DATA).map((f) => f.payload),
		);
		expect(received.equals(body)).toBe(true);
		expect(last.streamId).toBe(3);
		conn.write(okResponse(3, "uploaded"));
		expect((await outcome(call)).body.toString()).toBe("uploaded");
	});

	it("sends a stream again on a new connection when a GOAWAY's last stream id is below it", async () => {
		const raw = await startRaw((c) => {
			if (c.index > 0) return serveHealthy(c);
			c.sendSettings();
			c.onFrame((f) => {
				// Two requests arrive; only the first is processed.
				if (isHeaders(f) && f.streamId === 3) {
					c.write(
						goawayFrame(1, Http2ErrorCode.NO_ERROR),
						okResponse(1, "first on conn0"),
					);
				}
			});
		});
		const tracked = tcpClient(raw.port);
		const first = tracked.call("/one");
		const second = tracked.call("/two", Buffer.from("payload"));
		const [r1, r2] = await Promise.all([outcome(first), outcome(second)]);
		expect(r1.body.toString()).toBe("first on conn0");
		expect(r2.error).toBeUndefined();
		expect(r2.body.toString()).toBe("conn1");
		expect(raw.connections).toHaveLength(2);
		// The retried stream is the same request: same header block and body.
		const conn0 = await raw.connection(0);
		const conn1 = await raw.connection(1);
		const original = conn0.frames.find((f) => isHeaders(f) && f.streamId === 3);
		const resent = conn1.frames.find((f) => isHeaders(f) && f.streamId === 1);
		expect(resent?.payload.equals(original?.payload as Buffer)).toBe(true);
		expect(
			conn1.frames.find((f) => f.type === FrameType.DATA)?.payload.toString(),
		).toBe("payload");
		// The old connection was closed once its last stream finished.
		await conn0.closed;
	}, 10_000);

	it("fails with kind refused when the stream is refused by GOAWAY again after the retry", async () => {
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (isHeaders(f))
					c.write(goawayFrame(0, Http2ErrorCode.ENHANCE_YOUR_CALM, "busy"));
			});
		});
		const result = await outcome(tcpClient(raw.port).call());
		expect(result.error?.kind).toBe("refused");
		expect(result.error?.http2Code).toBe(Http2ErrorCode.ENHANCE_YOUR_CALM);
		expect(result.error?.message).toMatch(/GOAWAY ENHANCE_YOUR_CALM: busy/);
		expect(raw.connections).toHaveLength(2);
	});

	it("fails the calls a server accepted when its GOAWAY carries an error code, though it keeps the socket open", async () => {
		const raw = await startRaw((c) => {
			if (c.index > 0) return serveHealthy(c);
			c.sendSettings();
			c.onFrame((f) => {
				// Accepts stream 1 (last stream id 1), reports an error and leaves the socket open.
				if (isHeaders(f))
					c.write(goawayFrame(1, Http2ErrorCode.INTERNAL_ERROR, "broken"));
			});
		});
		const tracked = tcpClient(raw.port);
		const result = await outcome(tracked.call());
		expect(result.error?.kind).toBe("connection");
		expect(result.error?.http2Code).toBe(Http2ErrorCode.INTERNAL_ERROR);
		expect(result.error?.message).toBe(
			"the server ended the connection (GOAWAY INTERNAL_ERROR: broken)",
		);
		// Not retried (the server may have processed it); the next call gets a fresh connection.
		expect(raw.connections).toHaveLength(1);
		expect((await outcome(tracked.call())).body.toString()).toBe("conn1");
	});

	it("starts only the first header block after a SETTINGS_HEADER_TABLE_SIZE with a table size update", async () => {
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (isHeaders(f)) c.write(okResponse(f.streamId, "ok"));
			});
		});
		const tracked = tcpClient(raw.port);
		await outcome(tracked.call());
		const conn = await raw.connection(0);
		const ack = conn.waitForNext(
			(f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0,
		);
		conn.sendSettings([[Setting.HEADER_TABLE_SIZE, 256]]);
		await ack;
		await outcome(tracked.call());
		await outcome(tracked.call());
		const plain = Buffer.from(requestBlock(`127.0.0.1:${raw.port}`, "/test"));
		expect(
			conn.framesOf(FrameType.HEADERS).map((f) => f.payload.toString("hex")),
		).toEqual([
			plain.toString("hex"),
			`20${plain.toString("hex")}`,
			plain.toString("hex"),
		]);
	});

	it("ACKs the server's PING with the same 8 bytes", async () => {
		const payload = Buffer.from([1, 2, 3, 4, 250, 251, 252, 253]);
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.write(pingFrame(payload));
		});
		tcpClient(raw.port).call();
		const conn = await raw.connection(0);
		const ack = await conn.waitFor((f) => f.type === FrameType.PING);
		expect(ack.flags).toBe(FrameFlag.ACK);
		expect(ack.streamId).toBe(0);
		expect(ack.payload.equals(payload)).toBe(true);
	});

	it("fails an open call with kind connection when keep-alive PINGs go unanswered", async () => {
		const raw = await startRaw((c) => c.sendSettings());
		const tracked = tcpClient(raw.port, {
			keepAliveTimeMs: 50,
			keepAliveTimeoutMs: 100,
		});
		const result = await outcome(tracked.call());
		expect(result.error?.kind).toBe("connection");
		expect(result.error?.message).toMatch(/PING/);
		const conn = await raw.connection(0);
		expect(conn.framesOf(FrameType.PING).length).toBeGreaterThanOrEqual(1);
		await conn.closed;
	});

	it("keeps a call open past the keep-alive timeout while the server ACKs its PINGs", async () => {
		const raw = await startRaw((c) => {
			c.sendSettings();
			let pings = 0;
			c.onFrame((f) => {
				if (f.type !== FrameType.PING || (f.flags & FrameFlag.ACK) !== 0)
					return;
				c.write(pingFrame(f.payload, true));
				// Answer only after several keep-alive rounds, well past keepAliveTimeoutMs in total.
				if (++pings === 3) c.write(okResponse(1, "late"));
			});
		});
		const started = performance.now();
		const result = await outcome(
			tcpClient(raw.port, {
				keepAliveTimeMs: 50,
				keepAliveTimeoutMs: 100,
			}).call(),
		);
		expect(result.error).toBeUndefined();
		expect(result.body.toString()).toBe("late");
		expect(performance.now() - started).toBeGreaterThan(100);
	});

	it("probe() drops a black-holed connection after timeoutMs; the next request dials a new socket", async () => {
		const raw = await startRaw((c) => {
			if (c.index > 0) return serveHealthy(c);
			c.sendSettings();
		});
		const tracked = tcpClient(raw.port);
		const call = tracked.call();
		const conn0 = await raw.connection(0);
		await conn0.waitFor(isHeaders);
		const started = performance.now();
		tracked.client.probe(call.stream, 100);
		const result = await outcome(call);
		expect(performance.now() - started).toBeGreaterThanOrEqual(95);
		expect(result.error?.kind).toBe("connection");
		expect(result.error?.message).toMatch(/PING within 100 ms/);
		await conn0.closed;
		const next = await outcome(tracked.call());
		expect(next.body.toString()).toBe("conn1");
		expect(tracked.sockets).toHaveLength(2);
	});

	it("probe() leaves a connection that answers the PING alone", async () => {
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (f.type === FrameType.PING && (f.flags & FrameFlag.ACK) === 0) {
					c.write(pingFrame(f.payload, true));
					c.write(okResponse(1, "after probe"));
				}
			});
		});
		const tracked = tcpClient(raw.port);
		const call = tracked.call();
		await (await raw.connection(0)).waitFor(isHeaders);
		tracked.client.probe(call.stream, 100);
		const result = await outcome(call);
		expect(result.body.toString()).toBe("after probe");
		expect(tracked.sockets).toHaveLength(1);
	});

	const violations: readonly [
		string,
		(c: RawConnection) => void,
		number,
		RegExp,
	][] = [
		[
			"a non-HTTP/2 answer",
			(c) =>
				c.write(
					Buffer.from("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"),
				),
			Http2ErrorCode.PROTOCOL_ERROR,
			/did not answer with HTTP\/2/,
		],
		[
			"DATA on a stream never opened",
			(c) => c.write(dataFrame(3, "x")),
			Http2ErrorCode.PROTOCOL_ERROR,
			/DATA on stream 3, which was never opened/,
		],
		[
			"a frame larger than 16384 bytes",
			(c) =>
				c.write(
					headersFrame(1, [[":status", "200"]]),
					dataFrame(1, Buffer.alloc(16_385)),
				),
			Http2ErrorCode.FRAME_SIZE_ERROR,
			/16385 bytes/,
		],
		[
			"PUSH_PROMISE",
			(c) =>
				c.write(
					frame(
						FrameType.PUSH_PROMISE,
						FrameFlag.END_HEADERS,
						1,
						Buffer.concat([
							Buffer.from([0, 0, 0, 2]),
							encodeHeaderBlock([
								[":method", "GET"],
								[":scheme", "http"],
								[":authority", "x"],
								[":path", "/pushed"],
							]),
						]),
					),
				),
			Http2ErrorCode.PROTOCOL_ERROR,
			/PUSH_PROMISE/,
		],
		[
			"an undecodable HPACK block",
			// Indexed field 70: beyond the static table, and the dynamic table is empty.
			(c) =>
				c.write(
					frame(
						FrameType.HEADERS,
						FrameFlag.END_HEADERS,
						1,
						Buffer.from([0x80 | 70]),
					),
				),
			Http2ErrorCode.COMPRESSION_ERROR,
			/cannot decode the server's headers/,
		],
		[
			"a header block interrupted by another frame",
			(c) =>
				c.write(
					frame(
						FrameType.HEADERS,
						0,
						1,
						encodeHeaderBlock([[":status", "200"]]),
					),
					pingFrame(Buffer.alloc(8)),
				),
			Http2ErrorCode.PROTOCOL_ERROR,
			/header block interrupted/,
		],
		[
			"SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
			(c) =>
				c.write(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 0x8000_0000]])),
			Http2ErrorCode.FLOW_CONTROL_ERROR,
			/INITIAL_WINDOW_SIZE/,
		],
	];

	it.each(violations)(
		"%s → kind protocol, GOAWAY with the matching code, and a fresh connection next",
		async (label, misbehave, code, message) => {
			const raw = await startRaw((c) => {
				if (c.index > 0) return serveHealthy(c);
				if (label === "a non-HTTP/2 answer") {
					misbehave(c);
					return;
				}
				c.sendSettings();
				c.onFrame((f) => {
					if (isHeaders(f)) misbehave(c);
				});
			});
			const tracked = tcpClient(raw.port);
			const result = await outcome(tracked.call());
			expect(result.error?.kind).toBe("protocol");
			expect(result.error?.http2Code).toBe(code);
			expect(result.error?.message).toMatch(message);

			const conn0 = await raw.connection(0);
			const goaway = parseGoaway(
				(await conn0.waitForType(FrameType.GOAWAY)).payload,
			);
			expect(conn0.prefaceOk).toBe(true);
			expect(goaway.code).toBe(code);
			expect(goaway.lastStreamId).toBe(0);
			expect(goaway.debug).toMatch(message);
			await conn0.closed;

			const next = await outcome(tracked.call());
			expect(next.error).toBeUndefined();
			expect(next.body.toString()).toBe("conn1");
			expect(tracked.sockets).toHaveLength(2);
		},
	);

	it("decodes padded HEADERS (with PRIORITY) and padded DATA, skipping a 1xx answer", async () => {
		const padded = (
			type: number,
			flags: number,
			streamId: number,
			content: Buffer,
			pad: number,
			priority = false,
		): Buffer =>
			frame(
				type,
				flags | FrameFlag.PADDED | (priority ? FrameFlag.PRIORITY : 0),
				streamId,
				Buffer.concat([
					Buffer.from([pad]),
					priority ? Buffer.from([0x80, 0, 0, 0, 15]) : Buffer.alloc(0),
					content,
					Buffer.alloc(pad, 0xee),
				]),
			);
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (!isHeaders(f)) return;
				c.write(
					headersFrame(1, [[":status", "100"]]),
					padded(
						FrameType.HEADERS,
						FrameFlag.END_HEADERS,
						1,
						Buffer.from(
							encodeHeaderBlock([
								[":status", "200"],
								["x-h", "v"],
							]),
						),
						7,
						true,
					),
					padded(FrameType.DATA, 0, 1, Buffer.from("hello"), 4),
					padded(FrameType.DATA, 0, 1, Buffer.from(" world"), 0),
					padded(
						FrameType.HEADERS,
						FrameFlag.END_HEADERS | FrameFlag.END_STREAM,
						1,
						Buffer.from(encodeHeaderBlock([["grpc-status", "0"]])),
						3,
					),
				);
			});
		});
		const call = tcpClient(raw.port).call();
		const result = await outcome(call);
		expect(result.error).toBeUndefined();
		expect(call.events.map((e) => e.kind)).toEqual([
			"headers",
			"data",
			"data",
			"headers",
		]);
		expect(result.headers).toEqual({ ":status": "200", "x-h": "v" });
		expect(result.body.toString()).toBe("hello world");
		expect(result.trailers).toEqual({ "grpc-status": "0" });
	});

	it("RST_STREAM from the server fails the call with kind reset and its code", async () => {
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (isHeaders(f))
					c.write(rstStreamFrame(f.streamId, Http2ErrorCode.INTERNAL_ERROR));
			});
		});
		const tracked = tcpClient(raw.port);
		const result = await outcome(tracked.call());
		expect(result.error?.kind).toBe("reset");
		expect(result.error?.http2Code).toBe(Http2ErrorCode.INTERNAL_ERROR);
		expect(result.error?.message).toMatch(/INTERNAL_ERROR/);
		// Only the stream ended: the connection stays in use.
		const conn = await raw.connection(0);
		expect(conn.framesOf(FrameType.HEADERS)).toHaveLength(1);
		expect(conn.framesOf(FrameType.GOAWAY)).toHaveLength(0);
	});

	it("REFUSED_STREAM is retried once; a second refusal fails with kind refused", async () => {
		let refusals = 1;
		const raw = await startRaw((c) => {
			c.sendSettings();
			c.onFrame((f) => {
				if (!isHeaders(f)) return;
				if (refusals-- > 0)
					c.write(rstStreamFrame(f.streamId, Http2ErrorCode.REFUSED_STREAM));
				else c.write(okResponse(f.streamId, `stream ${f.streamId}`));
			});
		});
		const tracked = tcpClient(raw.port);
		const ok = await outcome(tracked.call("/retried"));
		expect(ok.error).toBeUndefined();
		expect(ok.body.toString()).toBe("stream 3");
		const conn = await raw.connection(0);
		const [h1, h3] = conn.framesOf(FrameType.HEADERS);
		expect(h3?.payload.equals(h1?.payload as Buffer)).toBe(true);

		refusals = 2;
		const refused = await outcome(tracked.call("/refused"));
		expect(refused.error?.kind).toBe("refused");
		expect(refused.error?.http2Code).toBe(Http2ErrorCode.REFUSED_STREAM);
		expect(conn.framesOf(FrameType.HEADERS).map((f) => f.streamId)).toEqual([
			1, 3, 5, 7,
		]);
	});

	it("cancel() resets a started stream, drops a queued one unsent, and the handlers hear nothing more", async () => {
		const raw = await startRaw((c) => {
			c.sendSettings([[Setting.MAX_CONCURRENT_STREAMS, 1]]);
			c.onFrame((f) => {
				// Answer a cancelled stream anyway (a legal race): the client must drop it.
				if (f.type === FrameType.RST_STREAM)
					c.write(okResponse(f.streamId, "too late"));
			});
		});
		const tracked = tcpClient(raw.port);
		const a = tracked.call("/a");
		const conn = await raw.connection(0);
		// Our SETTINGS ACK proves the client knows the limit before B and C are made.
		await conn.waitFor(
			(f) => f.type === FrameType.SETTINGS && (f.flags & FrameFlag.ACK) !== 0,
		);
		const b = tracked.call("/b");
		const c = tracked.call("/c");
		b.stream.cancel();
		a.stream.cancel();
		const rst = await conn.waitForType(FrameType.RST_STREAM, 1);
		expect(rst.payload.readUInt32BE(0)).toBe(Http2ErrorCode.CANCEL);
		// C starts in A's place; B never reaches the server.
		const cHeaders = await conn.waitFor(
			(f) => isHeaders(f) && f.streamId === 3,
		);
		expect(
			cHeaders.payload.equals(
				Buffer.from(requestBlock(`127.0.0.1:${raw.port}`, "/c")),
			),
		).toBe(true);
		conn.write(okResponse(3, "c"));
		const cResult = await outcome(c);
		expect(cResult.body.toString()).toBe("c");
		expect(conn.framesOf(FrameType.HEADERS).map((f) => f.streamId)).toEqual([
			1, 3,
		]);
		// Stream 1's late answer was written before C's, so it has been read by now.
		expect(a.events).toEqual([]);
		expect(b.events).toEqual([]);
		// A second cancel is a no-op (no second RST_STREAM).
		a.stream.cancel();
		expect(conn.framesOf(FrameType.RST_STREAM)).toHaveLength(1);
	});
});

describe("Http2Client dial failures and process lifetime", () => {
	it("a refused connection fails the call with kind connection naming ECONNREFUSED", async () => {
		const probe = net.createServer();
		probe.listen(0, "127.0.0.1");
		await once(probe, "listening");
		const port = (probe.address() as AddressInfo).port;
		await new Promise<void>((resolve) => probe.close(() => resolve()));
		const result = await outcome(tcpClient(port).call());
		expect(result.error?.kind).toBe("connection");
		expect(result.error?.message).toMatch(
			/^cannot connect to the server: .*ECONNREFUSED/,
		);
	});

	it("a dial that throws fails the call through onFailure during request()", () => {
		let dials = 0;
		const tracked = trackedClient(() => {
			dials++;
			throw new Error("no route to the moon");
		});
		const call = tracked.call();
		expect(call.events).toHaveLength(1);
		const [event] = call.events;
		expect(event?.kind).toBe("failure");
		if (event?.kind !== "failure") return;
		expect(event.error.kind).toBe("connection");
		expect(event.error.message).toMatch(/no route to the moon/);
		// The client stays usable: the next request dials again.
		tracked.call();
		expect(dials).toBe(2);
	});

	it("an idle client does not keep the process alive", async () => {
		const server = await startNode(http2.createServer());
		server.server.on("stream", (stream) => {
			stream.respond({ ":status": 200 });
			stream.end("x");
		});
		const { exitCode, out, err } = await runTsChild(
			path.join(__dirname, "testdata", "idle-client-child.ts"),
			[String(server.port)],
			{
				cwd: path.resolve(__dirname, "..", "..", "..", ".."),
				timeoutMs: 10_000,
			},
		);
		expect({ exitCode, err }).toEqual({ exitCode: 0, err: "" });
		expect(out.trim()).toBe("status 200");
		// The child really talked to the server (and left its session open when it exited).
		expect(server.sessionCount).toBe(1);
	}, 20_000);
});
