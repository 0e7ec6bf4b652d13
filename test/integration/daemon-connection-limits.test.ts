/**
 * Connection limits against hostile clients, on real sockets: slow and silent headers on every port, HTTP/2
 * connections ended by a protocol error, and stream floods (per connection and overall). Timeouts are made short
 * through the daemon's options so each test awaits the daemon's own reaction (a closed socket, a refused stream)
 * instead of sleeping.
 */
import http2 from "node:http2";
import type net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1, FlagSyncService } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	closedByServer,
	connectRaw,
	DATA_ON_STREAM_0,
	EMPTY_SETTINGS,
	FrameReader,
	frame,
	GOAWAY,
	getRequest,
	HEADERS,
	once,
	openDescriptors,
	openGrpcStream,
	PREFACE,
	RST_STREAM,
	SETTINGS,
} from "./connection-test-kit.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";

describe("slow, silent and broken connections", () => {
	let daemon: RunningDaemon;
	const HEADER_TIMEOUT_MS = 300;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:slow", BASIC_FLAGS)],
			{
				headerTimeoutMs: HEADER_TIMEOUT_MS,
				idleTimeoutMs: 300,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	// Generous for a busy 2-core machine, still far below "never".
	const CLOSE_WITHIN_MS = 10_000;

	it.each([
		["evaluation", () => daemon.ports.evaluation],
		["management", () => daemon.ports.management],
		["OFREP", () => daemon.ports.ofrep],
	])(
		"closes 100 connections with unfinished HTTP/1.1 headers on the %s port within the header timeout",
		async (_name, port) => {
			const partial = `POST / HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(8_000)}`;
			const sockets = await Promise.all(
				Array.from({ length: 100 }, async () => {
					const socket = await connectRaw(port() as number);
					socket.write(partial);
					return socket;
				}),
			);
			try {
				const waits = await Promise.all(
					sockets.map((s) => closedByServer(s, CLOSE_WITHIN_MS)),
				);
				expect(Math.max(...waits)).toBeLessThan(CLOSE_WITHIN_MS);
			} finally {
				for (const s of sockets) s.destroy();
			}
		},
	);

	it.each([
		["evaluation", "P", () => daemon.ports.evaluation],
		["evaluation", "G", () => daemon.ports.evaluation],
		["management", "P", () => daemon.ports.management],
		["management", "G", () => daemon.ports.management],
		["OFREP", "G", () => daemon.ports.ofrep],
		["sync", "P", () => daemon.ports.sync],
	])(
		"closes a connection to the %s port that sends %j and then nothing",
		async (_name, byte, port) => {
			const socket = await connectRaw(port() as number);
			try {
				socket.write(byte);
				await closedByServer(socket, CLOSE_WITHIN_MS);
			} finally {
				socket.destroy();
			}
		},
	);

	it.each([
		["evaluation", () => daemon.ports.evaluation],
		["management", () => daemon.ports.management],
		["sync", () => daemon.ports.sync],
	])(
		"closes an HTTP/2 connection to the %s port that sends the preface but no request",
		async (_name, port) => {
			const socket = await connectRaw(port() as number);
			try {
				socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
				await closedByServer(socket, CLOSE_WITHIN_MS);
			} finally {
				socket.destroy();
			}
		},
	);

	it("releases the descriptors of 300 HTTP/2 connections ended by a protocol error", async () => {
		const before = openDescriptors();
		const ports = [
			daemon.ports.sync,
			daemon.ports.evaluation,
			daemon.ports.management,
		] as number[];
		for (let batch = 0; batch < 3; batch++) {
			const sockets = await Promise.all(
				Array.from({ length: 100 }, async (_, i) => {
					const socket = await connectRaw(ports[i % ports.length] as number);
					socket.end(
						Buffer.concat([PREFACE, EMPTY_SETTINGS, DATA_ON_STREAM_0]),
					);
					return socket;
				}),
			);
			// The client only half-closed: each socket closes once the daemon closes its side.
			await Promise.all(sockets.map((s) => closedByServer(s, CLOSE_WITHIN_MS)));
		}
		await waitFor(
			() => openDescriptors() <= before + 2,
			CLOSE_WITHIN_MS,
			`descriptors back to ${before} (now ${openDescriptors()})`,
		);
	});

	it.each([
		["management", () => daemon.ports.management],
		["sync", () => daemon.ports.sync],
	])(
		"releases an HTTP/2 connection to the %s port that served a request and then broke the protocol",
		async (_name, port) => {
			const before = openDescriptors();
			const sockets: net.Socket[] = [];
			for (let i = 0; i < 20; i++) {
				const socket = await connectRaw(port() as number);
				const frames = new FrameReader(socket);
				socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS, getRequest(1)]));
				await frames.waitFor(
					(f) => f.type === HEADERS && f.streamId === 1,
					"the response to GET /",
				);
				// The request is answered and the connection idle; now break the protocol and half-close.
				socket.end(DATA_ON_STREAM_0);
				sockets.push(socket);
			}
			await Promise.all(sockets.map((s) => closedByServer(s, CLOSE_WITHIN_MS)));
			await waitFor(
				() => openDescriptors() <= before + 2,
				CLOSE_WITHIN_MS,
				`descriptors back to ${before} (now ${openDescriptors()})`,
			);
		},
	);
	it.each([
		[
			"sync",
			"/flagd.sync.v1.FlagSyncService/SyncFlags",
			() => daemon.ports.sync,
		],
		[
			"evaluation",
			"/flagd.evaluation.v1.Service/EventStream",
			() => daemon.ports.evaluation,
		],
	])(
		"releases an HTTP/2 connection to the %s port that broke the protocol while a stream was open",
		async (_name, path, port) => {
			// Node 20 sends GOAWAY but emits nothing and keeps the stream open; the daemon's liveness PING (every
			// idle timeout while streams are open) goes unanswered and ends the connection.
			const socket = await connectRaw(port() as number);
			try {
				const frames = new FrameReader(socket);
				const emptyMessage = frame(0, 0x01, 1, Buffer.alloc(5)); // DATA, END_STREAM: one empty message
				socket.write(
					Buffer.concat([
						PREFACE,
						EMPTY_SETTINGS,
						openGrpcStream(1, path),
						emptyMessage,
					]),
				);
				await frames.waitFor(
					(f) => f.type === 0 && f.streamId === 1,
					"the stream's first message",
				);
				socket.end(DATA_ON_STREAM_0);
				await frames.waitFor((f) => f.type === GOAWAY, "GOAWAY");
				await closedByServer(socket, CLOSE_WITHIN_MS);
			} finally {
				socket.destroy();
			}
		},
	);
});

