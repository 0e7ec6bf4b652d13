/**
 * The answer cache of the direct unary paths (unary-answer-cache.ts) on real servers on 127.0.0.1: the daemon's
 * evaluation services served with the cache and, as the reference, served without it over a second identical
 * store. A replayed answer must be byte for byte the computed one (headers, trailers, body) and count the same
 * metrics; it must never be served for another request (body, `Flagd-Selector`, `-H` context header, method,
 * encoding) nor after the flags changed. Whether an implementation ran is observed through the services' recording
 * wrapper (`signals`: one entry per call the implementation served).
 */
import http from "node:http";
import {
	create,
	type DescMessage,
	fromBinary,
	type MessageInitShape,
	toBinary,
} from "@bufbuild/protobuf";
import * as v1 from "@flagd-ts/protocol/evaluation-v1";
import * as v2 from "@flagd-ts/protocol/evaluation-v2";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	type LogEntry,
	recordingLogger,
} from "../../logging/testdata/recording-logger.js";
import {
	closeAll,
	evaluationServices,
	h2Exchange,
	onClose,
	type RawH2Response,
	type Server,
	type Services,
	SOURCE_B,
	serve,
	V1,
	V2,
} from "../../transport/direct-path/testdata/direct-path-test-support.js";
import { listenMultiProtocol } from "../../transport/http-listener.js";
import type { AnswerCacheOptions } from "../answer-cache.js";
import { createEvaluationHandler } from "./evaluation-handler.js";
import { UnaryAnswerCache } from "./unary-answer-cache.js";

afterEach(closeAll);

// ---------------------------------------------------------------------------------------------------------------
// Requests

type Kind = "grpc" | "connect+proto" | "connect+json" | "connect+json h1";

interface Call {
	readonly kind: Kind;
	readonly path: string;
	readonly schema: DescMessage;
	readonly init: Record<string, unknown>;
	readonly headers?: Record<string, string>;
}

function encodeBody(call: Call): Buffer {
	const message = create(
		call.schema,
		call.init as MessageInitShape<DescMessage>,
	);
	if (call.kind.startsWith("connect+json")) {
		// JSON as a client would write it (the context is a google.protobuf.Struct: plain JSON).
		return Buffer.from(JSON.stringify(call.init));
	}
	const bytes = toBinary(call.schema, message);
	if (call.kind !== "grpc") return Buffer.from(bytes);
	const head = Buffer.alloc(5);
	head.writeUInt32BE(bytes.length, 1);
	return Buffer.concat([head, bytes]);
}

/** Everything the client sees of an answer but `date`. */
type Seen = Pick<RawH2Response, "headers" | "trailers" | "body">;

async function send(port: number, call: Call): Promise<Seen> {
	const body = encodeBody(call);
	if (call.kind === "connect+json h1") return h1(port, call, body);
	const headers =
		call.kind === "grpc"
			? { "content-type": "application/grpc", te: "trailers" }
			: {
					"content-type":
						call.kind === "connect+proto"
							? "application/proto"
							: "application/json",
					"connect-protocol-version": "1",
				};
	const answer = await h2Exchange(port, {
		path: call.path,
		headers: { ...headers, ...call.headers },
		body,
	});
	return {
		headers: answer.headers,
		trailers: answer.trailers,
		body: answer.body,
	};
}

function h1(port: number, call: Call, body: Buffer): Promise<Seen> {
	const agent = new http.Agent({ keepAlive: true });
	onClose(() => agent.destroy());
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: "127.0.0.1",
				port,
				method: "POST",
				path: call.path,
				agent,
				headers: {
					"content-type": "application/json",
					"connect-protocol-version": "1",
					...call.headers,
				},
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () => {
					const { date: _, ...headers } = res.headers;
					resolve({
						headers: {
							":status": res.statusCode,
							...headers,
							// The order of the header names is part of the bytes.
							order: res.rawHeaders.filter((_, i) => i % 2 === 0).join(),
						},
						trailers: undefined,
						body: Buffer.concat(chunks),
					});
				});
				res.on("error", reject);
			},
		);
		req.on("error", reject);
		req.end(body);
	});
}

/** The decoded answer of a binary call. */
function decode<D extends DescMessage>(schema: D, seen: Seen, grpc: boolean) {
	return fromBinary(schema, grpc ? seen.body.subarray(5) : seen.body);
}

const boolCall = (kind: Kind, init: Record<string, unknown>): Call => ({
	kind,
	path: `${V2}/ResolveBoolean`,
	schema: v2.ResolveBooleanRequestSchema,
	init,
});
const stringCall = (
	kind: Kind,
	init: Record<string, unknown>,
	headers?: Record<string, string>,
): Call => ({
	kind,
	path: `${V2}/ResolveString`,
	schema: v2.ResolveStringRequestSchema,
	init,
	...(headers === undefined ? {} : { headers }),
});
const resolveAllCall = (
	kind: Kind,
	headers?: Record<string, string>,
): Call => ({
	kind,
	path: `${V1}/ResolveAll`,
	schema: v1.ResolveAllRequestSchema,
	init: { context: { tier: "gold" } },
	...(headers === undefined ? {} : { headers }),
});

