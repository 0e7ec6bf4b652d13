/**
 * HTTP/2 requests served from their stream (http2-stream-server.ts, stream-request.ts), on the real listeners with a
 * real node:http2 client: what a handler's stream path takes never reaches the request handler, what it declines
 * reaches it as node:http2's compatibility pair with its body, CONNECT and expectations are answered as node:http2's
 * own server answers them, the body deadline and client resets reach the stream path, and with TLS the HTTP/1.1
 * requests still reach the handler.
 */
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import type net from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	connectRaw,
	EMPTY_SETTINGS,
	FrameReader,
	frame,
	HEADERS,
	PREFACE,
} from "../../../../test/integration/connection-test-kit.js";
import { createTlsFixtures } from "../../../../test/support/tls-fixtures.js";
import type { ConnectionLimits } from "./connection-limits.js";
import {
	listenHttp2,
	listenMultiProtocol,
	type NodeRequest,
	type NodeResponse,
	type RequestHandler,
	type RunningListener,
} from "./http-listener.js";
import type { StreamRequest } from "./stream-request.js";

const DATA = 0;
const END_STREAM = 0x01;

const running: RunningListener[] = [];
const sessions: http2.ClientHttp2Session[] = [];
const raw: net.Socket[] = [];
afterEach(async () => {
	for (const s of sessions.splice(0)) s.destroy();
	for (const s of raw.splice(0)) s.destroy();
	await Promise.all(running.splice(0).map((l) => l.close(0)));
});

interface Served {
	/** Requests the stream path took, by path. */
	readonly streamed: string[];
	/** Requests the handler got, with the body it read. */
	readonly handled: { path: string; body: string; version: number }[];
	/** Errors the stream path's body reader heard of. */
	readonly bodyErrors: Error[];
}

/**
 * A handler whose stream path takes POSTs to `/stream*` (reads the body, echoes it with a trailer, none for
 * `/stream-no-trailers`) and declines
 * everything else; the request handler echoes the body too. `/stream-fallback` is taken, then handed to the
 * compatibility pair when its body fails.
 */
function echoHandler(served: Served): RequestHandler {
	const handle = (req: NodeRequest, res: NodeResponse): void => {
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("end", () => {
			const body = Buffer.concat(chunks).toString();
			served.handled.push({
				path: req.url ?? "",
				body,
				version: req.httpVersionMajor,
			});
			res.writeHead(200, { "content-type": "text/plain" });
			res.end(`handler:${body}`);
		});
		req.on("error", () => {});
	};
	const http2Stream = (req: StreamRequest): boolean => {
		if (req.method !== "POST" || !req.url?.startsWith("/stream")) return false;
		served.streamed.push(req.url);
		const chunks: Buffer[] = [];
		req.on("data", (c) => chunks.push(c));
		req.on("error", (err) => {
			served.bodyErrors.push(err);
			if (req.url !== "/stream-fallback") return;
			const [request, response] = req.compat();
			response.writeHead(200, { "x-failed": String(request.destroyed) });
			response.end(err.message);
		});
		req.on("end", () => {
			const res = req.response;
			if (res.destroyed) return;
			res.writeHead(200, { "content-type": "text/plain" });
			if (req.url !== "/stream-no-trailers")
				res.addTrailers({ "x-trailer": "yes" });
			res.end(`stream:${Buffer.concat(chunks).toString()}`);
		});
		return true;
	};
	return Object.assign(handle, { http2Stream });
}

function newServed(): Served {
	return { streamed: [], handled: [], bodyErrors: [] };
}

async function startH2c(
	served: Served,
	limits?: Partial<ConnectionLimits>,
): Promise<number> {
	const listener = await listenMultiProtocol(echoHandler(served), {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "test",
		limits,
	});
	running.push(listener);
	return listener.port as number;
}

function connect(
	authority: string,
	options?: http2.SecureClientSessionOptions,
): http2.ClientHttp2Session {
	const session = http2.connect(authority, options);
	sessions.push(session);
	return session;
}

interface Answer {
	readonly status: number;
	readonly headers: http2.IncomingHttpHeaders;
	readonly trailers: http2.IncomingHttpHeaders;
	readonly body: string;
	readonly rstCode: number;
}

