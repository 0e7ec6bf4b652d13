/**
 * The direct unary Connect-protocol path (connect-unary-direct-path.ts) must answer exactly as connect's Connect
 * handler does. Each test sends the same raw request (method, headers and body bytes under our control), over
 * HTTP/1.1 and over h2c, to two handlers built from the same service implementations, one with the direct path and
 * one without, and compares status, every response header but `date`, and the body bytes; then it decodes the body
 * and checks the value or error, so both paths being wrong the same way still fails. Which path served a call is
 * observed through the handler context's signal (direct-path-test-support.ts).
 */
import http from "node:http";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import {
	create,
	type DescMessage,
	fromBinary,
	type MessageShape,
	toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
	EVALUATION_ERROR_MESSAGES,
	EvaluationServiceV2,
	FlagSyncService,
} from "@flagd-ts/protocol";
import * as v1 from "@flagd-ts/protocol/evaluation-v1";
import * as v2 from "@flagd-ts/protocol/evaluation-v2";
import * as sync from "@flagd-ts/protocol/sync-v1";
import { afterEach, describe, expect, it } from "@jest/globals";
import { serviceRoute } from "../connect-handler.js";
import {
	BIG_TEXT,
	closeAll,
	evaluationServices,
	expectPaths,
	h2Exchange,
	onClose,
	type Pair,
	sendBody,
	servePair,
	V1,
	V2,
} from "./testdata/direct-path-test-support.js";

afterEach(closeAll);

// ---------------------------------------------------------------------------------------------------------------
// Raw Connect requests over either HTTP version

type Transport = "HTTP/1.1" | "h2c";

interface ConnectRequest {
	readonly path: string;
	readonly body: Buffer;
	/** @default "POST" */
	readonly method?: string;
	readonly headers?: Record<string, string>;
	/** Send the body one byte per write (an HTTP/1.1 chunk, an HTTP/2 DATA frame). */
	readonly byteByByte?: boolean;
}

/** Everything the client sees of an answer, but `date`. */
interface Answer {
	readonly status: number;
	readonly headers: Record<string, unknown>;
	readonly body: Buffer;
	/** HTTP/1.1: the header names in the order they were sent (date left out). */
	readonly headerOrder?: string[];
	/** h2c: trailers (Connect unary has none), whether HEADERS ended the stream, the reset code. */
	readonly h2?: {
		readonly trailers: Record<string, unknown> | undefined;
		readonly headersEndStream: boolean;
		readonly rstCode: number;
	};
}

function h1Exchange(port: number, request: ConnectRequest): Promise<Answer> {
	// A keep-alive agent, so the answer carries Node's `connection`/`keep-alive` headers as browsers see them.
	const agent = new http.Agent({ keepAlive: true });
	onClose(() => agent.destroy());
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: "127.0.0.1",
				port,
				method: request.method ?? "POST",
				path: request.path,
				headers: request.headers,
				agent,
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () => {
					const { date: _, ...headers } = res.headers;
					resolve({
						status: res.statusCode as number,
						headers,
						headerOrder: res.rawHeaders
							.filter((_, i) => i % 2 === 0)
							.map((name) => name.toLowerCase())
							.filter((name) => name !== "date"),
						body: Buffer.concat(chunks),
					});
				});
				res.on("error", reject);
			},
		);
		req.on("error", reject);
		sendBody(req, request.body, request.byteByByte === true).catch(reject);
	});
}

async function h2cExchange(
	port: number,
	request: ConnectRequest,
): Promise<Answer> {
	const raw = await h2Exchange(port, {
		path: request.path,
		headers: { ":method": request.method ?? "POST", ...request.headers },
		body: request.body,
		...(request.byteByByte === undefined
			? {}
			: { byteByByte: request.byteByByte }),
	});
	const { ":status": status, ...headers } = raw.headers;
	return {
		status: status as number,
		headers,
		body: raw.body,
		h2: {
			trailers: raw.trailers,
			headersEndStream: raw.headersEndStream,
			rstCode: raw.rstCode,
		},
	};
}

