/**
 * The OFREP bulk request against a raw HTTP server on 127.0.0.1 (real sockets, real fetch): ETag round trip and
 * 304, the selector and event-hint parameters, error classification, malformed bodies and the timeout. The
 * daemon cannot be made to answer 401 or garbage on demand; test/browser/ofrep-mode.test.ts covers it for real.
 */
import {
	createServer,
	type IncomingMessage,
	type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
	fetchOfrepBulk,
	OfrepRequestError,
	parseBulk,
} from "./ofrep-bulk-client.js";
import {
	type OfrepWebProviderOptions,
	resolveOfrepWebProviderOptions,
} from "./ofrep-web-provider-options.js";

type Route = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let route: Route = (_req, _body, res) => res.end();
const seen: Array<{
	url: string;
	headers: IncomingMessage["headers"];
	body: string;
}> = [];
const server = createServer((req, res) => {
	const chunks: Buffer[] = [];
	req.on("data", (c: Buffer) => chunks.push(c));
	req.on("end", () => {
		const body = Buffer.concat(chunks).toString("utf8");
		seen.push({ url: req.url ?? "", headers: req.headers, body });
		route(req, body, res);
	});
});
let baseUrl = "";

beforeAll(async () => {
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	server.closeAllConnections();
	await new Promise<void>((resolve) => server.close(() => resolve()));
});

const config = (extra: Partial<OfrepWebProviderOptions> = {}) =>
	resolveOfrepWebProviderOptions({ baseUrl, ...extra });
const signal = new AbortController().signal;

function json(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers = {},
) {
	res.writeHead(status, { "Content-Type": "application/json", ...headers });
	res.end(JSON.stringify(body));
}

async function failure(p: Promise<unknown>): Promise<OfrepRequestError> {
	const e = await p.then(
		() => undefined,
		(err: unknown) => err,
	);
	expect(e).toBeInstanceOf(OfrepRequestError);
	return e as OfrepRequestError;
}

