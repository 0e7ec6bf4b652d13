/**
 * `--request-timeout` on HTTP/2 (Go's ReadTimeout): a client that opens a stream and never finishes its body, or
 * trickles it, is answered DEADLINE_EXCEEDED in its own protocol and its stream is reset, on every HTTP/2 port,
 * through both the direct unary paths and connect. Raw node:http2 clients, since no RPC client stalls a body on
 * purpose. HTTP/1.1 gets the same limit from Node's `requestTimeout`, checked here too. Also the keepalive PING
 * policy the sync port enforces (`--keep-alive-min-time`, default 30 s).
 */
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { connectRaw, once } from "./connection-test-kit.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

const REQUEST_TIMEOUT_MS = 400;
// Generous for a busy 2-core machine, far below "never".
const ANSWER_WITHIN_MS = 10_000;

let daemon: RunningDaemon;

beforeAll(async () => {
	daemon = await startTestDaemon(
		[new MemorySource("mem:deadline", BASIC_FLAGS)],
		// The idle timeout is left long, so only the request deadline can end these requests.
		{
			requestTimeoutMs: REQUEST_TIMEOUT_MS,
			headerTimeoutMs: 300,
			idleTimeoutMs: 60_000,
		},
	);
	await daemon.ready;
});

afterAll(async () => {
	await daemon.close();
});

interface Outcome {
	readonly status: number | undefined;
	readonly headers: http2.IncomingHttpHeaders;
	readonly trailers: http2.IncomingHttpHeaders;
	readonly body: string;
	readonly rstCode: number | undefined;
	readonly elapsedMs: number;
}

/** Opens a POST and sends `chunks` (one per `dripMs`) without ever ending the body; resolves when the stream closes. */
async function stalledRequest(
	port: number,
	path: string,
	contentType: string,
	chunks: readonly Buffer[],
	dripMs = 0,
): Promise<Outcome> {
	const session = http2.connect(`http://127.0.0.1:${port}`);
	session.on("error", () => {});
	try {
		const start = Date.now();
		const stream = session.request({
			":method": "POST",
			":path": path,
			"content-type": contentType,
			te: "trailers",
			"connect-protocol-version": "1",
		});
		stream.on("error", () => {});
		let status: number | undefined;
		let headers: http2.IncomingHttpHeaders = {};
		let trailers: http2.IncomingHttpHeaders = {};
		let body = "";
		stream.on("response", (h) => {
			headers = h;
			status = Number(h[":status"]);
		});
		stream.on("trailers", (t) => {
			trailers = t;
		});
		stream.setEncoding("latin1");
		stream.on("data", (d: string) => {
			body += d;
		});
		let dripping: NodeJS.Timeout | undefined;
		let next = 0;
		const send = () => {
			const chunk = chunks[next++];
			if (chunk !== undefined && !stream.destroyed) stream.write(chunk);
			if (next >= chunks.length) clearInterval(dripping);
		};
		if (dripMs > 0) dripping = setInterval(send, dripMs);
		else while (next < chunks.length) send();
		await once(stream, "close", ANSWER_WITHIN_MS, `the end of ${path}`);
		clearInterval(dripping);
		return {
			status,
			headers,
			trailers,
			body,
			rstCode: stream.rstCode,
			elapsedMs: Date.now() - start,
		};
	} finally {
		session.destroy();
	}
}

/** A gRPC envelope header announcing `length` bytes, and none of them. */
function envelopePrefix(length: number): Buffer {
	const prefix = Buffer.alloc(5);
	prefix.writeUInt32BE(length, 1);
	return prefix;
}

const RESOLVE_BOOLEAN = "/flagd.evaluation.v1.Service/ResolveBoolean";
const SYNC_FLAGS = "/flagd.sync.v1.FlagSyncService/SyncFlags";
const DEADLINE_EXCEEDED = "4";