// ---------------------------------------------------------------------------------------------------------------
// Servers

interface Setup {
	readonly services: Services & { resolver: NonNullable<Services["resolver"]> };
	readonly cache: UnaryAnswerCache;
	/** With the cache. */
	readonly cached: Server;
	/** Without it, over its own identical store and metrics. */
	readonly reference: Server;
	readonly referenceServices: Services;
}

async function setup(options?: AnswerCacheOptions): Promise<Setup> {
	const services = evaluationServices();
	const referenceServices = evaluationServices();
	const resolver = services.resolver;
	if (resolver === undefined)
		throw new Error("evaluationServices: no resolver");
	const cache = new UnaryAnswerCache(resolver, options);
	return {
		services: { ...services, resolver },
		cache,
		cached: await serve(services.routes, true, {}, cache),
		reference: await serve(referenceServices.routes, true, {}),
		referenceServices,
	};
}

function applyB(services: Services, flags: Record<string, unknown>): void {
	const applied = services.store.apply({
		source: SOURCE_B,
		format: "json",
		content: JSON.stringify({ flags }),
	});
	if (!applied.ok) throw applied.error;
}

const variantFlag = (value: string) => ({
	state: "ENABLED",
	variants: { v: value },
	defaultVariant: "v",
});

// ---------------------------------------------------------------------------------------------------------------