describe("fetchOfrepBulk", () => {
	it("sends the context, selector and If-None-Match, and a 304 keeps what is held", async () => {
		const body = {
			flags: [
				{ key: "a", value: true, reason: "STATIC", variant: "on" },
				{ key: "__proto__", value: "x", reason: "STATIC" },
			],
			metadata: { flagSetId: "web" },
			eventStreams: [
				{
					type: "sse",
					endpoint: { requestUri: "/ofrep/v1/sse?selector=x" },
					inactivityDelaySec: 7,
				},
			],
			refreshConnections: [
				{ type: "sse", url: `${baseUrl}/ofrep/v1/sse?selector=x` },
			],
		};
		route = (req, _body, res) => {
			if (req.headers["if-none-match"] === '"v1"') {
				res.writeHead(304, { ETag: '"v1"' });
				res.end();
				return;
			}
			json(res, 200, body, { ETag: '"v1"' });
		};
		seen.length = 0;
		const first = await fetchOfrepBulk(
			config({ selector: "flagSetId=web", headers: { "X-Api-Key": "k" } }),
			{ targetingKey: "u1", n: 1 },
			null,
			undefined,
			signal,
		);
		expect(first.status).toBe(200);
		if (first.status !== 200) return;
		expect(first.snapshot.etag).toBe('"v1"');
		expect(first.snapshot.flags.map((f) => f.key)).toEqual(["a", "__proto__"]);
		expect(first.snapshot.streams).toEqual([
			`${baseUrl}/ofrep/v1/sse?selector=x`,
		]);
		expect(first.snapshot.inactivityDelaySec).toBe(7);
		expect(seen[0]?.url).toBe("/ofrep/v1/evaluate/flags");
		expect(seen[0]?.headers["flagd-selector"]).toBe("flagSetId=web");
		expect(seen[0]?.headers["x-api-key"]).toBe("k");
		expect(seen[0]?.headers["if-none-match"]).toBeUndefined();
		expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
			context: { targetingKey: "u1", n: 1 },
		});

		const second = await fetchOfrepBulk(
			config(),
			{},
			'"v1"',
			{ etag: "e9", lastModified: 12 },
			signal,
		);
		expect(second.status).toBe(304);
		expect(seen[1]?.headers["if-none-match"]).toBe('"v1"');
		expect(seen[1]?.url).toBe(
			"/ofrep/v1/evaluate/flags?flagConfigEtag=e9&flagConfigLastModified=12",
		);
	});

	it("adds headersFactory headers and static query parameters", async () => {
		route = (_req, _body, res) => json(res, 200, { flags: [] });
		seen.length = 0;
		await fetchOfrepBulk(
			config({
				headersFactory: async () => [["Authorization", "Bearer t"]],
				query: new URLSearchParams({ env: "prod" }),
			}),
			{},
			null,
			undefined,
			signal,
		);
		expect(seen[0]?.headers.authorization).toBe("Bearer t");
		expect(seen[0]?.url).toBe("/ofrep/v1/evaluate/flags?env=prod");
	});

	it("classifies errors: 400 with a code and 401/403 are fatal, 5xx and 429 are not (Retry-After kept)", async () => {
		const cases: Array<[number, unknown, boolean, Record<string, string>]> = [
			[400, { errorCode: "INVALID_CONTEXT", errorDetails: "bad" }, true, {}],
			[401, {}, true, {}],
			[403, {}, true, {}],
			[500, { errorCode: "GENERAL" }, false, {}],
			[429, {}, false, { "Retry-After": "3" }],
		];
		for (const [status, body, fatal, headers] of cases) {
			route = (_req, _body, res) => json(res, status, body, headers);
			const e = await failure(
				fetchOfrepBulk(config(), {}, null, undefined, signal),
			);
			expect([e.status, e.fatal]).toEqual([status, fatal]);
			expect(e.message).toContain(String(status));
		}
		route = (_req, _body, res) => json(res, 429, {}, { "Retry-After": "3" });
		expect(
			(await failure(fetchOfrepBulk(config(), {}, null, undefined, signal)))
				.retryAfterMs,
		).toBe(3000);
	});

	it("refuses bodies that are not OFREP bulk answers", async () => {
		for (const text of ["<html>", "{}", '{"flags":{}}', "null"]) {
			route = (_req, _body, res) => {
				res.writeHead(200, { "Content-Type": "application/json" });
				res.end(text);
			};
			const e = await failure(
				fetchOfrepBulk(config(), {}, null, undefined, signal),
			);
			expect(e.fatal).toBe(false);
		}
	});

	it("gives up after timeoutMs on a server that never answers", async () => {
		route = () => undefined; // holds the request open
		const started = Date.now();
		const e = await failure(
			fetchOfrepBulk(config({ timeoutMs: 200 }), {}, null, undefined, signal),
		);
		expect(e.message).toContain("timeoutMs");
		expect(Date.now() - started).toBeLessThan(10_000);
		server.closeAllConnections();
	});

	it("reports a refused connection as a transient failure", async () => {
		const e = await failure(
			fetchOfrepBulk(
				resolveOfrepWebProviderOptions({ baseUrl: "http://127.0.0.1:1" }),
				{},
				null,
				undefined,
				signal,
			),
		);
		expect([e.status, e.fatal]).toEqual([undefined, false]);
	});
});

describe("parseBulk stream URLs", () => {
	const headers = new Headers();
	it("resolves endpoint.requestUri against the base URL's origin, or endpoint.origin", () => {
		const s = parseBulk(
			JSON.stringify({
				flags: [],
				eventStreams: [
					{ type: "sse", endpoint: { requestUri: "/ofrep/v1/sse" } },
					{
						type: "sse",
						endpoint: { origin: "https://flags.example", requestUri: "/sse" },
					},
					{ type: "websocket", url: "wss://x" },
					{ type: "sse", endpoint: {} },
				],
			}),
			{ headers },
			"http://127.0.0.1:9/base",
		);
		expect(s.streams).toEqual([
			"http://127.0.0.1:9/ofrep/v1/sse",
			"https://flags.example/sse",
		]);
	});

	it("reads ADR-0008's refreshConnections when eventStreams is absent", () => {
		const s = parseBulk(
			JSON.stringify({
				flags: [],
				refreshConnections: [{ type: "sse", url: "http://127.0.0.1:9/sse" }],
			}),
			{ headers },
			"http://127.0.0.1:9",
		);
		expect(s.streams).toEqual(["http://127.0.0.1:9/sse"]);
	});
});