describe("HTTP/2 request body deadline", () => {
	it.each([
		[
			"evaluation",
			"gRPC unary",
			RESOLVE_BOOLEAN,
			() => daemon.ports.evaluation,
		],
		["sync", "gRPC server stream", SYNC_FLAGS, () => daemon.ports.sync],
	])(
		"answers a %s-port %s whose body never ends with DEADLINE_EXCEEDED",
		async (_port, _kind, path, port) => {
			const outcome = await stalledRequest(
				port() as number,
				path,
				"application/grpc",
				[envelopePrefix(100)],
			);
			const status =
				outcome.trailers["grpc-status"] ?? outcome.headers["grpc-status"];
			expect(status).toBe(DEADLINE_EXCEEDED);
			const message = String(
				outcome.trailers["grpc-message"] ?? outcome.headers["grpc-message"],
			);
			expect(decodeURIComponent(message)).toContain(
				`request body not received within ${REQUEST_TIMEOUT_MS} ms`,
			);
			expect(outcome.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
			// Reset after the answer (NO_ERROR), not by the backstop (CANCEL) for a handler that does not answer.
			expect(outcome.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
		},
	);

	it("answers a Connect unary call whose JSON body never ends with deadline_exceeded", async () => {
		const outcome = await stalledRequest(
			daemon.ports.evaluation as number,
			RESOLVE_BOOLEAN,
			"application/json",
			[Buffer.from('{"flagKey":"bool-')],
		);
		expect(outcome.status).toBe(504);
		expect(JSON.parse(outcome.body)).toMatchObject({
			code: "deadline_exceeded",
			message: `request body not received within ${REQUEST_TIMEOUT_MS} ms`,
		});
	});

	it("ends a slow drip that keeps sending bytes but never finishes the body", async () => {
		// One byte of the envelope every 50 ms: always active, never complete.
		const chunks = Array.from({ length: 200 }, () => Buffer.from([0]));
		const outcome = await stalledRequest(
			daemon.ports.evaluation as number,
			RESOLVE_BOOLEAN,
			"application/grpc",
			chunks,
			50,
		);
		expect(
			outcome.trailers["grpc-status"] ?? outcome.headers["grpc-status"],
		).toBe(DEADLINE_EXCEEDED);
		expect(outcome.elapsedMs).toBeLessThan(ANSWER_WITHIN_MS);
	});

	it("leaves a finished request and its long-lived response stream alone", async () => {
		const session = http2.connect(`http://127.0.0.1:${daemon.ports.sync}`);
		session.on("error", () => {});
		try {
			const stream = session.request({
				":method": "POST",
				":path": SYNC_FLAGS,
				"content-type": "application/grpc",
				te: "trailers",
			});
			stream.on("error", () => {});
			stream.end(envelopePrefix(0));
			await once(stream, "data", ANSWER_WITHIN_MS, "the first snapshot");
			// Several deadlines later the stream is still open.
			await new Promise((resolve) =>
				setTimeout(resolve, REQUEST_TIMEOUT_MS * 3),
			);
			expect(stream.closed).toBe(false);
			stream.close();
		} finally {
			session.destroy();
		}
	});

	it("closes an HTTP/1.1 connection whose body never ends (408)", async () => {
		const socket = await connectRaw(daemon.ports.ofrep as number);
		try {
			let answer = "";
			socket.setEncoding("latin1");
			socket.on("data", (d: string) => {
				answer += d;
			});
			socket.write(
				"POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
			);
			await once(socket, "close", ANSWER_WITHIN_MS, "the daemon to close");
			expect(answer).toMatch(/^HTTP\/1\.1 408/);
		} finally {
			socket.destroy();
		}
	});
});

describe("keepalive PING policy on the sync port (--keep-alive-min-time)", () => {
	it("ends a connection that pings faster than the minimum time with GOAWAY ENHANCE_YOUR_CALM too_many_pings; the evaluation port does not police pings", async () => {
		const session = http2.connect(`http://127.0.0.1:${daemon.ports.sync}`);
		session.on("error", () => {});
		const evaluation = http2.connect(
			`http://127.0.0.1:${daemon.ports.evaluation}`,
		);
		evaluation.on("error", () => {});
		try {
			await once(session, "connect", ANSWER_WITHIN_MS, "the sync connection");
			const goaway = new Promise<{ code: number; data: string }>((resolve) =>
				session.once("goaway", (code: number, _last: number, data?: Buffer) =>
					resolve({ code, data: data?.toString() ?? "" }),
				),
			);
			const ping = (s: http2.ClientHttp2Session) =>
				new Promise<boolean>((resolve) => {
					if (s.closed || s.destroyed) resolve(false);
					else s.ping((error) => resolve(error === null));
				});
			// The daemon's default minimum time is 30 s: four pings in a row are three strikes.
			for (let i = 0; i < 4; i++) await ping(session);
			expect(await goaway).toEqual({
				code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
				data: "too_many_pings",
			});
			if (evaluation.connecting)
				await once(
					evaluation,
					"connect",
					ANSWER_WITHIN_MS,
					"the evaluation connection",
				);
			for (let i = 0; i < 10; i++) expect(await ping(evaluation)).toBe(true);
		} finally {
			session.destroy();
			evaluation.destroy();
		}
	});
});