/** Sends one request; `body` undefined leaves the request body open. */
function send(
	session: http2.ClientHttp2Session,
	headers: http2.OutgoingHttpHeaders,
	body: string | undefined,
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const stream = session.request(headers, { endStream: false });
		let status = 0;
		let responseHeaders: http2.IncomingHttpHeaders = {};
		let trailers: http2.IncomingHttpHeaders = {};
		let text = "";
		stream.on("response", (h) => {
			status = Number(h[":status"]);
			responseHeaders = h;
		});
		stream.on("trailers", (t) => {
			trailers = t;
		});
		stream.setEncoding("utf8");
		stream.on("data", (c: string) => {
			text += c;
		});
		stream.on("close", () =>
			resolve({
				status,
				headers: responseHeaders,
				trailers,
				body: text,
				rstCode: stream.rstCode ?? 0,
			}),
		);
		stream.on("error", () => {});
		if (body !== undefined) stream.end(body);
		else stream.write("partial");
		session.on("error", reject);
	});
}

describe("HTTP/2 streams offered to the handler's stream path", () => {
	it("answers what the stream path takes from the stream, headers, body and trailers, without the request handler", async () => {
		const served = newServed();
		const port = await startH2c(served);
		const session = connect(`http://127.0.0.1:${port}`);
		const answer = await send(
			session,
			{ ":method": "POST", ":path": "/stream" },
			"ping",
		);
		expect(answer.status).toBe(200);
		expect(answer.headers["content-type"]).toBe("text/plain");
		expect(answer.headers.date).toEqual(expect.any(String));
		expect(answer.body).toBe("stream:ping");
		expect(answer.trailers["x-trailer"]).toBe("yes");
		expect(served.streamed).toEqual(["/stream"]);
		expect(served.handled).toEqual([]);
	});

	it("ends an answer without trailers on its body's DATA frame, with no empty DATA frame after it", async () => {
		const served = newServed();
		const port = await startH2c(served);
		const socket = await connectRaw(port);
		raw.push(socket);
		const frames = new FrameReader(socket);
		const path = "/stream-no-trailers";
		const request = Buffer.concat([
			Buffer.from([0x83, 0x86, 0x44, path.length]), // :method POST, :scheme http, :path literal
			Buffer.from(path),
			Buffer.from([0x41, 0x01, 0x78]), // :authority x
		]);
		// HEADERS with END_STREAM | END_HEADERS: an empty request body.
		socket.write(
			Buffer.concat([
				PREFACE,
				EMPTY_SETTINGS,
				frame(HEADERS, 0x05, 1, request),
			]),
		);
		const last = await frames.waitFor(
			(f) =>
				f.type === DATA && f.streamId === 1 && (f.flags & END_STREAM) !== 0,
			"DATA with END_STREAM on stream 1",
		);
		expect(last.payload.toString()).toBe("stream:");
		expect(
			frames.frames.filter((f) => f.type === DATA && f.streamId === 1),
		).toHaveLength(1);
		expect(served.streamed).toEqual([path]);
	});

	it("hands a declined request to the request handler as the compatibility pair, body intact", async () => {
		const served = newServed();
		const port = await startH2c(served);
		const session = connect(`http://127.0.0.1:${port}`);
		const answer = await send(
			session,
			{ ":method": "POST", ":path": "/other" },
			"x".repeat(100_000),
		);
		expect(answer.status).toBe(200);
		expect(answer.body).toBe(`handler:${"x".repeat(100_000)}`);
		expect(served.streamed).toEqual([]);
		expect(served.handled).toEqual([
			{ path: "/other", body: "x".repeat(100_000), version: 2 },
		]);
	});

	it("answers CONNECT with 405 and an unknown expectation with 417, and sends 100 Continue before the handler", async () => {
		const served = newServed();
		const port = await startH2c(served);
		const session = connect(`http://127.0.0.1:${port}`);
		const connectAnswer = await send(
			session,
			{ ":method": "CONNECT", ":authority": "example.com:443" },
			"",
		);
		expect(connectAnswer.status).toBe(405);
		const odd = await send(
			session,
			{ ":method": "POST", ":path": "/stream", expect: "something" },
			"a",
		);
		expect(odd.status).toBe(417);
		const continued = await new Promise<boolean>((resolve) => {
			const stream = session.request(
				{ ":method": "POST", ":path": "/stream", expect: "100-continue" },
				{ endStream: false },
			);
			let sawContinue = false;
			stream.on("continue", () => {
				sawContinue = true;
				stream.end("b");
			});
			stream.resume();
			stream.on("close", () => resolve(sawContinue));
		});
		expect(continued).toBe(true);
		// The stream path is offered neither: node:http2's own rules apply first.
		expect(served.streamed).toEqual([]);
		expect(served.handled).toEqual([
			{ path: "/stream", body: "b", version: 2 },
		]);
	});

	it("fails a stream-path body that does not end within the request timeout; the compatibility request carries the failure", async () => {
		const served = newServed();
		const port = await startH2c(served, { requestTimeoutMs: 200 });
		const session = connect(`http://127.0.0.1:${port}`);
		const answer = await send(
			session,
			{ ":method": "POST", ":path": "/stream-fallback" },
			undefined,
		);
		expect(answer.status).toBe(200);
		expect(answer.body).toBe(
			"[deadline_exceeded] request body not received within 200 ms",
		);
		expect(answer.headers["x-failed"]).toBe("true");
		// Reset once answered, so the client's unsent body is not waited for.
		expect(answer.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
		expect(served.bodyErrors.map((e) => e.message)).toEqual([
			"[deadline_exceeded] request body not received within 200 ms",
		]);
	});

	it("tells the stream path's body reader of a client reset, and goes on serving", async () => {
		const served = newServed();
		const port = await startH2c(served);
		const session = connect(`http://127.0.0.1:${port}`);
		const stream = session.request(
			{ ":method": "POST", ":path": "/stream" },
			{ endStream: false },
		);
		stream.on("error", () => {});
		stream.write("partial");
		// Reset with an error code once the server has seen the stream (it answers nothing before the body ends).
		await new Promise<void>((resolve) => stream.once("ready", resolve));
		await until(() => served.streamed.length === 1);
		stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
		await until(() => served.bodyErrors.length === 1);
		expect(served.bodyErrors[0]?.message).toMatch(/NGHTTP2_INTERNAL_ERROR/);
		const next = await send(
			session,
			{ ":method": "POST", ":path": "/stream" },
			"again",
		);
		expect(next.body).toBe("stream:again");
	});

	it("with TLS, serves HTTP/1.1 through the request handler and each HTTP/2 stream once", async () => {
		const tls = createTlsFixtures();
		const served = newServed();
		const listener = await listenMultiProtocol(echoHandler(served), {
			port: 0,
			host: "127.0.0.1",
			maxHeaderBytes: 0,
			name: "test",
			tls: { certPath: tls.serverCertPath, keyPath: tls.serverKeyPath },
		});
		running.push(listener);
		const ca = readFileSync(tls.caCertPath);
		const h1 = await new Promise<string>((resolve, reject) => {
			const req = https.request(
				{
					host: "127.0.0.1",
					port: listener.port,
					method: "POST",
					path: "/stream",
					ca,
				},
				(res) => {
					let text = "";
					res.setEncoding("utf8");
					res.on("data", (c: string) => {
						text += c;
					});
					res.on("end", () => resolve(text));
				},
			);
			req.on("error", reject);
			req.end("one");
		});
		expect(h1).toBe("handler:one");
		const session = connect(`https://127.0.0.1:${listener.port}`, { ca });
		const h2 = await send(
			session,
			{ ":method": "POST", ":path": "/stream" },
			"two",
		);
		expect(h2.body).toBe("stream:two");
		const declined = await send(
			session,
			{ ":method": "POST", ":path": "/other" },
			"three",
		);
		expect(declined.body).toBe("handler:three");
		expect(served.streamed).toEqual(["/stream"]);
		expect(served.handled).toEqual([
			{ path: "/stream", body: "one", version: 1 },
			{ path: "/other", body: "three", version: 2 },
		]);
	});

	it("offers the streams of the HTTP/2-only listener too", async () => {
		const served = newServed();
		const listener = await listenHttp2(echoHandler(served), {
			port: 0,
			host: "127.0.0.1",
			maxHeaderBytes: 0,
			name: "test",
		});
		running.push(listener);
		const session = connect(`http://127.0.0.1:${listener.port}`);
		const answer = await send(
			session,
			{ ":method": "POST", ":path": "/stream" },
			"four",
		);
		expect(answer.body).toBe("stream:four");
		expect(served.handled).toEqual([]);
	});
});

/** Waits for `condition`, checking on each turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
	while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