/**
 * Sends the same request to both servers (in parallel) and checks the answers are identical. `answeredEarly`: the
 * answer may come before the whole body has arrived, and then (HTTP/1.1) says `Connection: close`
 * (unread-body-response.ts); whether it did depends on timing, so the connection headers are left out.
 */
async function both(
	transport: Transport,
	pair: Pair,
	request: ConnectRequest,
	answeredEarly = false,
): Promise<Answer> {
	const exchange = transport === "h2c" ? h2cExchange : h1Exchange;
	const [fast, slow] = await Promise.all([
		exchange(pair.fast.port, request),
		exchange(pair.slow.port, request),
	]);
	if (answeredEarly) expect(connectionless(fast)).toEqual(connectionless(slow));
	else expect(fast).toEqual(slow);
	return fast;
}

const CONNECTION_HEADERS = new Set(["connection", "keep-alive"]);

function connectionless(answer: Answer): Answer {
	return {
		...answer,
		headers: Object.fromEntries(
			Object.entries(answer.headers).filter(
				([name]) => !CONNECTION_HEADERS.has(name),
			),
		),
		...(answer.headerOrder === undefined
			? {}
			: {
					headerOrder: answer.headerOrder.filter(
						(name) => !CONNECTION_HEADERS.has(name),
					),
				}),
	};
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies

const PROTO = { "content-type": "application/proto" };
const JSON_TYPE = { "content-type": "application/json" };

function proto<D extends DescMessage>(
	schema: D,
	init: Record<string, unknown>,
): Buffer {
	return Buffer.from(toBinary(schema, create(schema, init as never)));
}

function json(value: unknown): Buffer {
	return Buffer.from(JSON.stringify(value));
}

/** The body bytes, decompressed as `content-encoding` says. */
function plainBody(answer: Answer): Buffer {
	const encoding = answer.headers["content-encoding"];
	if (encoding === "gzip") return gunzipSync(answer.body);
	if (encoding === "br") return brotliDecompressSync(answer.body);
	expect(encoding).toBeUndefined();
	return answer.body;
}

/** A successful binary answer's message. */
function protoOf<D extends DescMessage>(
	schema: D,
	answer: Answer,
): MessageShape<D> {
	expect(answer.status).toBe(200);
	expect(answer.headers["content-type"]).toBe("application/proto");
	return fromBinary(schema, plainBody(answer));
}

/** A successful JSON answer's message, as JSON. */
function jsonOf(answer: Answer): Record<string, unknown> {
	expect(answer.status).toBe(200);
	expect(answer.headers["content-type"]).toBe("application/json");
	return JSON.parse(plainBody(answer).toString("utf8"));
}

/** A Connect error answer: its HTTP status and JSON error body. */
function errorOf(answer: Answer): {
	status: number;
	code: string;
	message: string;
} {
	expect(answer.headers["content-type"]).toBe("application/json");
	const body = JSON.parse(plainBody(answer).toString("utf8"));
	expect(Object.keys(body).sort()).toEqual(["code", "message"]);
	return { status: answer.status, ...body };
}

const CONTEXT = {
	user: { profile: { tier: "gold", tags: ["a", { b: null }] } },
	n: 1.5,
};

const TYPED_V2 = [
	{
		method: "ResolveBoolean",
		req: v2.ResolveBooleanRequestSchema,
		res: v2.ResolveBooleanResponseSchema,
		key: "bool",
		value: true,
		json: true,
		reason: "STATIC",
	},
	{
		method: "ResolveString",
		req: v2.ResolveStringRequestSchema,
		res: v2.ResolveStringResponseSchema,
		key: "tier",
		value: "GOLD",
		json: "GOLD",
		reason: "TARGETING_MATCH",
	},
	{
		method: "ResolveInt",
		req: v2.ResolveIntRequestSchema,
		res: v2.ResolveIntResponseSchema,
		key: "count",
		value: 42n,
		// int64 travels as a JSON string.
		json: "42",
		reason: "STATIC",
	},
	{
		method: "ResolveFloat",
		req: v2.ResolveFloatRequestSchema,
		res: v2.ResolveFloatResponseSchema,
		key: "ratio",
		value: 0.25,
		json: 0.25,
		reason: "STATIC",
	},
	{
		method: "ResolveObject",
		req: v2.ResolveObjectRequestSchema,
		res: v2.ResolveObjectResponseSchema,
		key: "small",
		value: { a: 1 },
		json: { a: 1 },
		reason: "STATIC",
	},
] as const;

const TYPED_V1 = [
	["ResolveBoolean", v1.ResolveBooleanRequestSchema, "bool", true],
	["ResolveString", v1.ResolveStringRequestSchema, "tier", "GOLD"],
	["ResolveInt", v1.ResolveIntRequestSchema, "count", "42"],
	["ResolveFloat", v1.ResolveFloatRequestSchema, "ratio", 0.25],
	["ResolveObject", v1.ResolveObjectRequestSchema, "small", { a: 1 }],
] as const;

const JSON_TYPES = ["application/json", "application/json; charset=utf-8"];

// ---------------------------------------------------------------------------------------------------------------

describe.each<Transport>(["HTTP/1.1", "h2c"])(
	"Connect unary direct path over %s answers as connect does",
	(transport) => {
		it("resolves every v2 type with application/proto and application/json", async () => {
			const pair = await servePair();
			for (const c of TYPED_V2) {
				const binary = await both(transport, pair, {
					path: `${V2}/${c.method}`,
					headers: PROTO,
					body: proto(c.req, { flagKey: c.key, context: CONTEXT }),
				});
				const decoded = protoOf(c.res as DescMessage, binary) as unknown as {
					value?: unknown;
					reason: string;
				};
				expect(decoded.value).toEqual(c.value);
				expect(decoded.reason).toBe(c.reason);
				await expectPaths(pair, true);

				for (const contentType of JSON_TYPES) {
					// As the web provider sends it.
					const answer = await both(transport, pair, {
						path: `${V2}/${c.method}`,
						headers: { "content-type": contentType },
						body: json({ flagKey: c.key, context: CONTEXT }),
					});
					const body = jsonOf(answer);
					expect(body.value).toEqual(c.json);
					expect(body.reason).toBe(c.reason);
					await expectPaths(pair, true);
				}
			}
			expect(pair.fast.logs).toEqual([]);
		});

		it("resolves every v1 type and ResolveAll with application/proto and application/json", async () => {
			const pair = await servePair();
			const context = { user: { profile: { tier: "gold" } } };
			for (const [method, schema, key, value] of TYPED_V1) {
				const binary = await both(transport, pair, {
					path: `${V1}/${method}`,
					headers: PROTO,
					body: proto(schema, { flagKey: key, context }),
				});
				expect(binary.status).toBe(200);
				expect(binary.headers["content-type"]).toBe("application/proto");
				await expectPaths(pair, true);
				for (const contentType of JSON_TYPES) {
					const answer = await both(transport, pair, {
						path: `${V1}/${method}`,
						headers: { "content-type": contentType },
						body: json({ flagKey: key, context }),
					});
					expect(jsonOf(answer).value).toEqual(value);
					await expectPaths(pair, true);
				}
			}
			const all = protoOf(
				v1.ResolveAllResponseSchema,
				await both(transport, pair, {
					path: `${V1}/ResolveAll`,
					headers: PROTO,
					body: proto(v1.ResolveAllRequestSchema, { context }),
				}),
			);
			expect(Object.keys(all.flags).sort()).toEqual([
				"big",
				"bool",
				"count",
				"disabled",
				"onlyB",
				"ratio",
				"small",
				"tier",
			]);
			await expectPaths(pair, true);
			// The web provider's ResolveAll: `{"context": …}` as JSON.
			const allJson = jsonOf(
				await both(transport, pair, {
					path: `${V1}/ResolveAll`,
					headers: { ...JSON_TYPE, "connect-protocol-version": "1" },
					body: json({ context }),
				}),
			);
			const flags = allJson.flags as Record<string, Record<string, unknown>>;
			expect(flags.tier).toMatchObject({
				stringValue: "GOLD",
				reason: "TARGETING_MATCH",
			});
			// v1 ResolveAll carries every number as a double.
			expect(flags.count).toMatchObject({ doubleValue: 42, reason: "STATIC" });
			await expectPaths(pair, true);
		});

		it("reads JSON as protobuf JSON: unknown fields ignored, proto field names accepted", async () => {
			const pair = await servePair();
			const bodies = [
				{ flagKey: "tier", context: { tier: "gold" }, unknown: [1, 2] },
				{ flag_key: "tier", context: { tier: "gold" } },
			];
			for (const body of bodies) {
				const answer = await both(transport, pair, {
					path: `${V2}/ResolveString`,
					headers: JSON_TYPE,
					body: json(body),
				});
				expect(jsonOf(answer)).toMatchObject({
					value: "GOLD",
					reason: "TARGETING_MATCH",
				});
				await expectPaths(pair, true);
			}
		});

		it("reports flag not found, type mismatch and a disabled flag identically", async () => {
			const pair = await servePair();
			for (const headers of [PROTO, JSON_TYPE]) {
				const body =
					headers === PROTO
						? proto(v2.ResolveBooleanRequestSchema, { flagKey: "missing" })
						: json({ flagKey: "missing" });
				const notFound = await both(transport, pair, {
					path: `${V2}/ResolveBoolean`,
					headers,
					body,
				});
				expect(errorOf(notFound)).toEqual({
					status: 404,
					code: "not_found",
					message: EVALUATION_ERROR_MESSAGES.FLAG_NOT_FOUND,
				});
				await expectPaths(pair, true);
			}
			const v1NotFound = await both(transport, pair, {
				path: `${V1}/ResolveString`,
				headers: JSON_TYPE,
				body: json({ flagKey: "missing" }),
			});
			expect(errorOf(v1NotFound).code).toBe("not_found");

			const mismatch = await both(transport, pair, {
				path: `${V2}/ResolveString`,
				headers: JSON_TYPE,
				body: json({ flagKey: "bool" }),
			});
			expect(errorOf(mismatch)).toEqual({
				status: 400,
				code: "invalid_argument",
				message: EVALUATION_ERROR_MESSAGES.TYPE_MISMATCH,
			});
			await expectPaths(pair, true);

			const v2Disabled = protoOf(
				v2.ResolveBooleanResponseSchema,
				await both(transport, pair, {
					path: `${V2}/ResolveBoolean`,
					headers: PROTO,
					body: proto(v2.ResolveBooleanRequestSchema, { flagKey: "disabled" }),
				}),
			);
			expect(v2Disabled.reason).toBe("DISABLED");
			expect(v2Disabled.value).toBeUndefined();
			// v1 renders DISABLED as a success with the zero value and an empty variant (both left out of JSON).
			const v1Disabled = jsonOf(
				await both(transport, pair, {
					path: `${V1}/ResolveBoolean`,
					headers: JSON_TYPE,
					body: json({ flagKey: "disabled" }),
				}),
			);
			expect(v1Disabled).toEqual({
				reason: "DISABLED",
				metadata: { team: "checkout", version: 3 },
			});
			await expectPaths(pair, true);
			expect(pair.fast.logs).toEqual([]);
		});

		it("honours the flagd-selector header, header context and flag metadata identically", async () => {
			const pair = await servePair();
			const inSet = jsonOf(
				await both(transport, pair, {
					path: `${V2}/ResolveString`,
					headers: { ...JSON_TYPE, "flagd-selector": "flagSetId=beta" },
					body: json({ flagKey: "onlyB" }),
				}),
			);
			expect(inSet.value).toBe("yes");
			expect(inSet.metadata).toMatchObject({ flagSetId: "beta" });
			await expectPaths(pair, true);

			const invalid = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...PROTO, "flagd-selector": "nonsense=1" },
				body: proto(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
			});
			expect(errorOf(invalid).code).toBe("invalid_argument");
			expect(invalid.status).toBe(400);

			const fromHeader = protoOf(
				v2.ResolveStringResponseSchema,
				await both(transport, pair, {
					path: `${V2}/ResolveString`,
					headers: { ...PROTO, "x-tier": "gold" },
					body: proto(v2.ResolveStringRequestSchema, { flagKey: "tier" }),
				}),
			);
			expect(fromHeader.value).toBe("GOLD");

			const withMetadata = jsonOf(
				await both(transport, pair, {
					path: `${V2}/ResolveBoolean`,
					headers: JSON_TYPE,
					body: json({ flagKey: "bool", context: {} }),
				}),
			);
			expect(withMetadata.metadata).toEqual({
				owner: "payments",
				weight: 1.5,
				team: "checkout",
				version: 3,
			});
			await expectPaths(pair, true);
		});

		it("compresses as connect does for browsers' accept-encoding", async () => {
			const pair = await servePair();
			const browser = { "accept-encoding": "gzip, deflate, br" };
			// Below compressMinBytes: not compressed, no content-encoding.
			const small = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...JSON_TYPE, ...browser },
				body: json({ flagKey: "bool" }),
			});
			expect(small.headers["content-encoding"]).toBeUndefined();
			expect(jsonOf(small).value).toBe(true);
			await expectPaths(pair, true);

			const bigValue = {
				blob: BIG_TEXT,
				nested: { list: [1, "two", null, true] },
			};
			for (const [accept, encoding] of [
				[browser, "gzip"],
				[{ "accept-encoding": "br" }, "br"],
			] as const) {
				const bigJson = await both(transport, pair, {
					path: `${V2}/ResolveObject`,
					headers: { ...JSON_TYPE, ...accept },
					body: json({ flagKey: "big" }),
				});
				// Compressed, and byte-identical to connect's output (the comparison in both()).
				expect(bigJson.headers["content-encoding"]).toBe(encoding);
				expect(bigJson.body.length).toBeLessThan(1_024);
				expect(jsonOf(bigJson).value).toEqual(bigValue);
				await expectPaths(pair, true);

				const bigProto = await both(transport, pair, {
					path: `${V1}/ResolveObject`,
					headers: { ...PROTO, ...accept },
					body: proto(v1.ResolveObjectRequestSchema, { flagKey: "big" }),
				});
				expect(bigProto.headers["content-encoding"]).toBe(encoding);
				expect(protoOf(v1.ResolveObjectResponseSchema, bigProto).value).toEqual(
					bigValue,
				);
				await expectPaths(pair, true);
			}
			// No accept-encoding: uncompressed.
			const plainBig = await both(transport, pair, {
				path: `${V2}/ResolveObject`,
				headers: JSON_TYPE,
				body: json({ flagKey: "big" }),
			});
			expect(plainBig.headers["content-encoding"]).toBeUndefined();
			expect(plainBig.body.length).toBeGreaterThan(2_000);
			await expectPaths(pair, true);
		});

		it("takes connect-protocol-version: 1 or none, content-encoding: identity and connect-timeout-ms", async () => {
			const pair = await servePair();
			const variants: Record<string, string>[] = [
				{},
				{ "connect-protocol-version": "1" },
				{ "content-encoding": "identity" },
				{ "connect-timeout-ms": "5000" },
			];
			for (const headers of variants) {
				const answer = await both(transport, pair, {
					path: `${V2}/ResolveBoolean`,
					headers: { ...JSON_TYPE, ...headers },
					body: json({ flagKey: "bool" }),
				});
				expect(jsonOf(answer).value).toBe(true);
				await expectPaths(pair, true);
			}
		});

		it("still takes a body that arrives one byte at a time", async () => {
			const pair = await servePair();
			const answer = await both(transport, pair, {
				path: `${V2}/ResolveString`,
				headers: JSON_TYPE,
				body: json({ flagKey: "tier", context: { tier: "gold" } }),
				byteByByte: true,
			});
			expect(jsonOf(answer).value).toBe("GOLD");
			await expectPaths(pair, true);
			const binary = await both(transport, pair, {
				path: `${V2}/ResolveString`,
				headers: PROTO,
				body: proto(v2.ResolveStringRequestSchema, {
					flagKey: "tier",
					context: { tier: "gold" },
				}),
				byteByByte: true,
			});
			expect(protoOf(v2.ResolveStringResponseSchema, binary).value).toBe(
				"GOLD",
			);
			await expectPaths(pair, true);
		});

		it("gives the implementation the context connect gives it", async () => {
			// Echoes what an implementation can read of its context; the port differs between the two servers.
			const routes = [
				serviceRoute(
					EvaluationServiceV2,
					{
						resolveBoolean: (_, ctx) => {
							ctx.responseHeader.set(
								"x-url",
								ctx.url.replace(/:\d+\//, ":PORT/"),
							);
							ctx.responseHeader.set("x-method", ctx.requestMethod);
							ctx.responseHeader.set("x-protocol", ctx.protocolName);
							ctx.responseHeader.set(
								"x-timeout",
								String(ctx.timeoutMs() !== undefined),
							);
							ctx.responseHeader.set(
								"x-custom",
								ctx.requestHeader.get("x-custom") ?? "none",
							);
							ctx.responseTrailer.set("x-trailer", "t");
							return { value: true, reason: "STATIC", metadata: {} };
						},
					},
					{ synchronous: ["resolveBoolean"] },
				),
			];
			const pair = await servePair(
				{},
				{ store: evaluationServices().store, routes },
			);
			const answer = await both(transport, pair, {
				path: `${V2}/ResolveBoolean?q=1`,
				headers: {
					...JSON_TYPE,
					"x-custom": "c",
					"connect-timeout-ms": "5000",
				},
				body: json({ flagKey: "bool" }),
			});
			expect(answer.headers).toMatchObject({
				"x-url": `http://127.0.0.1:PORT${V2}/ResolveBoolean?q=1`,
				"x-method": "POST",
				"x-protocol": "connect",
				"x-timeout": "true",
				"x-custom": "c",
				// Connect unary has no trailers: connect sends them as `trailer-` headers.
				"trailer-x-trailer": "t",
			});
			expect(jsonOf(answer)).toEqual({
				value: true,
				reason: "STATIC",
				metadata: {},
			});
			await expectPaths(pair, true);
		});

		it("reports errors an implementation throws in connect's words", async () => {
			const routes = [
				serviceRoute(
					EvaluationServiceV2,
					{
						resolveBoolean: () => {
							throw new ConnectError("no access", Code.PermissionDenied, {
								"x-why": "policy",
							});
						},
						resolveString: () => {
							throw new Error("boom");
						},
						// Out of int64 range: protobuf serialization fails.
						resolveInt: () => ({ value: 2n ** 70n, reason: "STATIC" }),
					},
					{ synchronous: ["resolveBoolean", "resolveString", "resolveInt"] },
				),
			];
			const pair = await servePair(
				{},
				{ store: evaluationServices().store, routes },
			);
			const denied = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: PROTO,
				body: proto(v2.ResolveBooleanRequestSchema, { flagKey: "x" }),
			});
			expect(errorOf(denied)).toEqual({
				status: 403,
				code: "permission_denied",
				message: "no access",
			});
			expect(denied.headers["x-why"]).toBe("policy");
			const internal = await both(transport, pair, {
				path: `${V2}/ResolveString`,
				headers: JSON_TYPE,
				body: json({ flagKey: "x" }),
			});
			expect(errorOf(internal)).toEqual({
				status: 500,
				code: "internal",
				message: "internal error",
			});
			const unserialisable = await both(transport, pair, {
				path: `${V2}/ResolveInt`,
				headers: PROTO,
				body: proto(v2.ResolveIntRequestSchema, { flagKey: "x" }),
			});
			const error = errorOf(unserialisable);
			expect(error.status).toBe(500);
			expect(error.code).toBe("internal");
			expect(error.message).toMatch(/^serialize binary: /);
			await expectPaths(pair, true);
		});
	},
);

