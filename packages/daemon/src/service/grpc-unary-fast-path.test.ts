/**
 * The direct unary gRPC path (grpc-unary-fast-path.ts) must answer exactly as connect's gRPC handler does. Each test
 * sends the same raw HTTP/2 request (headers and body bytes under our control) to two handlers built from the same
 * service implementations, one with the fast path and one without, and compares status, headers (except `date`),
 * trailers and body bytes. Which path served a call is observed through the handler context's signal: connect aborts
 * it after every call, the fast path never does.
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
import {
	Code,
	type ConnectRouterOptions,
	type HandlerContext,
} from "@connectrpc/connect";
import {
	EVALUATION_ERROR_MESSAGES,
	EvaluationServiceV1,
	EvaluationServiceV2,
	FlagSyncService,
} from "@flagd-ts/protocol";
import * as v1 from "@flagd-ts/protocol/evaluation-v1";
import * as v2 from "@flagd-ts/protocol/evaluation-v2";
import * as sync from "@flagd-ts/protocol/sync-v1";
import { afterEach, describe, expect, it } from "@jest/globals";
import type { Logger } from "../logger.js";
import { FlagStore } from "../store/flag-store.js";
import { SelectorCache } from "../store/selector-cache.js";
import {
	createConnectHandler,
	type ServiceRoute,
	serviceRoute,
} from "./connect-handler.js";
import { ContextBuilder } from "./context-builder.js";
import { DaemonMetrics } from "./daemon-metrics.js";
import { createEvaluationServiceV1 } from "./evaluation-service-v1.js";
import { createEvaluationServiceV2 } from "./evaluation-service-v2.js";
import { FlagResolver } from "./flag-resolver.js";
import { listenMultiProtocol, type RunningListener } from "./http-listener.js";
import { createSyncService } from "./sync-service.js";

// ---------------------------------------------------------------------------------------------------------------
// Flags and services

const SOURCE_A = "file:a.json";
const SOURCE_B = "file:b.json";
/** More than connect's 1,024-byte compressMinBytes once encoded, so a gzip-accepting client gets it compressed. */
const BIG_TEXT = "x".repeat(2_000);

const FLAGS_A = {
	metadata: { team: "checkout", version: 3 },
	flags: {
		bool: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
			metadata: { owner: "payments", weight: 1.5 },
		},
		tier: {
			state: "ENABLED",
			variants: { gold: "GOLD", basic: "BASIC" },
			defaultVariant: "basic",
			targeting: {
				if: [
					{
						or: [
							{ "==": [{ var: "user.profile.tier" }, "gold"] },
							{ "==": [{ var: "tier" }, "gold"] },
						],
					},
					"gold",
					"basic",
				],
			},
		},
		disabled: {
			state: "DISABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
		count: {
			state: "ENABLED",
			variants: { n: 42 },
			defaultVariant: "n",
		},
		ratio: {
			state: "ENABLED",
			variants: { r: 0.25 },
			defaultVariant: "r",
		},
		big: {
			state: "ENABLED",
			variants: {
				v: { blob: BIG_TEXT, nested: { list: [1, "two", null, true] } },
			},
			defaultVariant: "v",
		},
		small: {
			state: "ENABLED",
			variants: { v: { a: 1 } },
			defaultVariant: "v",
		},
	},
};
const FLAGS_B = {
	flags: {
		onlyB: {
			state: "ENABLED",
			variants: { y: "yes" },
			defaultVariant: "y",
			metadata: { flagSetId: "beta" },
		},
	},
};

interface Services {
	readonly store: FlagStore;
	readonly routes: readonly ServiceRoute[];
}

/** The daemon's real evaluation (and sync) services over a store holding FLAGS_A and FLAGS_B. */
function evaluationServices(ready = true): Services {
	const metrics = new DaemonMetrics();
	const store = new FlagStore({
		sources: [SOURCE_A, SOURCE_B],
		logger: recordingLogger([]),
	});
	if (ready) {
		for (const [source, doc] of [
			[SOURCE_A, FLAGS_A],
			[SOURCE_B, FLAGS_B],
		] as const) {
			const applied = store.apply({
				source,
				format: "json",
				content: JSON.stringify(doc),
			});
			if (!applied.ok) throw applied.error;
		}
	}
	const selectors = new SelectorCache();
	const resolver = new FlagResolver({
		store,
		selectors,
		contexts: new ContextBuilder({
			staticContext: { region: "eu" },
			headerContext: { "x-tier": "tier" },
		}),
		metrics,
	});
	const streams = {
		shutdownSignal: new AbortController().signal,
		keepAliveMs: 60_000,
		deadlineMs: 0,
	};
	return {
		store,
		routes: [
			serviceRoute(
				EvaluationServiceV1,
				createEvaluationServiceV1(resolver, streams),
			),
			serviceRoute(
				EvaluationServiceV2,
				createEvaluationServiceV2(resolver, streams),
			),
			serviceRoute(
				FlagSyncService,
				createSyncService({
					store,
					selectors,
					metrics,
					staticContext: { region: "eu" },
					disableSyncMetadata: false,
					shutdownSignal: streams.shutdownSignal,
					deadlineMs: 0,
				}),
			),
		],
	};
}