describe("HTTP/2 streams per connection", () => {
	let daemon: RunningDaemon;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:streams", BASIC_FLAGS)],
			{
				maxConcurrentStreams: 5,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it.each([
		["evaluation", () => daemon.ports.evaluation],
		["sync", () => daemon.ports.sync],
		["management", () => daemon.ports.management],
	])(
		"advertises SETTINGS_MAX_CONCURRENT_STREAMS on the %s port",
		async (_name, port) => {
			const session = http2.connect(`http://127.0.0.1:${port()}`);
			session.on("error", () => {});
			try {
				const settings = await once<http2.Settings>(
					session,
					"remoteSettings",
					5_000,
					"the daemon's SETTINGS",
				);
				expect(settings.maxConcurrentStreams).toBe(5);
			} finally {
				session.destroy();
			}
		},
	);

	const SYNC_FLAGS = "/flagd.sync.v1.FlagSyncService/SyncFlags";

	it("refuses streams over the limit with RST_STREAM REFUSED_STREAM before the client acknowledged it", async () => {
		const socket = await connectRaw(daemon.ports.sync as number);
		try {
			const frames = new FrameReader(socket);
			const opens = Array.from({ length: 8 }, (_, i) =>
				openGrpcStream(2 * i + 1, SYNC_FLAGS),
			);
			socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS, ...opens]));
			const refused = await Promise.all(
				[11, 13, 15].map((id) =>
					frames.waitFor(
						(f) => f.type === RST_STREAM && f.streamId === id,
						`RST_STREAM for stream ${id}`,
					),
				),
			);
			for (const rst of refused) expect(rst.payload.readUInt32BE(0)).toBe(7); // REFUSED_STREAM
			// The first five stay open, waiting for their request message.
			expect(
				frames.frames.filter((f) => f.type === RST_STREAM && f.streamId <= 9),
			).toEqual([]);
		} finally {
			socket.destroy();
		}
	});

	it("ends the connection of a client that exceeds the acknowledged limit, and keeps serving others", async () => {
		const socket = await connectRaw(daemon.ports.sync as number);
		try {
			const frames = new FrameReader(socket);
			socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
			await frames.waitFor(
				(f) => f.type === SETTINGS && (f.flags & 1) === 0,
				"the daemon's SETTINGS",
			);
			const opens = Array.from({ length: 8 }, (_, i) =>
				openGrpcStream(2 * i + 1, SYNC_FLAGS),
			);
			socket.write(
				Buffer.concat([frame(SETTINGS, 0x01, 0, Buffer.alloc(0)), ...opens]),
			);
			// Node's HTTP/2 treats it as a connection error: GOAWAY, then the socket is closed.
			await frames.waitFor((f) => f.type === GOAWAY, "GOAWAY");
			await closedByServer(socket, 10_000);
		} finally {
			socket.destroy();
		}
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl: `http://127.0.0.1:${daemon.ports.sync}` }),
		);
		expect((await client.fetchAllFlags({})).flagConfiguration).toContain(
			"bool-flag",
		);
	});
});