describe.each<Transport>(["HTTP/1.1", "h2c"])(
	"Connect unary direct path over %s hands anything unusual to connect",
	(transport) => {
		it("answers a GET as connect does (405: the evaluation methods have side effects)", async () => {
			const pair = await servePair();
			const message = encodeURIComponent(JSON.stringify({ flagKey: "bool" }));
			const answer = await both(transport, pair, {
				method: "GET",
				path: `${V2}/ResolveBoolean?encoding=json&message=${message}&connect=v1`,
				body: Buffer.alloc(0),
			});
			expect(answer.status).toBe(405);
			expect(answer.body.length).toBe(0);
			expect(pair.fast.signals).toHaveLength(0);
			expect(pair.slow.signals).toHaveLength(0);
		});

		it("decompresses a gzip request itself, and leaves one that does not decompress to connect", async () => {
			const pair = await servePair();
			const answer = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...JSON_TYPE, "content-encoding": "gzip" },
				body: gzipSync(json({ flagKey: "bool" })),
			});
			expect(jsonOf(answer).value).toBe(true);
			await expectPaths(pair, true);
			const broken = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...JSON_TYPE, "content-encoding": "gzip" },
				body: Buffer.from("this body is not a gzip stream at all"),
			});
			// connect's answer, the same from both handlers (`both` compares them).
			expect(errorOf(broken)).toMatchObject({
				message: "decompression failed",
			});
		});

		it("leaves a content encoding it does not accept to connect", async () => {
			const pair = await servePair();
			const answer = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...JSON_TYPE, "content-encoding": "zstd" },
				body: json({ flagKey: "bool" }),
			});
			expect(errorOf(answer).code).toBe("unimplemented");
			expect(pair.fast.signals).toHaveLength(0);
		});

		it("leaves an invalid connect-timeout-ms to connect", async () => {
			const pair = await servePair();
			const answer = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...JSON_TYPE, "connect-timeout-ms": "abc" },
				body: json({ flagKey: "bool" }),
			});
			expect(errorOf(answer)).toEqual({
				status: 400,
				code: "invalid_argument",
				message: "protocol error: invalid connect timeout value: abc",
			});
			expect(pair.fast.signals).toHaveLength(0);
		});

		it("leaves empty and unparseable bodies to connect", async () => {
			const pair = await servePair();
			// An empty protobuf body is a valid empty message: connect evaluates flag key "".
			const emptyBinary = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: PROTO,
				body: Buffer.alloc(0),
			});
			expect(errorOf(emptyBinary)).toEqual({
				status: 404,
				code: "not_found",
				message: EVALUATION_ERROR_MESSAGES.FLAG_NOT_FOUND,
			});
			await expectPaths(pair, false);
			const before = pair.fast.signals.length;

			const invalid: { body: Buffer; headers: Record<string, string> }[] = [
				{ body: Buffer.alloc(0), headers: JSON_TYPE },
				{ body: Buffer.from('{"flagKey":'), headers: JSON_TYPE },
				{ body: json({ flagKey: 5 }), headers: JSON_TYPE },
				{ body: json([1]), headers: JSON_TYPE },
				// Field 1 (flag_key) as a length-delimited string whose length runs past the end.
				{ body: Buffer.from([0x0a, 0x7f, 0x61]), headers: PROTO },
				// A wire type 7, which does not exist.
				{ body: Buffer.from([0x0f]), headers: PROTO },
			];
			const errors: ReturnType<typeof errorOf>[] = [];
			for (const c of invalid) {
				const answer = await both(transport, pair, {
					path: `${V2}/ResolveBoolean`,
					...c,
				});
				errors.push(errorOf(answer));
			}
			const json400 = (
				detail: string | ReturnType<typeof expect.stringMatching>,
			) => ({
				status: 400,
				code: "invalid_argument",
				message:
					typeof detail === "string"
						? `cannot decode message flagd.evaluation.v2.ResolveBooleanRequest from JSON: ${detail}`
						: detail,
			});
			// connect's words; protobuf that does not parse is invalid_argument too (connect-es says internal, the
			// handler corrects it: parse-error-status.ts).
			expect(errors).toEqual([
				json400("Unexpected end of JSON input"),
				// V8's wording of a truncated document.
				json400(
					expect.stringMatching(
						/^cannot decode message flagd\.evaluation\.v2\.ResolveBooleanRequest from JSON: /,
					),
				),
				{
					status: 400,
					code: "invalid_argument",
					message:
						"cannot decode field flagd.evaluation.v2.ResolveBooleanRequest.flag_key from JSON: expected string, got 5",
				},
				json400("Array(1)"),
				{
					status: 400,
					code: "invalid_argument",
					message: "parse binary: premature EOF",
				},
				{
					status: 400,
					code: "invalid_argument",
					message: "parse binary: illegal tag: field no 1 wire type 7",
				},
			]);
			// None of them reached the implementation.
			expect(pair.fast.signals).toHaveLength(before);
		});

		it("leaves a body over readMaxBytes to connect", async () => {
			const pair = await servePair({ readMaxBytes: 64 });
			const atLimit = json({ flagKey: "k".repeat(50) });
			expect(atLimit.length).toBe(64);
			const ok = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: JSON_TYPE,
				body: atLimit,
			});
			expect(errorOf(ok).code).toBe("not_found");
			await expectPaths(pair, true);

			for (const byteByByte of [false, true]) {
				const over = await both(
					transport,
					pair,
					{
						path: `${V2}/ResolveBoolean`,
						headers: JSON_TYPE,
						body: json({ flagKey: "k".repeat(86) }),
						byteByByte,
					},
					true,
				);
				// HTTP/1.1 sends a content-length with a whole body (connect then names the size), h2c none.
				const sized = transport === "HTTP/1.1" && !byteByByte;
				expect(errorOf(over)).toEqual({
					status: 429,
					code: "resource_exhausted",
					message: sized
						? "message size 100 is larger than configured readMaxBytes 64"
						: "message size is larger than configured readMaxBytes 64",
				});
			}
			expect(pair.fast.signals).toHaveLength(1);
		});

		it("leaves application/connect+json and text/plain to connect (415)", async () => {
			const pair = await servePair();
			for (const contentType of ["application/connect+json", "text/plain"]) {
				const answer = await both(transport, pair, {
					path: `${V2}/ResolveBoolean`,
					headers: { "content-type": contentType },
					body: json({ flagKey: "bool" }),
				});
				expect(answer.status).toBe(415);
				expect(answer.body.length).toBe(0);
			}
			expect(pair.fast.signals).toHaveLength(0);
		});

		it("on the sync port's configuration, leaves a Connect request to connect", async () => {
			const services = evaluationServices();
			const pair = await servePair(
				{ grpc: true, grpcWeb: false, connect: false },
				{
					store: services.store,
					routes: services.routes.filter((r) => r.service === FlagSyncService),
				},
			);
			const answer = await both(transport, pair, {
				path: "/flagd.sync.v1.FlagSyncService/GetMetadata",
				headers: PROTO,
				body: proto(sync.GetMetadataRequestSchema, {}),
			});
			expect(answer.status).toBe(415);
			expect(pair.fast.signals).toHaveLength(0);
			expect(pair.slow.signals).toHaveLength(0);
		});

		it("enforces requireConnectProtocolHeader as connect does", async () => {
			const pair = await servePair({ requireConnectProtocolHeader: true });
			const missing = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: JSON_TYPE,
				body: json({ flagKey: "bool" }),
			});
			expect(errorOf(missing)).toEqual({
				status: 400,
				code: "invalid_argument",
				message: 'missing required header: set Connect-Protocol-Version to "1"',
			});
			const present = await both(transport, pair, {
				path: `${V2}/ResolveBoolean`,
				headers: { ...JSON_TYPE, "connect-protocol-version": "1" },
				body: json({ flagKey: "bool" }),
			});
			expect(jsonOf(present).value).toBe(true);
		});
	},
);