interface LogLine {
	readonly level: string;
	readonly message: string;
}

function recordingLogger(lines: LogLine[]): Logger {
	const at = (level: string) => (_: unknown, message: string) => {
		lines.push({ level, message });
	};
	const logger: Logger = {
		debug: at("debug"),
		info: at("info"),
		warn: at("warn"),
		error: at("error"),
		child: () => logger,
	};
	return logger;
}

/**
 * Wraps every method of each implementation to record the handler context's signal. connect aborts that signal
 * when a call is done (its output iterator's return/catch); the fast path creates its context without one to abort.
 */
function recordingRoutes(
	routes: readonly ServiceRoute[],
	signals: AbortSignal[],
): ServiceRoute[] {
	return routes.map(({ service, impl }) => {
		const wrapped: Record<string, unknown> = {};
		for (const [name, fn] of Object.entries(impl)) {
			const call = (req: unknown, ctx: HandlerContext) => {
				signals.push(ctx.signal);
				return (
					fn as unknown as (r: unknown, c: HandlerContext) => unknown
				).call(impl, req, ctx);
			};
			// Keep an async implementation async: createConnectHandler serves only synchronous ones directly.
			wrapped[name] =
				Object.prototype.toString.call(fn) === "[object AsyncFunction]"
					? async (req: unknown, ctx: HandlerContext) => await call(req, ctx)
					: call;
		}
		return { service, impl: wrapped as ServiceRoute["impl"] };
	});
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

interface Server {
	readonly port: number;
	readonly signals: AbortSignal[];
	readonly logs: LogLine[];
}

interface Pair {
	readonly fast: Server;
	readonly slow: Server;
	readonly store: FlagStore;
}

const listeners: RunningListener[] = [];
const sessions: http2.ClientHttp2Session[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
	for (const t of timers.splice(0)) clearTimeout(t);
	for (const s of sessions.splice(0)) s.destroy();
	await Promise.all(listeners.splice(0).map((l) => l.close(0)));
});

async function serve(
	routes: readonly ServiceRoute[],
	fastPath: boolean,
	options: ConnectRouterOptions,
): Promise<Server> {
	const signals: AbortSignal[] = [];
	const logs: LogLine[] = [];
	const handler = createConnectHandler({
		...options,
		services: recordingRoutes(routes, signals),
		logger: recordingLogger(logs),
		grpcUnaryFastPath: fastPath,
	});
	// HTTP/1.1 and h2c on one port, so the HTTP/1.1 case hits the same handler.
	const listener = await listenMultiProtocol(handler, {
		port: 0,
		host: "127.0.0.1",
		maxHeaderBytes: 0,
		name: "test",
	});
	listeners.push(listener);
	return { port: listener.port as number, signals, logs };
}

/** One handler with the fast path, one without, over the same service implementations. */
async function servePair(
	options: ConnectRouterOptions = {},
	services: Services = evaluationServices(),
): Promise<Pair> {
	return {
		fast: await serve(services.routes, true, options),
		slow: await serve(services.routes, false, options),
		store: services.store,
	};
}

// ---------------------------------------------------------------------------------------------------------------
// Raw HTTP/2 client

interface RawRequest {
	readonly path: string;
	readonly body: Buffer;
	readonly contentType?: string;
	readonly headers?: Record<string, string>;
	/** Write the body one byte per DATA frame. */
	readonly byteByByte?: boolean;
}

interface RawResponse {
	readonly headers: Record<string, unknown>;
	/** The response HEADERS frame ended the stream (a trailers-only response). */
	readonly headersEndStream: boolean;
	readonly trailers: Record<string, unknown> | undefined;
	readonly body: Buffer;
	readonly rstCode: number;
}

