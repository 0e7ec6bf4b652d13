/**
 * The default transport (connect-web, Connect binary format) against a raw HTTP server on 127.0.0.1. The daemon cannot be
 * made to send malformed frames, HTML error pages or end-of-stream errors on demand, so these protocol edge cases
 * use this small server (a real socket and real fetch, no mocks); the daemon tests in test/integration cover the
 * happy paths. They pin the errors the provider sees (codes of the catalogue) whatever the client library does.
 */
import {
	createServer,
	type IncomingMessage,
	type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { encodeEnvelope as encodeFrame } from "@connectrpc/connect/protocol";
import {
	EventStreamResponseSchema,
	ResolveAllRequestSchema,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { isFlagdWebError } from "./errors.js";
import { createFetchTransport } from "./fetch-transport.js";
import { FlagdWebProvider } from "./flagd-web-provider.js";
import type { FlagdWebTransport } from "./flagd-web-transport.js";

type Route = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
let route: Route = (_req, _body, res) => res.end();
const seen: Array<{
	url: string;
	headers: IncomingMessage["headers"];
	body: Buffer;
}> = [];
const server = createServer((req, res) => {
	const chunks: Buffer[] = [];
	req.on("data", (c: Buffer) => chunks.push(c));
	req.on("end", () => {
		const body = Buffer.concat(chunks);
		seen.push({ url: req.url ?? "", headers: req.headers, body });
		route(req, body, res);
	});
});
let transport: FlagdWebTransport;

beforeAll(async () => {
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	transport = createFetchTransport({
		baseUrl: `http://127.0.0.1:${port}/prefix`,
	});
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

const call = (timeoutMs?: number) => ({
	signal: new AbortController().signal,
	headers: { "Flagd-Selector": "flagSetId=a" },
	...(timeoutMs === undefined ? {} : { timeoutMs }),
});

async function failure(
	p: Promise<unknown>,
): Promise<{ code: string; message: string }> {
	const e = await p.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(isFlagdWebError(e)).toBe(true);
	return e as { code: string; message: string };
}

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
	const out: unknown[] = [];
	for await (const m of stream) out.push(m);
	return out;
}

/** A binary ResolveAll response (test data: what a server sends). */
const EMPTY_RESOLVE_ALL = Buffer.from(
	toBinary(ResolveAllResponseSchema, create(ResolveAllResponseSchema)),
);

describe("createFetchTransport: ResolveAll", () => {
	it("POSTs Connect binary with the context, the selector and the timeout header", async () => {
		route = (_req, _body, res) =>
			res
				.writeHead(200, { "content-type": "application/proto" })
				.end(EMPTY_RESOLVE_ALL);
		await expect(
			transport.resolveAll({ email: "a@b.c" }, call(750)),
		).resolves.toEqual({ flags: {}, metadata: {} });
		const request = seen.at(-1);
		expect(request?.url).toBe("/prefix/flagd.evaluation.v1.Service/ResolveAll");
		expect(request?.headers["content-type"]).toBe("application/proto");
		expect(request?.headers["connect-protocol-version"]).toBe("1");
		expect(request?.headers["connect-timeout-ms"]).toBe("750");
		expect(request?.headers["flagd-selector"]).toBe("flagSetId=a");
		expect(
			fromBinary(ResolveAllRequestSchema, request?.body ?? Buffer.alloc(0))
				.context,
		).toEqual({ email: "a@b.c" });
	});

	it("turns a Connect error body into its code and message", async () => {
		route = (_req, _body, res) =>
			res
				.writeHead(400, { "content-type": "application/json" })
				.end('{"code":"invalid_argument","message":"bad selector"}');
		expect(await failure(transport.resolveAll({}, call()))).toMatchObject({
			code: "invalid_argument",
			message: "bad selector",
		});
	});

	it("maps a non-Connect HTTP error (a proxy page) by its status", async () => {
		route = (_req, _body, res) =>
			res.writeHead(503, { "content-type": "text/html" }).end("<h1>down</h1>");
		expect((await failure(transport.resolveAll({}, call()))).code).toBe(
			"unavailable",
		);
	});

	it("reports a 200 response that is not protobuf as internal", async () => {
		route = (_req, _body, res) =>
			res
				.writeHead(200, { "content-type": "application/proto" })
				.end(Buffer.from([0xff, 0xff, 0xff]));
		expect((await failure(transport.resolveAll({}, call()))).code).toBe(
			"internal",
		);
	});

	it("reports an unreachable server as unavailable and an aborted call as canceled", async () => {
		const dead = createFetchTransport({ baseUrl: "http://127.0.0.1:1" });
		expect((await failure(dead.resolveAll({}, call()))).code).toBe(
			"unavailable",
		);
		route = () => {
			// never answers: the abort below must end the call
		};
		const controller = new AbortController();
		const pending = transport.resolveAll(
			{},
			{ signal: controller.signal, headers: {} },
		);
		controller.abort();
		expect((await failure(pending)).code).toBe("canceled");
	});

	it("uses the custom fetch when one is given", async () => {
		const urls: string[] = [];
		const custom = createFetchTransport({
			baseUrl: "http://flags.invalid",
			fetch: async (input) => {
				urls.push(String(input));
				return new Response(EMPTY_RESOLVE_ALL, {
					status: 200,
					headers: { "content-type": "application/proto" },
				});
			},
		});
		await custom.resolveAll({}, call());
		expect(urls).toEqual([
			"http://flags.invalid/flagd.evaluation.v1.Service/ResolveAll",
		]);
	});
});

/** A Connect envelope with flags 0 around `bytes` (test data: the frames a server sends). */
function encodeEnvelope(bytes: Uint8Array): Uint8Array {
	return encodeFrame(0, bytes);
}

describe("createFetchTransport: EventStream", () => {
	const ready = Buffer.from(
		encodeEnvelope(
			toBinary(
				EventStreamResponseSchema,
				create(EventStreamResponseSchema, { type: "provider_ready", data: {} }),
			),
		),
	);
	// The end-of-stream frame is JSON in both Connect formats.
	const end = (json: string): Buffer => {
		const b = Buffer.from(encodeEnvelope(new TextEncoder().encode(json)));
		b[0] = 2;
		return b;
	};

	it("sends an enveloped empty request and yields messages until the end-of-stream frame", async () => {
		route = (_req, _body, res) => {
			res.writeHead(200, { "content-type": "application/connect+proto" });
			res.write(ready);
			res.end(
				end('{"error":{"code":"unavailable","message":"shutting down"}}'),
			);
		};
		const messages: unknown[] = [];
		const error = await failure(
			(async () => {
				for await (const m of transport.eventStream(call())) messages.push(m);
			})(),
		);
		expect(messages).toEqual([{ type: "provider_ready", data: {} }]);
		expect(error).toMatchObject({
			code: "unavailable",
			message: "shutting down",
		});
		const request = seen.at(-1);
		expect(request?.headers["content-type"]).toBe("application/connect+proto");
		expect([...(request?.body ?? [])]).toEqual([0, 0, 0, 0, 0]);
	});

	it("ends the iteration on a clean end of stream; a stream cut before its end is a failure", async () => {
		route = (_req, _body, res) =>
			res
				.writeHead(200, { "content-type": "application/connect+proto" })
				.end(Buffer.concat([ready, end("{}")]));
		expect(await drain(transport.eventStream(call()))).toEqual([
			{ type: "provider_ready", data: {} },
		]);
		route = (_req, _body, res) =>
			res
				.writeHead(200, { "content-type": "application/connect+proto" })
				.end(ready);
		expect(
			(await failure(drain(transport.eventStream(call())))).message,
		).toMatch(/EndStreamResponse/);
		route = (req, _body, res) => {
			res.writeHead(200, { "content-type": "application/connect+proto" });
			res.write(ready.subarray(0, 7));
			req.socket.destroy();
		};
		expect(
			isFlagdWebError(
				await drain(transport.eventStream(call())).catch((e: unknown) => e),
			),
		).toBe(true);
	});

	it("rejects compressed frames, frames that are not protobuf and non-Connect answers", async () => {
		const cases: Buffer[] = [
			Buffer.from([1, 0, 0, 0, 2, 123, 125]),
			Buffer.from(encodeEnvelope(new Uint8Array([0xff, 0xff, 0xff]))),
		];
		const codes: string[] = [];
		for (const frame of cases) {
			route = (_req, _body, res) =>
				res
					.writeHead(200, { "content-type": "application/connect+proto" })
					.end(frame);
			codes.push((await failure(drain(transport.eventStream(call())))).code);
		}
		expect(codes).toEqual(["internal", "internal"]);
		route = (_req, _body, res) =>
			res.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
		// connect-es: a 200 with a foreign content type is `unknown` (Connect protocol).
		expect(await failure(drain(transport.eventStream(call())))).toMatchObject({
			code: "unknown",
			message: expect.stringContaining("text/html"),
		});
	});

	it("fails a stream whose message announces more than maxMessageBytes, and stops reading endless bytes", async () => {
		const limited = createFetchTransport({
			baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
			maxMessageBytes: 64 * 1024,
		});
		let serverSawClose: Promise<void> = Promise.resolve();
		route = (req, _body, res) => {
			res.writeHead(200, { "content-type": "application/connect+proto" });
			res.write(ready);
			// A message announcing 1 GiB, then bytes for as long as the client reads.
			const header = Buffer.from([0, 0x40, 0, 0, 0]);
			res.write(header);
			const chunk = Buffer.alloc(16 * 1024, 0x61);
			const pump = () => {
				while (!res.destroyed && res.write(chunk)) {}
				if (!res.destroyed) res.once("drain", pump);
			};
			serverSawClose = new Promise((resolve) =>
				req.socket.once("close", () => resolve()),
			);
			pump();
		};
		const messages: unknown[] = [];
		const error = await failure(
			(async () => {
				for await (const m of limited.eventStream(call())) messages.push(m);
			})(),
		);
		expect(messages).toEqual([{ type: "provider_ready", data: {} }]);
		expect(error).toMatchObject({
			code: "resource_exhausted",
			message: "message larger than maxMessageBytes=65536",
		});
		// The client let go of the connection: the endless writer stops.
		await serverSawClose;
	});

	it("fails a ResolveAll response larger than maxMessageBytes, and accepts one within it", async () => {
		const limited = createFetchTransport({
			baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
			maxMessageBytes: 1024,
		});
		const big = Buffer.from(
			toBinary(
				ResolveAllResponseSchema,
				create(ResolveAllResponseSchema, {
					metadata: { pad: "x".repeat(4096) },
				}),
			),
		);
		route = (_req, _body, res) =>
			res.writeHead(200, { "content-type": "application/proto" }).end(big);
		expect(await failure(limited.resolveAll({}, call()))).toMatchObject({
			code: "resource_exhausted",
		});
		route = (_req, _body, res) =>
			res
				.writeHead(200, { "content-type": "application/proto" })
				.end(EMPTY_RESOLVE_ALL);
		await expect(limited.resolveAll({}, call())).resolves.toEqual({
			flags: {},
			metadata: {},
		});
	});

	it("refuses a maxMessageBytes that is not a positive integer, by name", () => {
		expect(() =>
			createFetchTransport({
				baseUrl: "http://127.0.0.1:1",
				maxMessageBytes: 0,
			}),
		).toThrow(/"maxMessageBytes" must be a positive integer/);
	});

	it("ends the stream when the signal aborts", async () => {
		route = (_req, _body, res) => {
			res.writeHead(200, { "content-type": "application/connect+proto" });
			res.write(ready);
		};
		const controller = new AbortController();
		const iterator = transport
			.eventStream({ signal: controller.signal, headers: {} })
			[Symbol.asyncIterator]();
		expect((await iterator.next()).value).toEqual({
			type: "provider_ready",
			data: {},
		});
		const next = iterator.next();
		controller.abort();
		expect((await failure(next)).code).toBe("canceled");
	});
});

describe("FlagdWebProvider options reach the wire", () => {
	it("sends the interceptors' headers through host, port and pathPrefix", async () => {
		route = (_req, _body, res) =>
			res
				.writeHead(503, { "content-type": "application/json" })
				.end('{"code":"unavailable","message":"warming up"}');
		const { port } = server.address() as AddressInfo;
		const provider = new FlagdWebProvider({
			host: "127.0.0.1",
			port,
			pathPrefix: "/edge/",
			deadlineMs: 300,
			interceptors: [
				(next) => async (req) => {
					req.header.set("Authorization", "Bearer token-1");
					return next(req);
				},
			],
			logger: { error() {}, warn() {}, info() {}, debug() {} },
		});
		seen.length = 0;
		await expect(provider.initialize({})).rejects.toThrow(/deadlineMs=300/);
		await provider.onClose();
		expect(seen.length).toBeGreaterThan(0);
		expect(seen[0]?.url).toBe("/edge/flagd.evaluation.v1.Service/EventStream");
		expect(seen[0]?.headers.authorization).toBe("Bearer token-1");
	});

	it("refuses @openfeature/flagd-web-provider's extra constructor arguments", () => {
		const Ctor = FlagdWebProvider as unknown as new (
			...args: unknown[]
		) => FlagdWebProvider;
		expect(() => new Ctor({}, console)).toThrow(/one options object/);
	});
});