describe("open stream caps", () => {
	let daemon: RunningDaemon;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:caps", BASIC_FLAGS)],
			{
				maxEventStreams: 2,
				maxSyncStreams: 2,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	/** Opens a server stream and resolves once its first message arrived; `abort` ends it. */
	async function openStream(
		next: () => AsyncIterator<unknown>,
	): Promise<AsyncIterator<unknown>> {
		const it = next();
		await it.next();
		return it;
	}

	it.each([
		[
			"EventStream",
			"--max-event-streams",
			(signal: AbortSignal) =>
				createClient(
					EvaluationServiceV1,
					createGrpcTransport({
						baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
					}),
				)
					.eventStream({}, { signal })
					[Symbol.asyncIterator](),
		],
		[
			"SyncFlags",
			"--max-sync-streams",
			(signal: AbortSignal) =>
				createClient(
					FlagSyncService,
					createGrpcTransport({
						baseUrl: `http://127.0.0.1:${daemon.ports.sync}`,
					}),
				)
					.syncFlags({}, { signal })
					[Symbol.asyncIterator](),
		],
	])(
		"refuses a %s over the cap with RESOURCE_EXHAUSTED naming %s, and accepts one again when a slot frees",
		async (_name, option, open) => {
			const controllers = [new AbortController(), new AbortController()];
			try {
				for (const c of controllers) await openStream(() => open(c.signal));
				const third = new AbortController();
				controllers.push(third);
				const refused = await openStream(() => open(third.signal)).then(
					() => undefined,
					(e: unknown) => ConnectError.from(e),
				);
				expect(refused?.code).toBe(Code.ResourceExhausted);
				expect(refused?.rawMessage).toContain(option);
				controllers[0]?.abort();
				const again = new AbortController();
				controllers.push(again);
				// The daemon notices the abort when the stream's RST arrives; retry until the slot is free.
				await waitFor(
					async () =>
						openStream(() => open(again.signal)).then(
							() => true,
							() => false,
						),
					10_000,
					"a stream to be accepted after one closed",
				);
			} finally {
				for (const c of controllers) c.abort();
			}
		},
	);
});