describe("unary answer cache", () => {
	it("replays the computed answer byte for byte in every protocol, encoding and compression, counting the same metrics", async () => {
		const s = await setup();
		const calls: Call[] = [
			boolCall("grpc", { flagKey: "bool" }),
			boolCall("connect+proto", { flagKey: "bool" }),
			boolCall("connect+json", { flagKey: "bool" }),
			boolCall("connect+json h1", { flagKey: "bool" }),
			stringCall("connect+json h1", {
				flagKey: "tier",
				context: { tier: "gold" },
			}),
			resolveAllCall("grpc"),
			resolveAllCall("connect+json"),
			// Over connect's compressMinBytes: compressed per request, from the kept uncompressed answer.
			{
				kind: "grpc",
				path: `${V2}/ResolveObject`,
				schema: v2.ResolveObjectRequestSchema,
				init: { flagKey: "big" },
				headers: { "grpc-accept-encoding": "gzip" },
			},
			{
				kind: "connect+proto",
				path: `${V2}/ResolveObject`,
				schema: v2.ResolveObjectRequestSchema,
				init: { flagKey: "big" },
				headers: { "accept-encoding": "gzip" },
			},
		];
		for (const call of calls) {
			const expected = await send(s.reference.port, call);
			for (let i = 0; i < 3; i++) {
				expect(await send(s.cached.port, call)).toEqual(expected);
				if (i > 0) await send(s.reference.port, call);
			}
		}
		// One computation per distinct answer, replays for the rest: Connect JSON over HTTP/1.1 and h2c is one
		// answer (the same request body, headers and response bytes), the second one's first call a replay.
		expect(s.cached.signals.length).toBe(calls.length - 1);
		expect(s.reference.signals.length).toBe(3 * calls.length);
		expect(s.cache.size).toBe(calls.length - 1);
		expect(
			decode(
				v2.ResolveBooleanResponseSchema,
				await send(s.cached.port, calls[0] as Call),
				true,
			).value,
		).toBe(true);
		// The evaluation counters count replays as evaluations (plus the one just sent on the cached server).
		await send(s.reference.port, calls[0] as Call);
		expect(await s.services.metrics?.registry.metrics()).toEqual(
			await s.referenceServices.metrics?.registry.metrics(),
		);
		// bool: 4 calls × 3, two ResolveAll × 3, and the last call.
		expect(await s.services.metrics?.registry.metrics()).toMatch(
			/feature_flag_flagd_impression_total\{feature_flag_key="bool",feature_flag_result_variant="on",feature_flag_provider_name="flagd",feature_flag_reason="STATIC"\} 19/,
		);
	});

	it("never replays an answer across a flag change", async () => {
		const s = await setup();
		const call = stringCall("grpc", { flagKey: "onlyB" });
		const value = async () =>
			decode(
				v2.ResolveStringResponseSchema,
				await send(s.cached.port, call),
				true,
			).value;
		expect(await value()).toBe("yes");
		expect(await value()).toBe("yes");
		applyB(s.services, { onlyB: variantFlag("no") });
		expect(await value()).toBe("no");
		expect(await value()).toBe("no");
		expect(s.cached.signals.length).toBe(2);
	});

	it("keys answers by body, -H context header and Flagd-Selector: never a foreign answer", async () => {
		const s = await setup();
		const tier = async (call: Call) =>
			decode(
				v2.ResolveStringResponseSchema,
				await send(s.cached.port, call),
				call.kind === "grpc",
			).value;
		for (let round = 0; round < 2; round++) {
			// The -H mapping x-tier → tier (header over body).
			expect(
				await tier(
					stringCall("grpc", { flagKey: "tier" }, { "x-tier": "gold" }),
				),
			).toBe("GOLD");
			expect(await tier(stringCall("grpc", { flagKey: "tier" }))).toBe("BASIC");
			expect(
				await tier(stringCall("grpc", { flagKey: "tier" }, { "x-tier": "" })),
			).toBe("BASIC");
			// The body's context.
			expect(
				await tier(
					stringCall("connect+proto", {
						flagKey: "tier",
						context: { tier: "gold" },
					}),
				),
			).toBe("GOLD");
			expect(
				await tier(
					stringCall("connect+proto", {
						flagKey: "tier",
						context: { tier: "silver" },
					}),
				),
			).toBe("BASIC");
			// The selector: the same body, another view.
			const all = async (headers?: Record<string, string>) =>
				Object.keys(
					decode(
						v1.ResolveAllResponseSchema,
						await send(s.cached.port, resolveAllCall("grpc", headers)),
						true,
					).flags,
				).sort();
			expect(await all({ "flagd-selector": `source=${SOURCE_B}` })).toEqual([
				"onlyB",
			]);
			expect(await all()).toContain("bool");
		}
		// The same bodies in another encoding or to another method are other answers.
		const asJson = JSON.parse(
			(
				await send(
					s.cached.port,
					stringCall("connect+json", {
						flagKey: "tier",
						context: { tier: "gold" },
					}),
				)
			).body.toString(),
		);
		expect(asJson.value).toBe("GOLD");
		expect(s.cached.signals.length).toBe(8);
		expect(s.cache.size).toBe(8);
	});

	it("does not keep answers of flags that read $flagd.timestamp, nor errors", async () => {
		const s = await setup();
		applyB(s.services, {
			onlyB: variantFlag("yes"),
			clock: {
				state: "ENABLED",
				variants: { later: "later", never: "never" },
				defaultVariant: "never",
				targeting: {
					if: [{ ">": [{ var: "$flagd.timestamp" }, 0] }, "later", "never"],
				},
			},
		});
		const clock = stringCall("grpc", { flagKey: "clock" });
		const missing = stringCall("connect+json", { flagKey: "missing" });
		const onlyB = stringCall("grpc", { flagKey: "onlyB" });
		for (let i = 0; i < 2; i++) {
			expect(
				decode(
					v2.ResolveStringResponseSchema,
					await send(s.cached.port, clock),
					true,
				).value,
			).toBe("later");
			// ResolveAll of the view holding the clock flag evaluates it too.
			await send(
				s.cached.port,
				resolveAllCall("grpc", { "flagd-selector": `source=${SOURCE_B}` }),
			);
			const error = await send(s.cached.port, missing);
			expect(error.headers[":status"]).toBe(404);
			expect(error).toEqual(await send(s.reference.port, missing));
			await send(s.cached.port, onlyB);
		}
		// clock, ResolveAll and the error twice each; onlyB once.
		expect(s.cached.signals.length).toBe(7);
		expect(s.cache.size).toBe(1);
	});

	it("stays within its bounds under a flood of distinct bodies, and skips large bodies", async () => {
		const s = await setup({ maxEntries: 16 });
		for (let i = 0; i < 64; i++) {
			const seen = await send(
				s.cached.port,
				stringCall("connect+proto", {
					flagKey: "tier",
					context: { tier: i % 2 === 0 ? "gold" : "basic", i },
				}),
			);
			expect(decode(v2.ResolveStringResponseSchema, seen, false).value).toBe(
				i % 2 === 0 ? "GOLD" : "BASIC",
			);
			expect(s.cache.size).toBeLessThanOrEqual(16);
		}
		expect(s.cache.size).toBe(16);
		const large = stringCall("grpc", {
			flagKey: "onlyB",
			context: { pad: "p".repeat(8 * 1024) },
		});
		await send(s.cached.port, large);
		await send(s.cached.port, large);
		expect(s.cached.signals.length).toBe(66);
	});
});

describe("evaluation handler with request telemetry", () => {
	it("computes every call (each has its own span or log line)", async () => {
		const services = evaluationServices();
		const logs: LogEntry[] = [];
		const logger = recordingLogger(logs);
		const handler = createEvaluationHandler({
			resolver: services.resolver as NonNullable<Services["resolver"]>,
			streams: {
				shutdownSignal: new AbortController().signal,
				keepAliveMs: 60_000,
				deadlineMs: 0,
			},
			corsOrigins: [],
			maxRequestBodyBytes: 0,
			metrics: services.metrics as NonNullable<Services["metrics"]>,
			scheme: "http",
			logger,
			telemetry: { tracing: undefined, requestLogger: logger },
		});
		const listener = await listenMultiProtocol(handler, {
			port: 0,
			host: "127.0.0.1",
			maxHeaderBytes: 0,
			name: "test",
		});
		onClose(() => void listener.close(0));
		const call = boolCall("grpc", { flagKey: "bool" });
		for (let i = 0; i < 3; i++) await send(listener.port as number, call);
		expect(
			logs.filter((e) => e.level === "debug" && e.fields.flagKey === "bool"),
		).toHaveLength(3);
	});
});
