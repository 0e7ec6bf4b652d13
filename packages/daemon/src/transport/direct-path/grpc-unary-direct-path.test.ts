/**
 * The direct unary gRPC path (grpc-unary-direct-path.ts) must answer exactly as connect's gRPC handler does. Each test
 * sends the same raw HTTP/2 request (headers and body bytes under our control) to two handlers built from the same
 * service implementations, one with the direct path and one without, and compares status, headers (except `date`),
 * trailers and body bytes. Which path served a call is observed through the handler context's signal: connect aborts
 * it after every call, the direct path never does.
 */
import http from "node:http";
import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import {
	create,
	type DescMessage,
	fromBinary,
	type MessageShape,
	toBinary,
} from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
	EVALUATION_ERROR_MESSAGES,
	EvaluationServiceV2,
} from "@flagd-ts/protocol";
import * as v1 from "@flagd-ts/protocol/evaluation-v1";
import * as v2 from "@flagd-ts/protocol/evaluation-v2";
import * as sync from "@flagd-ts/protocol/sync-v1";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { serviceRoute } from "../connect-handler.js";
import { StreamRequest } from "../stream-request.js";
import {
	aborted,
	BIG_TEXT,
	closeAll,
	evaluationServices,
	expectPaths,
	h2Exchange,
	onClose,
	type Pair,
	type RawH2Response,
	SOURCE_B,
	serve,
	servePair,
	V1,
	V2,
} from "./testdata/direct-path-test-support.js";

afterEach(closeAll);

// ---------------------------------------------------------------------------------------------------------------
// Raw gRPC requests

interface RawRequest {
	readonly path: string;
	readonly body: Buffer;
	readonly contentType?: string;
	readonly headers?: Record<string, string>;
	/** Write the body one byte per DATA frame. */
	readonly byteByByte?: boolean;
}

type RawResponse = RawH2Response;

function exchange(port: number, request: RawRequest): Promise<RawResponse> {
	return h2Exchange(port, {
		path: request.path,
		headers: {
			"content-type": request.contentType ?? "application/grpc",
			te: "trailers",
			...request.headers,
		},
		body: request.body,
		...(request.byteByByte === undefined
			? {}
			: { byteByByte: request.byteByByte }),
	});
}