function plain(headers: http2.IncomingHttpHeaders): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(headers)) if (k !== "date") out[k] = v;
	return out;
}

function exchange(port: number, request: RawRequest): Promise<RawResponse> {
	const session = http2.connect(`http://127.0.0.1:${port}`);
	sessions.push(session);
	session.on("error", () => {});
	return new Promise((resolve, reject) => {
		const stream = session.request(
			{
				":method": "POST",
				":path": request.path,
				"content-type": request.contentType ?? "application/grpc",
				te: "trailers",
				...request.headers,
			},
			{ endStream: false },
		);
		let headers: Record<string, unknown> = {};
		let headersEndStream = false;
		let trailers: Record<string, unknown> | undefined;
		const chunks: Buffer[] = [];
		stream.on("response", (h, flags) => {
			headers = plain(h);
			headersEndStream =
				(flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
		});
		stream.on("trailers", (t) => {
			trailers = plain(t);
		});
		stream.on("data", (chunk: Buffer) => chunks.push(chunk));
		// A reset shows as rstCode; the error event itself only repeats it.
		stream.on("error", () => {});
		stream.on("close", () => {
			if (
				stream.rstCode !== undefined &&
				stream.rstCode !== 0 &&
				!headers[":status"]
			)
				reject(new Error(`stream reset with code ${stream.rstCode}`));
			else
				resolve({
					headers,
					headersEndStream,
					trailers,
					body: Buffer.concat(chunks),
					rstCode: stream.rstCode ?? 0,
				});
		});
		const send = async () => {
			if (request.byteByByte === true) {
				for (let i = 0; i < request.body.length; i++) {
					await new Promise<void>((done, fail) =>
						stream.write(request.body.subarray(i, i + 1), (e) =>
							e ? fail(e) : done(),
						),
					);
				}
				stream.end();
			} else stream.end(request.body);
		};
		send().catch(reject);
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

/** Resolves when `signal` aborts; rejects if it has not within `ms` (connect aborts right after the response). */
function aborted(signal: AbortSignal, ms = 2_000): Promise<void> {
	if (signal.aborted) return Promise.resolve();
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error("handler context signal was never aborted")),
			ms,
		);
		timers.push(timer);
		signal.addEventListener("abort", () => {
			clearTimeout(timer);
			resolve();
		});
	});
}

/**
 * Asserts which path served the last call on each server: on the fast server the context signal stays unaborted
 * even after the connect-served twin call has been aborted; on the slow server connect aborts it.
 */
async function expectPaths(pair: Pair, fastServed: boolean): Promise<void> {
	const slowSignal = pair.slow.signals.at(-1);
	const fastSignal = pair.fast.signals.at(-1);
	expect(slowSignal).toBeDefined();
	expect(fastSignal).toBeDefined();
	await aborted(slowSignal as AbortSignal);
	if (fastServed) {
		// One more turn of the event loop for connect to have aborted it, had connect served it.
		await new Promise((resolve) => setImmediate(resolve));
		expect(fastSignal?.aborted).toBe(false);
	} else await aborted(fastSignal as AbortSignal);
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

const V1 = "/flagd.evaluation.v1.Service";
const V2 = "/flagd.evaluation.v2.Service";

/** What the gRPC response of a successful call carries, whichever path answered. */
function expectOk(response: RawResponse): void {
	expect(response.headers[":status"]).toBe(200);
	expect(response.headers["content-type"]).toBe("application/grpc+proto");
	expect(response.trailers).toEqual({ "grpc-status": "0" });
}

// ---------------------------------------------------------------------------------------------------------------

describe("gRPC unary fast path answers as connect does", () => {
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

	it("skips connect's pipeline: the context signal is never aborted on the fast path", async () => {
		// The observable: connect aborts the handler context's signal when a call completes (its output iterator's
		// return), the fast path builds a context with no signal source and never aborts it.
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

describe("gRPC unary fast path hands anything unusual to connect", () => {
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
			{ body: envelope(Buffer.from([0x0a, 0x7f, 0x61])), code: Code.Internal },
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

		// Two messages byte by byte: the fast path must give up mid-stream and replay what it read.
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

describe("gRPC unary fast path and connect options it cannot honour", () => {
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
			timers.push(
				setTimeout(
					() => reject(new Error("no answer within 2 s of a 200 ms deadline")),
					2_000,
				),
			);
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
			serviceRoute(EvaluationServiceV2, {
				resolveInt: () => ({ value: 2n ** 70n, reason: "STATIC" }),
			}),
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
});
