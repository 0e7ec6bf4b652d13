/**
 * Transport limits against hostile clients, on real sockets: a huge streamed body on the sync port, slow and silent
 * headers on every port, HTTP/2 connections ended by a protocol error, stream floods (per connection and overall),
 * malformed protobuf and deeply nested OFREP contexts. Timeouts are made short through the daemon's options so each
 * test awaits the daemon's own reaction (a closed socket, a status) instead of sleeping.
 */
import { execFileSync } from "node:child_process";
import {
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1, FlagSyncService } from "@flagd-ts/protocol";
import {
	FetchAllFlagsRequestSchema,
	FetchAllFlagsResponseSchema,
} from "@flagd-ts/protocol/sync-v1";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";

const MiB = 1024 * 1024;

/** Resolves when `emitter` emits `event`, or rejects after `timeoutMs` naming `what`. */
function once<T = unknown>(
	emitter: NodeJS.EventEmitter,
	event: string,
	timeoutMs: number,
	what: string,
): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() =>
				reject(
					new Error(`timed out after ${timeoutMs} ms waiting for ${what}`),
				),
			timeoutMs,
		);
		// Unref'd: a wait that lost a race must not keep Jest alive.
		timer.unref();
		emitter.once(event, (value: T) => {
			clearTimeout(timer);
			resolve(value);
		});
	});
}

/** A raw TCP client; resolves once connected. */
async function connectRaw(port: number): Promise<net.Socket> {
	const socket = net.connect(port, "127.0.0.1");
	socket.on("error", () => {});
	socket.on("data", () => {});
	await once(socket, "connect", 5_000, "TCP connect");
	return socket;
}

/** Resolves with how long the server took to close `socket` (the client never closes it). */
async function closedByServer(
	socket: net.Socket,
	timeoutMs: number,
): Promise<number> {
	const start = Date.now();
	if (!socket.destroyed)
		await once(socket, "close", timeoutMs, "the daemon to close the socket");
	return Date.now() - start;
}

describe("request body limit on the sync port", () => {
	let daemon: RunningDaemon;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:body", BASIC_FLAGS)],
			{
				maxRequestBodyBytes: 1_000_000,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it("refuses a 300 MB FetchAllFlags body behind a 2 GB length prefix after reading about the limit", async () => {
		global.gc?.();
		const rssBefore = process.memoryUsage().rss;
		const session = http2.connect(`http://127.0.0.1:${daemon.ports.sync}`);
		session.on("error", () => {});
		try {
			const stream = session.request({
				":method": "POST",
				":path": "/flagd.sync.v1.FlagSyncService/FetchAllFlags",
				"content-type": "application/grpc",
				te: "trailers",
			});
			stream.on("error", () => {});
			let status: string | undefined;
			const answered = new Promise<void>((resolve) => {
				const take = (headers: http2.IncomingHttpHeaders) => {
					const value = headers["grpc-status"];
					if (typeof value === "string") {
						status = value;
						resolve();
					}
				};
				stream.on("response", take);
				stream.on("trailers", take);
				stream.on("close", () => resolve());
			});
			let finished = false;
			void answered.then(() => {
				finished = true;
			});
			// gRPC envelope: uncompressed, length 2^31 - 1.
			stream.write(Buffer.from([0, 0x7f, 0xff, 0xff, 0xff]));
			const chunk = Buffer.alloc(MiB, 0x41);
			let sent = 0;
			// Bounded: at most 300 chunks; each waits until the daemon reads (drain) or answers.
			for (let i = 0; i < 300 && !finished; i++) {
				sent += chunk.length;
				if (!stream.write(chunk)) {
					await Promise.race([
						once(stream, "drain", 30_000, "drain"),
						answered,
					]);
				}
			}
			await Promise.race([
				answered,
				once(stream, "close", 30_000, "the stream to end"),
			]);
			expect(status).toBe("8"); // RESOURCE_EXHAUSTED
			// The daemon stopped reading at its limit: only flow-control windows and one chunk got through.
			expect(sent).toBeLessThan(16 * MiB);
			stream.close();
		} finally {
			session.destroy();
		}
		global.gc?.();
		expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * MiB);
	});
});

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
/** A DATA frame on stream 0: a connection error (PROTOCOL_ERROR) in HTTP/2. */
const DATA_ON_STREAM_0 = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41]);