/** Sends the same request to both servers (in parallel) and checks the answers are identical. */
async function both(
	pair: Pair,
	request: RawRequest,
): Promise<{ fast: RawResponse; slow: RawResponse }> {
	const [fast, slow] = await Promise.all([
		exchange(pair.fast.port, request),
		exchange(pair.slow.port, request),
	]);
	expect(fast).toEqual(slow);
	return { fast, slow };
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

function envelope(payload: Uint8Array, flags = 0): Buffer {
	const head = Buffer.alloc(5);
	head[0] = flags;
	head.writeUInt32BE(payload.length, 1);
	return Buffer.concat([head, payload]);
}

function message<D extends DescMessage>(
	schema: D,
	init: Record<string, unknown>,
): Buffer {
	return envelope(toBinary(schema, create(schema, init as never)));
}

/** Decodes the single response message of a successful call (gunzipped when the envelope says so). */
function decode<D extends DescMessage>(
	schema: D,
	response: RawResponse,
): MessageShape<D> {
	const { body } = response;
	expect(body.length).toBeGreaterThanOrEqual(5);
	const length = body.readUInt32BE(1);
	expect(body.length).toBe(5 + length);
	const payload = body.subarray(5);
	const bytes = body[0] === 1 ? gunzipSync(payload) : payload;
	return fromBinary(schema, bytes);
}

function grpcStatus(response: RawResponse): unknown {
	return (response.trailers ?? response.headers)["grpc-status"];
}

/** grpc-message, percent-decoded as the gRPC spec encodes it. */
function grpcMessage(response: RawResponse): string | undefined {
	const raw = (response.trailers ?? response.headers)["grpc-message"];
	return typeof raw === "string" ? decodeURIComponent(raw) : undefined;
}

/** What the gRPC response of a successful call carries, whichever path answered. */
function expectOk(response: RawResponse): void {
	expect(response.headers[":status"]).toBe(200);
	expect(response.headers["content-type"]).toBe("application/grpc+proto");
	expect(response.trailers).toEqual({ "grpc-status": "0" });
}

// ---------------------------------------------------------------------------------------------------------------

describe("gRPC unary direct path answers as connect does", () => {
	it("resolves every v2 type identically", async () => {
		const pair = await servePair();
		const context = {
			user: { profile: { tier: "gold", tags: ["a", { b: null }] } },
			n: 1.5,
		};
		const cases = [
			{
				method: "ResolveBoolean",
				req: v2.ResolveBooleanRequestSchema,
				res: v2.ResolveBooleanResponseSchema,
				key: "bool",
				value: true,
				reason: "STATIC",
			},
			{
				method: "ResolveString",
				req: v2.ResolveStringRequestSchema,
				res: v2.ResolveStringResponseSchema,
				key: "tier",
				value: "GOLD",
				reason: "TARGETING_MATCH",
			},
			{
				method: "ResolveInt",
				req: v2.ResolveIntRequestSchema,
				res: v2.ResolveIntResponseSchema,
				key: "count",
				value: 42n,
				reason: "STATIC",
			},
			{
				method: "ResolveFloat",
				req: v2.ResolveFloatRequestSchema,
				res: v2.ResolveFloatResponseSchema,
				key: "ratio",
				value: 0.25,
				reason: "STATIC",
			},
			{
				method: "ResolveObject",
				req: v2.ResolveObjectRequestSchema,
				res: v2.ResolveObjectResponseSchema,
				key: "small",
				value: { a: 1 },
				reason: "STATIC",
			},
		] as const;
		for (const c of cases) {
			const { fast } = await both(pair, {
				path: `${V2}/${c.method}`,
				body: message(c.req, { flagKey: c.key, context }),
			});
			expectOk(fast);
			const decoded = decode(c.res as DescMessage, fast) as unknown as {
				value?: unknown;
				reason: string;
			};
			expect(decoded.value).toEqual(c.value);
			expect(decoded.reason).toBe(c.reason);
			await expectPaths(pair, true);
		}
		expect(pair.fast.logs).toEqual([]);
	});

	it("resolves every v1 type and ResolveAll identically", async () => {
		const pair = await servePair();
		const context = { user: { profile: { tier: "gold" } } };
		const cases = [
			["ResolveBoolean", v1.ResolveBooleanRequestSchema, "bool"],
			["ResolveString", v1.ResolveStringRequestSchema, "tier"],
			["ResolveInt", v1.ResolveIntRequestSchema, "count"],
			["ResolveFloat", v1.ResolveFloatRequestSchema, "ratio"],
			["ResolveObject", v1.ResolveObjectRequestSchema, "small"],
		] as const;
		for (const [method, schema, key] of cases) {
			const { fast } = await both(pair, {
				path: `${V1}/${method}`,
				body: message(schema, { flagKey: key, context }),
			});
			expectOk(fast);
			await expectPaths(pair, true);
		}
		const { fast } = await both(pair, {
			path: `${V1}/ResolveAll`,
			body: message(v1.ResolveAllRequestSchema, { context }),
		});
		expectOk(fast);
		const all = decode(v1.ResolveAllResponseSchema, fast);
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
		expect(
			decode(
				v1.ResolveStringResponseSchema,
				await exchange(pair.fast.port, {
					path: `${V1}/ResolveString`,
					body: message(v1.ResolveStringRequestSchema, {
						flagKey: "tier",
						context,
					}),
				}),
			).value,
		).toBe("GOLD");
	});

	it("reports flag not found, type mismatch and a disabled flag identically", async () => {
		const pair = await servePair();
		const notFound = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "missing" }),
		});
		expect(notFound.fast.headers[":status"]).toBe(200);
		expect(grpcStatus(notFound.fast)).toBe(String(Code.NotFound));
		expect(grpcMessage(notFound.fast)).toBe(
			EVALUATION_ERROR_MESSAGES.FLAG_NOT_FOUND,
		);
		expect(notFound.fast.body.length).toBe(0);
		await expectPaths(pair, true);

		const v1NotFound = await both(pair, {
			path: `${V1}/ResolveString`,
			body: message(v1.ResolveStringRequestSchema, { flagKey: "missing" }),
		});
		expect(grpcStatus(v1NotFound.fast)).toBe(String(Code.NotFound));

		const mismatch = await both(pair, {
			path: `${V2}/ResolveString`,
			body: message(v2.ResolveStringRequestSchema, { flagKey: "bool" }),
		});
		expect(grpcStatus(mismatch.fast)).toBe(String(Code.InvalidArgument));
		expect(grpcMessage(mismatch.fast)).toBe(
			EVALUATION_ERROR_MESSAGES.TYPE_MISMATCH,
		);
		await expectPaths(pair, true);

		const v2Disabled = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "disabled" }),
		});
		expectOk(v2Disabled.fast);
		const decoded = decode(v2.ResolveBooleanResponseSchema, v2Disabled.fast);
		expect(decoded.reason).toBe("DISABLED");
		expect(decoded.value).toBeUndefined();

		// v1 renders DISABLED as a success with the zero value and an empty variant.
		const v1Disabled = await both(pair, {
			path: `${V1}/ResolveBoolean`,
			body: message(v1.ResolveBooleanRequestSchema, { flagKey: "disabled" }),
		});
		expectOk(v1Disabled.fast);
		const v1Decoded = decode(v1.ResolveBooleanResponseSchema, v1Disabled.fast);
		expect(v1Decoded.reason).toBe("DISABLED");
		expect(v1Decoded.value).toBe(false);
		expect(v1Decoded.variant).toBe("");
		await expectPaths(pair, true);
		expect(pair.fast.logs).toEqual([]);
	});

	it("honours the flagd-selector header, header context and flag metadata identically", async () => {
		const pair = await servePair();
		const inSet = await both(pair, {
			path: `${V2}/ResolveString`,
			body: message(v2.ResolveStringRequestSchema, { flagKey: "onlyB" }),
			headers: { "flagd-selector": "flagSetId=beta" },
		});
		expectOk(inSet.fast);
		const decoded = decode(v2.ResolveStringResponseSchema, inSet.fast);
		expect(decoded.value).toBe("yes");
		expect(decoded.metadata).toMatchObject({ flagSetId: "beta" });
		await expectPaths(pair, true);

		const outOfSource = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
			headers: { "flagd-selector": `source=${SOURCE_B}` },
		});
		expect(grpcStatus(outOfSource.fast)).toBe(String(Code.NotFound));

		const invalid = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
			headers: { "flagd-selector": "nonsense=1" },
		});
		expect(grpcStatus(invalid.fast)).toBe(String(Code.InvalidArgument));

		const fromHeader = await both(pair, {
			path: `${V2}/ResolveString`,
			body: message(v2.ResolveStringRequestSchema, { flagKey: "tier" }),
			headers: { "x-tier": "gold" },
		});
		expect(decode(v2.ResolveStringResponseSchema, fromHeader.fast).value).toBe(
			"GOLD",
		);

		const withMetadata = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
		});
		expect(
			decode(v2.ResolveBooleanResponseSchema, withMetadata.fast).metadata,
		).toMatchObject({ owner: "payments", weight: 1.5, team: "checkout" });
		await expectPaths(pair, true);
	});

	it("negotiates response compression as grpc-js clients ask for it", async () => {
		const pair = await servePair();
		const acceptAll = { "grpc-accept-encoding": "identity,deflate,gzip" };
		// Below compressMinBytes: negotiated (grpc-encoding: gzip) but sent uncompressed.
		const small = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
			headers: acceptAll,
		});
		expect(small.fast.headers["grpc-encoding"]).toBe("gzip");
		expect(small.fast.body[0]).toBe(0);
		expect(decode(v2.ResolveBooleanResponseSchema, small.fast).value).toBe(
			true,
		);
		await expectPaths(pair, true);

		for (const path of [`${V2}/ResolveObject`, `${V1}/ResolveObject`]) {
			const big = await both(pair, {
				path,
				body: message(v2.ResolveObjectRequestSchema, { flagKey: "big" }),
				headers: acceptAll,
			});
			expect(big.fast.headers["grpc-encoding"]).toBe("gzip");
			// Compressed, and byte-identical to connect's gzip output (the comparison in both()).
			expect(big.fast.body[0]).toBe(1);
			const value = decode(v2.ResolveObjectResponseSchema, big.fast).value;
			expect(value).toEqual({
				blob: BIG_TEXT,
				nested: { list: [1, "two", null, true] },
			});
			await expectPaths(pair, true);
		}

		// No accept-encoding: a big response goes out uncompressed and without grpc-encoding.
		const plainBig = await both(pair, {
			path: `${V2}/ResolveObject`,
			body: message(v2.ResolveObjectRequestSchema, { flagKey: "big" }),
		});
		expect(plainBig.fast.headers["grpc-encoding"]).toBeUndefined();
		expect(plainBig.fast.body[0]).toBe(0);
		expect(plainBig.fast.body.length).toBeGreaterThan(2_000);

		// Only an encoding the server does not have: no compression either.
		const deflateOnly = await both(pair, {
			path: `${V2}/ResolveObject`,
			body: message(v2.ResolveObjectRequestSchema, { flagKey: "big" }),
			headers: { "grpc-accept-encoding": "deflate" },
		});
		expect(deflateOnly.fast.headers["grpc-encoding"]).toBeUndefined();
		expect(deflateOnly.fast.body[0]).toBe(0);
		await expectPaths(pair, true);
	});

	it("takes application/grpc, application/grpc+proto and grpc-encoding: identity", async () => {
		const pair = await servePair();
		const requests: Omit<RawRequest, "path" | "body">[] = [
			{ contentType: "application/grpc" },
			{ contentType: "application/grpc+proto" },
			{
				contentType: "application/grpc",
				headers: { "grpc-encoding": "identity" },
			},
			{ contentType: "application/grpc", headers: { "grpc-timeout": "5S" } },
		];
		for (const request of requests) {
			const { fast } = await both(pair, {
				path: `${V2}/ResolveBoolean`,
				body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
				...request,
			});
			expectOk(fast);
			await expectPaths(pair, true);
		}
	});

	it("skips connect's pipeline: the context signal is never aborted on the direct path", async () => {
		// The observable: connect aborts the handler context's signal when a call completes (its output iterator's
		// return), the direct path builds a context with no signal source and never aborts it.
		const pair = await servePair();
		const request = {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
		};
		await both(pair, request);
		expect(pair.fast.signals).toHaveLength(1);
		expect(pair.slow.signals).toHaveLength(1);
		await aborted(pair.slow.signals[0] as AbortSignal);
		await new Promise((resolve) => setImmediate(resolve));
		expect(pair.fast.signals[0]?.aborted).toBe(false);
	});
});