const HEADERS = 1;
const RST_STREAM = 3;
const SETTINGS = 4;
const GOAWAY = 7;

interface Frame {
	readonly type: number;
	readonly flags: number;
	readonly streamId: number;
	readonly payload: Buffer;
}

/** Collects the HTTP/2 frames a raw client socket receives (the daemon's side of the conversation). */
class FrameReader {
	readonly frames: Frame[] = [];
	#buffer = Buffer.alloc(0);
	#waiters: Array<() => void> = [];

	constructor(socket: net.Socket) {
		socket.on("data", (chunk: Buffer) => {
			this.#buffer = Buffer.concat([this.#buffer, chunk]);
			while (this.#buffer.length >= 9) {
				const length = this.#buffer.readUIntBE(0, 3);
				if (this.#buffer.length < 9 + length) break;
				this.frames.push({
					type: this.#buffer[3] as number,
					flags: this.#buffer[4] as number,
					streamId: this.#buffer.readUInt32BE(5) & 0x7fffffff,
					payload: this.#buffer.subarray(9, 9 + length),
				});
				this.#buffer = this.#buffer.subarray(9 + length);
			}
			for (const wake of this.#waiters.splice(0)) wake();
		});
	}

	/** Resolves with the first frame matching `predicate`, waiting for more frames up to 5 s. */
	async waitFor(
		predicate: (f: Frame) => boolean,
		what: string,
	): Promise<Frame> {
		const deadline = Date.now() + 5_000;
		for (;;) {
			const found = this.frames.find(predicate);
			if (found !== undefined) return found;
			if (Date.now() > deadline)
				throw new Error(
					`no frame: ${what}; got ${JSON.stringify(this.frames.map((f) => [f.type, f.flags, f.streamId, f.payload.toString("hex").slice(0, 40)]))}`,
				);
			await new Promise<void>((resolve) => {
				this.#waiters.push(resolve);
				setTimeout(resolve, 100).unref();
			});
		}
	}
}

function frame(
	type: number,
	flags: number,
	streamId: number,
	payload: Buffer,
): Buffer {
	const header = Buffer.alloc(9);
	header.writeUIntBE(payload.length, 0, 3);
	header[3] = type;
	header[4] = flags;
	header.writeUInt32BE(streamId, 5);
	return Buffer.concat([header, payload]);
}

/** HPACK literal header field without indexing, new name. */
function literal(name: string, value: string): Buffer {
	return Buffer.concat([
		Buffer.from([0x00, name.length]),
		Buffer.from(name),
		Buffer.from([value.length]),
		Buffer.from(value),
	]);
}

/** HEADERS (END_STREAM | END_HEADERS) for `GET /` (static table entries 2, 6, 4). */
function getRequest(streamId: number): Buffer {
	return frame(
		HEADERS,
		0x05,
		streamId,
		Buffer.from([0x82, 0x86, 0x84, 0x41, 0x01, 0x78]),
	);
}

/** HEADERS (END_HEADERS only: the request body never comes) for a gRPC POST to `path`. */
function openGrpcStream(streamId: number, path: string): Buffer {
	const block = Buffer.concat([
		Buffer.from([0x83, 0x86]), // :method POST, :scheme http
		Buffer.from([0x44, path.length]), // :path, literal value
		Buffer.from(path),
		Buffer.from([0x41, 0x01, 0x78]), // :authority x
		literal("content-type", "application/grpc"),
		literal("te", "trailers"),
	]);
	return frame(HEADERS, 0x04, streamId, block);
}

function openDescriptors(): number {
	return readdirSync("/proc/self/fd").length;
}

describe("request body limit over HTTP/1.1", () => {
	let daemon: RunningDaemon;

	beforeAll(async () => {
		daemon = await startTestDaemon(
			[new MemorySource("mem:h1body", BASIC_FLAGS)],
			{ maxRequestBodyBytes: 1_000_000 },
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it.each([
		[
			"evaluation",
			"/flagd.evaluation.v1.Service/ResolveBoolean",
			429,
			() => daemon.ports.evaluation,
		],
		["OFREP", "/ofrep/v1/evaluate/flags", 413, () => daemon.ports.ofrep],
		["management", "/healthz", 405, () => daemon.ports.management],
	])(
		"answers a 300 MB body on the %s port early and closes the connection instead of reading it",
		async (_name, path, status, port) => {
			const socket = await connectRaw(port() as number);
			let response = "";
			socket.setEncoding("latin1");
			socket.on("data", (text: string) => {
				response += text;
			});
			let closed = false;
			socket.once("close", () => {
				closed = true;
			});
			try {
				socket.write(
					`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${300 * MiB}\r\n\r\n`,
				);
				const chunk = Buffer.alloc(MiB, 0x20);
				let sent = 0;
				for (let i = 0; i < 300 && !closed; i++) {
					sent += chunk.length;
					if (!socket.write(chunk) && !closed) {
						await Promise.race([
							once(socket, "drain", 30_000, "drain"),
							once(socket, "close", 30_000, "close"),
						]);
					}
				}
				await closedByServer(socket, 30_000);
				expect(response.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
				expect(sent).toBeLessThan(32 * MiB);
			} finally {
				socket.destroy();
			}
		},
	);

	it("answers an oversized gRPC health check with RESOURCE_EXHAUSTED without reading it", async () => {
		const session = http2.connect(
			`http://127.0.0.1:${daemon.ports.management}`,
		);
		session.on("error", () => {});
		try {
			const stream = session.request({
				":method": "POST",
				":path": "/grpc.health.v1.Health/Check",
				"content-type": "application/grpc",
				te: "trailers",
			});
			stream.on("error", () => {});
			stream.resume();
			const response = once<http2.IncomingHttpHeaders>(
				stream,
				"response",
				30_000,
				"the health check answer",
			);
			stream.write(Buffer.alloc(64 * 1024));
			expect((await response)["grpc-status"]).toBe("8");
		} finally {
			session.destroy();
		}
	});
});

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

describe("malformed requests", () => {
	let daemon: RunningDaemon;
	let base: string;
	/** Field 1 (a string) claims 5 bytes but only 1 follows. */
	const MALFORMED = Buffer.from([0x0a, 0x05, 0x61]);
	const envelope = (flags: number, payload: Buffer) => {
		const header = Buffer.alloc(5);
		header[0] = flags;
		header.writeUInt32BE(payload.length, 1);
		return Buffer.concat([header, payload]);
	};

	beforeAll(async () => {
		daemon = await startTestDaemon([
			new MemorySource("mem:malformed", BASIC_FLAGS),
		]);
		await daemon.ready;
		base = `http://127.0.0.1:${daemon.ports.evaluation}`;
	});

	afterAll(async () => {
		await daemon.close();
	});

	it("answers a malformed protobuf body on the Connect protocol with 400 invalid_argument", async () => {
		const res = await fetch(
			`${base}/flagd.evaluation.v1.Service/ResolveBoolean`,
			{
				method: "POST",
				headers: { "Content-Type": "application/proto" },
				body: MALFORMED,
			},
		);
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ code: "invalid_argument" });
	});

	it("answers a malformed protobuf message over gRPC with status 3 (evaluation and sync ports)", async () => {
		for (const [port, path] of [
			[daemon.ports.evaluation, "/flagd.evaluation.v1.Service/ResolveBoolean"],
			[daemon.ports.sync, "/flagd.sync.v1.FlagSyncService/FetchAllFlags"],
		] as const) {
			const session = http2.connect(`http://127.0.0.1:${port}`);
			session.on("error", () => {});
			try {
				const stream = session.request({
					":method": "POST",
					":path": path,
					"content-type": "application/grpc",
					te: "trailers",
				});
				stream.on("data", () => {});
				const status = new Promise<string | undefined>((resolve) => {
					const take = (h: http2.IncomingHttpHeaders) => {
						if (h["grpc-status"] !== undefined)
							resolve(String(h["grpc-status"]));
					};
					stream.on("response", take);
					stream.on("trailers", take);
					stream.on("close", () => resolve(undefined));
				});
				stream.end(envelope(0, MALFORMED));
				expect({ path, status: await status }).toEqual({ path, status: "3" });
			} finally {
				session.destroy();
			}
		}
	});

	it("answers a malformed protobuf message over gRPC-web with status 3", async () => {
		const res = await fetch(
			`${base}/flagd.evaluation.v1.Service/ResolveBoolean`,
			{
				method: "POST",
				headers: { "Content-Type": "application/grpc-web+proto" },
				body: envelope(0, MALFORMED),
			},
		);
		const body = Buffer.from(await res.arrayBuffer());
		expect(body.toString("latin1")).toMatch(/grpc-status: ?3\r\n/);
	});

	it("answers a malformed protobuf stream request on the Connect protocol with invalid_argument", async () => {
		const res = await fetch(`${base}/flagd.evaluation.v1.Service/EventStream`, {
			method: "POST",
			headers: { "Content-Type": "application/connect+proto" },
			body: envelope(0, MALFORMED),
		});
		const body = Buffer.from(await res.arrayBuffer());
		const last = body.subarray(
			body.lastIndexOf(0x02, body.length - 1) >= 0 ? 0 : 0,
		);
		expect(last.toString("utf8")).toContain('"code":"invalid_argument"');
	});

	it("answers CORS from any origin with * by default (flagd's rs/cors), exposing the ETag", async () => {
		const res = await fetch(
			`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`,
			{
				method: "POST",
				headers: {
					Origin: "https://anywhere.example",
					"Content-Type": "application/json",
				},
				body: "{}",
			},
		);
		expect(res.status).toBe(200);
		expect(res.headers.get("access-control-allow-origin")).toBe("*");
		expect(res.headers.get("access-control-allow-credentials")).toBeNull();
		expect(res.headers.get("access-control-expose-headers")).toContain("ETag");
	});

	it("refuses an OFREP context nested 100,000 levels deep with 400 and accepts one 100 levels deep", async () => {
		const nested = (depth: number) =>
			`{"context":{"targetingKey":"u",${'"a":{'.repeat(depth - 1)}"x":1${"}".repeat(depth - 1)}}}`;
		const url = `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/bool-flag`;
		const deep = await fetch(url, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: nested(100_000),
		});
		expect(deep.status).toBe(400);
		expect(await deep.json()).toEqual({
			key: "bool-flag",
			errorCode: "INVALID_CONTEXT",
			errorDetails: "context is nested more than 100 levels deep",
			metadata: null,
		});
		const ok = await fetch(url, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: nested(100),
		});
		expect(ok.status).toBe(200);
	});
});

describe("TLS on every port, client certificates on the sync port", () => {
	let dir: string;
	let daemon: RunningDaemon;
	let ca: Buffer;
	let clientKey: Buffer;
	let clientCert: Buffer;

	beforeAll(async () => {
		dir = mkdtempSync(join(tmpdir(), "daemon-mtls-"));
		const run = (args: string[]) =>
			execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
		const ec = [
			"-newkey",
			"ec",
			"-pkeyopt",
			"ec_paramgen_curve:prime256v1",
			"-nodes",
		];
		run([
			"req",
			"-x509",
			...ec,
			"-keyout",
			"ca.key",
			"-out",
			"ca.crt",
			"-days",
			"1",
			"-subj",
			"/CN=test-ca",
		]);
		writeFileSync(
			join(dir, "server.cnf"),
			"subjectAltName=DNS:localhost,IP:127.0.0.1\n",
		);
		writeFileSync(join(dir, "client.cnf"), "extendedKeyUsage=clientAuth\n");
		for (const [name, subject] of [
			["server", "/CN=localhost"],
			["client", "/CN=edge-daemon"],
		] as const) {
			run([
				"req",
				...ec,
				"-keyout",
				`${name}.key`,
				"-out",
				`${name}.csr`,
				"-subj",
				subject,
			]);
			run([
				"x509",
				"-req",
				"-in",
				`${name}.csr`,
				"-CA",
				"ca.crt",
				"-CAkey",
				"ca.key",
				"-CAcreateserial",
				"-out",
				`${name}.crt`,
				"-days",
				"1",
				"-extfile",
				`${name}.cnf`,
			]);
		}
		ca = readFileSync(join(dir, "ca.crt"));
		clientKey = readFileSync(join(dir, "client.key"));
		clientCert = readFileSync(join(dir, "client.crt"));
		daemon = await startTestDaemon(
			[new MemorySource("mem:mtls", BASIC_FLAGS)],
			{
				tls: {
					certPath: join(dir, "server.crt"),
					keyPath: join(dir, "server.key"),
				},
				syncClientCaPath: join(dir, "ca.crt"),
				headerTimeoutMs: 500,
			},
		);
		await daemon.ready;
	});

	afterAll(async () => {
		await daemon.close();
		rmSync(dir, { recursive: true, force: true });
	});

	function httpsRequest(
		port: number,
		method: string,
		path: string,
		body?: string,
	): Promise<{ status: number; text: string }> {
		return new Promise((resolve, reject) => {
			const req = https.request(
				{
					host: "localhost",
					port,
					method,
					path,
					ca,
					headers: { "content-type": "application/json" },
				},
				(res) => {
					let text = "";
					res.setEncoding("utf8");
					res.on("data", (c: string) => {
						text += c;
					});
					res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
				},
			);
			req.on("error", reject);
			req.end(body);
		});
	}

	it("serves OFREP over HTTPS", async () => {
		const res = await httpsRequest(
			daemon.ports.ofrep,
			"POST",
			"/ofrep/v1/evaluate/flags/bool-flag",
			"{}",
		);
		expect(res.status).toBe(200);
		expect(JSON.parse(res.text)).toMatchObject({
			key: "bool-flag",
			value: false,
		});
	});

	it("serves management over HTTPS (HTTP/1.1 and h2)", async () => {
		expect(
			await httpsRequest(daemon.ports.management, "GET", "/healthz"),
		).toEqual({
			status: 200,
			text: "OK\n",
		});
		const session = http2.connect(
			`https://localhost:${daemon.ports.management}`,
			{ ca },
		);
		session.on("error", () => {});
		try {
			const stream = session.request({ ":path": "/readyz" });
			const [headers] = await Promise.all([
				once<http2.IncomingHttpHeaders>(
					stream,
					"response",
					5_000,
					"the /readyz response",
				),
				stream.end(),
			]);
			expect(headers[":status"]).toBe(200);
			stream.resume();
		} finally {
			session.destroy();
		}
	});

	it.each([
		["evaluation", () => daemon.ports.evaluation],
		["sync", () => daemon.ports.sync],
		["OFREP", () => daemon.ports.ofrep],
		["management", () => daemon.ports.management],
	])(
		"closes a connection to the TLS %s port that never starts the handshake",
		async (_name, port) => {
			const socket = await connectRaw(port() as number);
			try {
				await closedByServer(socket, 10_000);
			} finally {
				socket.destroy();
			}
		},
	);

	it("refuses cleartext HTTP on the OFREP and management ports", async () => {
		for (const port of [daemon.ports.ofrep, daemon.ports.management]) {
			await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
		}
	});

	function fetchAll(credentials: grpc.ChannelCredentials): Promise<string> {
		const client = new grpc.Client(
			`localhost:${daemon.ports.sync}`,
			credentials,
		);
		return new Promise<string>((resolve, reject) => {
			client.makeUnaryRequest(
				"/flagd.sync.v1.FlagSyncService/FetchAllFlags",
				(req: object) =>
					Buffer.from(
						toBinary(
							FetchAllFlagsRequestSchema,
							create(FetchAllFlagsRequestSchema, req),
						),
					),
				(buf: Buffer) => fromBinary(FetchAllFlagsResponseSchema, buf),
				{},
				(err, value) =>
					err || value === undefined
						? reject(err)
						: resolve(value.flagConfiguration),
			);
		}).finally(() => client.close());
	}

	it("refuses a sync client without a client certificate", async () => {
		await expect(
			fetchAll(grpc.credentials.createSsl(ca)),
		).rejects.toMatchObject({
			code: grpc.status.UNAVAILABLE,
		});
	});

	it("serves a sync client with a certificate from the client CA", async () => {
		const config = await fetchAll(
			grpc.credentials.createSsl(ca, clientKey, clientCert),
		);
		expect(Object.keys(JSON.parse(config).flags)).toContain("bool-flag");
	});

	it("does not ask evaluation clients for a certificate", async () => {
		const client = createClient(
			EvaluationServiceV1,
			createGrpcTransport({
				baseUrl: `https://localhost:${daemon.ports.evaluation}`,
				nodeOptions: { ca },
			}),
		);
		expect(
			(await client.resolveBoolean({ flagKey: "bool-flag" })).variant,
		).toBe("off");
	});
});