describe("gRPC unary direct path hands anything unusual to connect", () => {
	it("drops a call whose client resets it mid-body, building nothing that would wait for the rest", async () => {
		const server = await serve(evaluationServices().routes, true, {});
		const compat = jest.spyOn(StreamRequest.prototype, "compat");
		try {
			const session = http2.connect(`http://127.0.0.1:${server.port}`);
			onClose(() => session.destroy());
			const headers = {
				":method": "POST",
				":path": `${V2}/ResolveBoolean`,
				"content-type": "application/grpc",
				te: "trailers",
			};
			const stream = session.request(headers, { endStream: false });
			stream.on("error", () => {});
			// An envelope announcing 10 bytes, and 2 of them.
			stream.write(Buffer.from([0, 0, 0, 0, 10, 1, 2]));
			await new Promise<void>((resolve) => stream.once("ready", resolve));
			stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
			// Frames are handled in order: once the next call on the connection is answered, the reset has been.
			const sameSession = await new Promise<number>((resolve) => {
				const again = session.request(headers);
				again.on("error", () => {});
				again.on("response", (h) => resolve(Number(h[":status"])));
				again.end(
					envelope(
						toBinary(
							v2.ResolveBooleanRequestSchema,
							create(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
						),
					),
				);
			});
			expect(sameSession).toBe(200);
			expect(compat).not.toHaveBeenCalled();
			expect(server.logs).toEqual([]);
		} finally {
			compat.mockRestore();
		}
	});

	it("serves a gzip-compressed request through connect", async () => {
		const pair = await servePair();
		const payload = toBinary(
			v2.ResolveBooleanRequestSchema,
			create(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
		);
		const { fast } = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: envelope(gzipSync(payload), 1),
			headers: { "grpc-encoding": "gzip" },
		});
		expectOk(fast);
		expect(decode(v2.ResolveBooleanResponseSchema, fast).value).toBe(true);
		await expectPaths(pair, false);

		// Compressed flag without a grpc-encoding: connect's error, from both.
		const flagged = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: envelope(payload, 1),
		});
		expect(grpcStatus(flagged.fast)).toBe(String(Code.Internal));
		expect(grpcMessage(flagged.fast)).toBe(
			"received compressed envelope, but do not know how to decompress",
		);
		expect(pair.fast.signals).toHaveLength(1);
	});

	it("leaves an invalid grpc-timeout to connect", async () => {
		const pair = await servePair();
		const { fast } = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
			headers: { "grpc-timeout": "abc" },
		});
		expect(grpcStatus(fast)).toBe(String(Code.InvalidArgument));
		expect(grpcMessage(fast)).toBe(
			"protocol error: invalid grpc timeout value: abc",
		);
		expect(pair.fast.signals).toHaveLength(0);
	});

	it("leaves malformed bodies to connect", async () => {
		const pair = await servePair();
		const one = message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" });
		const cases: { body: Buffer; code: Code }[] = [
			{ body: Buffer.concat([one, one]), code: Code.Unimplemented },
			{ body: Buffer.alloc(0), code: Code.Unimplemented },
			{ body: Buffer.from([0, 0, 0]), code: Code.InvalidArgument },
			// A header promising two bytes more than follow, in front of a message that parses on its own.
			{
				body: (() => {
					const short = Buffer.from(one);
					short.writeUInt32BE(one.length - 5 + 2, 1);
					return short;
				})(),
				code: Code.InvalidArgument,
			},
			// One byte more than one message: a second, truncated envelope.
			{
				body: Buffer.concat([one, Buffer.from([0])]),
				code: Code.InvalidArgument,
			},
			// Field 1 (flag_key) as a length-delimited string whose length runs past the end.
			// connect-es says INTERNAL; the handler answers INVALID_ARGUMENT (parse-error-status.ts).
			{
				body: envelope(Buffer.from([0x0a, 0x7f, 0x61])),
				code: Code.InvalidArgument,
			},
		];
		for (const c of cases) {
			const { fast } = await both(pair, {
				path: `${V2}/ResolveBoolean`,
				body: c.body,
			});
			expect(fast.headers[":status"]).toBe(200);
			expect(grpcStatus(fast)).toBe(String(c.code));
			expect(fast.body.length).toBe(0);
		}
		// None of them reached the implementation.
		expect(pair.fast.signals).toHaveLength(0);
		expect(pair.slow.signals).toHaveLength(0);
	});

	it("leaves a message over readMaxBytes to connect", async () => {
		const pair = await servePair({ readMaxBytes: 64 });
		const atLimit = envelope(
			toBinary(
				v2.ResolveBooleanRequestSchema,
				create(v2.ResolveBooleanRequestSchema, { flagKey: "k".repeat(62) }),
			),
		);
		expect(atLimit.length - 5).toBe(64);
		const ok = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: atLimit,
		});
		expect(grpcStatus(ok.fast)).toBe(String(Code.NotFound));
		await expectPaths(pair, true);

		const over = envelope(
			toBinary(
				v2.ResolveBooleanRequestSchema,
				create(v2.ResolveBooleanRequestSchema, { flagKey: "k".repeat(98) }),
			),
		);
		const tooBig = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: over,
		});
		expect(grpcStatus(tooBig.fast)).toBe(String(Code.ResourceExhausted));
		expect(grpcMessage(tooBig.fast)).toBe(
			"message size 100 is larger than configured readMaxBytes 64",
		);
		// Only the header, declaring a message far over the limit.
		const head = Buffer.alloc(5);
		head.writeUInt32BE(1_000_000, 1);
		const declared = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: head,
		});
		expect(grpcMessage(declared.fast)).toBe(
			"message size 1000000 is larger than configured readMaxBytes 64",
		);
		expect(pair.fast.signals).toHaveLength(1);
	});

	it("still takes a body that arrives one byte per DATA frame", async () => {
		const pair = await servePair();
		const { fast } = await both(pair, {
			path: `${V2}/ResolveString`,
			body: message(v2.ResolveStringRequestSchema, {
				flagKey: "tier",
				context: { user: { profile: { tier: "gold" } } },
			}),
			byteByByte: true,
		});
		expectOk(fast);
		expect(decode(v2.ResolveStringResponseSchema, fast).value).toBe("GOLD");
		await expectPaths(pair, true);

		// Two messages byte by byte: the direct path must give up mid-stream and replay what it read.
		const one = message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" });
		const two = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: Buffer.concat([one, one]),
			byteByByte: true,
		});
		expect(grpcStatus(two.fast)).toBe(String(Code.Unimplemented));
		expect(grpcMessage(two.fast)).toBe(
			"protocol error: received extra input message for unary method",
		);
	});

	it("leaves application/grpc+json to connect", async () => {
		const pair = await servePair();
		const { fast } = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			contentType: "application/grpc+json",
			body: envelope(Buffer.from(JSON.stringify({ flagKey: "bool" }))),
		});
		expect(fast.headers["content-type"]).toBe("application/grpc+json");
		expect(grpcStatus(fast)).toBe("0");
		expect(JSON.parse(fast.body.subarray(5).toString("utf8"))).toMatchObject({
			value: true,
			reason: "STATIC",
		});
		await expectPaths(pair, false);
	});

	it("leaves gRPC over HTTP/1.1 to connect", async () => {
		const pair = await servePair();
		const body = message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" });
		const h1 = (port: number) =>
			new Promise<{
				status: number | undefined;
				headers: Record<string, unknown>;
				trailers: Record<string, unknown>;
				body: Buffer;
			}>((resolve, reject) => {
				const req = http.request(
					{
						host: "127.0.0.1",
						port,
						method: "POST",
						path: `${V2}/ResolveBoolean`,
						headers: { "content-type": "application/grpc", te: "trailers" },
						agent: false,
					},
					(res) => {
						const chunks: Buffer[] = [];
						res.on("data", (c: Buffer) => chunks.push(c));
						res.on("end", () => {
							const { date: _, ...headers } = res.headers;
							resolve({
								status: res.statusCode,
								headers,
								trailers: { ...res.trailers },
								body: Buffer.concat(chunks),
							});
						});
						res.on("error", reject);
					},
				);
				req.on("error", reject);
				req.end(body);
			});
		const [fast, slow] = await Promise.all([
			h1(pair.fast.port),
			h1(pair.slow.port),
		]);
		expect(fast).toEqual(slow);
		expect(fast.status).toBe(200);
		expect(fast.trailers).toEqual({ "grpc-status": "0" });
		await expectPaths(pair, false);
	});
});

describe("gRPC unary direct path and connect options it cannot honour", () => {
	const resolveBig = {
		path: `${V2}/ResolveObject`,
		body: message(v2.ResolveObjectRequestSchema, { flagKey: "big" }),
	};

	it("applies interceptors as connect does", async () => {
		const pair = await servePair({
			interceptors: [
				(next) => async (req) => {
					const res = await next(req);
					res.header.set("x-intercepted", "yes");
					return res;
				},
			],
		});
		const { fast } = await both(pair, resolveBig);
		expect(fast.headers["x-intercepted"]).toBe("yes");
	});

	it("enforces writeMaxBytes as connect does", async () => {
		const pair = await servePair({ writeMaxBytes: 256 });
		const { fast } = await both(pair, resolveBig);
		expect(grpcStatus(fast)).toBe(String(Code.ResourceExhausted));
		expect(grpcMessage(fast)).toMatch(
			/^message size \d+ is larger than configured writeMaxBytes 256$/,
		);
		const small = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
		});
		expectOk(small.fast);
	});

	it("enforces maxTimeoutMs as connect does", async () => {
		const pair = await servePair({ maxTimeoutMs: 1_000 });
		const { fast } = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "bool" }),
			headers: { "grpc-timeout": "5S" },
		});
		expect(grpcStatus(fast)).toBe(String(Code.InvalidArgument));
		expect(grpcMessage(fast)).toBe("timeout 5000ms must be <= 1000");
	});

	it("gives an asynchronous implementation the call's deadline, as connect does", async () => {
		// FetchAllFlags waits (up to 5 s) for the store to be ready on the context's signal; connect aborts that
		// signal at the grpc-timeout, so an unready store answers at the deadline, not 5 s later.
		const pair = await servePair({}, evaluationServices(false));
		const request = {
			path: "/flagd.sync.v1.FlagSyncService/FetchAllFlags",
			body: message(sync.FetchAllFlagsRequestSchema, {}),
			headers: { "grpc-timeout": "200m" },
		};
		const guard = new Promise<never>((_, reject) => {
			const timer = setTimeout(
				() => reject(new Error("no answer within 2 s of a 200 ms deadline")),
				2_000,
			);
			onClose(() => clearTimeout(timer));
		});
		const { fast } = await Promise.race([both(pair, request), guard]);
		expectOk(fast);
		await expectPaths(pair, false);

		// GetMetadata is synchronous: still served directly.
		const metadata = await both(pair, {
			path: "/flagd.sync.v1.FlagSyncService/GetMetadata",
			body: message(sync.GetMetadataRequestSchema, {}),
		});
		expectOk(metadata.fast);
		expect(
			decode(sync.GetMetadataResponseSchema, metadata.fast).metadata,
		).toEqual({ region: "eu" });
		await expectPaths(pair, true);
	});

	it("reports a response that cannot be serialised in connect's words", async () => {
		// An implementation whose output fails toBinary: connect says `serialize binary: …`.
		const routes = [
			serviceRoute(
				EvaluationServiceV2,
				{ resolveInt: () => ({ value: 2n ** 70n, reason: "STATIC" }) },
				{ synchronous: ["resolveInt"] },
			),
		];
		const pair = await servePair(
			{},
			{ store: evaluationServices().store, routes },
		);
		const { fast } = await both(pair, {
			path: `${V2}/ResolveInt`,
			body: message(v2.ResolveIntRequestSchema, { flagKey: "x" }),
		});
		expect(grpcStatus(fast)).toBe(String(Code.Internal));
		expect(grpcMessage(fast)).toMatch(/^serialize binary: /);
	});

	it("serves only the methods a service declared synchronous", async () => {
		// The same plain synchronous function twice: declared, it is served directly; undeclared, by connect.
		const answer = () => ({ value: true, reason: "STATIC" });
		const routes = [
			serviceRoute(
				EvaluationServiceV2,
				{ resolveBoolean: answer, resolveString: () => ({ value: "s" }) },
				{ synchronous: ["resolveBoolean"] },
			),
		];
		const pair = await servePair(
			{},
			{ store: evaluationServices().store, routes },
		);
		const declared = await both(pair, {
			path: `${V2}/ResolveBoolean`,
			body: message(v2.ResolveBooleanRequestSchema, { flagKey: "x" }),
		});
		expectOk(declared.fast);
		await expectPaths(pair, true);
		const undeclared = await both(pair, {
			path: `${V2}/ResolveString`,
			body: message(v2.ResolveStringRequestSchema, { flagKey: "x" }),
		});
		expectOk(undeclared.fast);
		expect(decode(v2.ResolveStringResponseSchema, undeclared.fast).value).toBe(
			"s",
		);
		await expectPaths(pair, false);
	});
});
