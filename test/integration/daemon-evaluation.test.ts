/**
 * The evaluation port (8013) against real clients on real sockets: exact Connect JSON bodies (protojson with
 * EmitUnpopulated) for v1 and v2, flagd's error mapping, selectors and context precedence; then every client
 * kind: connect-node gRPC / gRPC-web / Connect over HTTP/1.1 and h2c, connect-web over Node's fetch, grpc-js.
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	createClient,
	type Transport,
} from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
	createGrpcWebTransport,
} from "@connectrpc/connect-node";
import {
	createConnectTransport as createWebConnectTransport,
	createGrpcWebTransport as createWebGrpcWebTransport,
} from "@connectrpc/connect-web";
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";
import {
	ResolveBooleanRequestSchema,
	ResolveBooleanResponseSchema,
} from "@flagd-ts/protocol/evaluation-v2";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";
import { BASIC_FLAGS, MemorySource } from "./daemon-harness.js";

let daemon: RunningDaemon;
let base: string;

beforeAll(async () => {
	const source = new MemorySource("mem:basic", BASIC_FLAGS);
	daemon = await startDaemon(
		loopbackDaemonConfig({
			sources: [{ uri: "mem:basic", provider: "file" }],
			staticContext: { injected: "set" },
			headerContext: { "X-From-Header": "fromHeader" },
		}),
		{ createSource: async () => source },
	);
	await daemon.ready;
	base = `http://127.0.0.1:${daemon.ports.evaluation}`;
});

afterAll(async () => {
	await daemon.close();
});

async function post(
	path: string,
	body: unknown,
	headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
	const res = await fetch(`${base}${path}`, {
		method: "POST",
		headers: { "Content-Type": "application/json", ...headers },
		body: JSON.stringify(body),
	});
	return { status: res.status, json: await res.json() };
}

const V1 = "/flagd.evaluation.v1.Service";
const V2 = "/flagd.evaluation.v2.Service";

describe("Connect JSON bodies (fetch, HTTP/1.1)", () => {
	it("renders the spec example exactly (flagd-protocol.md §2)", async () => {
		const res = await post(`${V1}/ResolveString`, {
			flagKey: "headerColor",
			context: { email: "foo@bar.com" },
		});
		expect(res).toEqual({
			status: 200,
			json: {
				value: "#0000FF",
				reason: "TARGETING_MATCH",
				variant: "blue",
				metadata: {},
			},
		});
	});

	it("emits zero values and accepts flag_key (protojson input)", async () => {
		const res = await post(`${V1}/ResolveBoolean`, { flag_key: "bool-flag" });
		expect(res.json).toEqual({
			value: false,
			reason: "STATIC",
			variant: "off",
			metadata: {},
		});
	});

	it("renders int64 as a JSON string and floats as numbers", async () => {
		expect(
			(await post(`${V1}/ResolveInt`, { flagKey: "int-flag" })).json,
		).toEqual({
			value: "10",
			reason: "STATIC",
			variant: "ten",
			metadata: {},
		});
		expect(
			(await post(`${V2}/ResolveInt`, { flagKey: "int-flag" })).json,
		).toMatchObject({
			value: "10",
		});
		expect(
			(await post(`${V1}/ResolveFloat`, { flagKey: "float-flag" })).json,
		).toEqual({
			value: 0.5,
			reason: "STATIC",
			variant: "half",
			metadata: {},
		});
	});

	it("returns objects and flag metadata", async () => {
		expect(
			(await post(`${V1}/ResolveObject`, { flagKey: "object-flag" })).json,
		).toEqual({
			value: { a: 1, nested: { b: [true, "x"] } },
			reason: "STATIC",
			variant: "obj",
			metadata: { owner: "team-a" },
		});
	});

	it("v1 renders DISABLED as a success with zero value and empty variant", async () => {
		expect(
			(await post(`${V1}/ResolveBoolean`, { flagKey: "disabled-flag" })).json,
		).toEqual({
			value: false,
			reason: "DISABLED",
			variant: "",
			metadata: {},
		});
	});

	it("v2 renders DISABLED without value and variant", async () => {
		expect(
			(await post(`${V2}/ResolveBoolean`, { flagKey: "disabled-flag" })).json,
		).toEqual({
			reason: "DISABLED",
			metadata: {},
		});
	});

	it("v1 answers a code-default flag with not_found, v2 with reason DEFAULT and no value", async () => {
		expect(
			await post(`${V1}/ResolveBoolean`, { flagKey: "code-default-flag" }),
		).toEqual({
			status: 404,
			json: { code: "not_found", message: "Flag not found" },
		});
		expect(
			(await post(`${V2}/ResolveBoolean`, { flagKey: "code-default-flag" }))
				.json,
		).toEqual({
			reason: "DEFAULT",
			metadata: {},
		});
	});

	it.each([
		[
			"an unknown flag",
			"ResolveBoolean",
			"nope",
			404,
			"not_found",
			"Flag not found",
		],
		[
			"a type mismatch",
			"ResolveString",
			"bool-flag",
			400,
			"invalid_argument",
			"Type mismatch error",
		],
		[
			"a targeting rule that fails",
			"ResolveBoolean",
			"bad-ref-flag",
			500,
			"data_loss",
			"Error parsing input or configuration",
		],
		[
			"targeting naming no variant",
			"ResolveBoolean",
			"missing-variant-flag",
			500,
			"unknown",
			"General error",
		],
	])(
		"maps %s to flagd's code and message (v1 and v2)",
		async (_what, method, flagKey, status, code, message) => {
			for (const service of [V1, V2]) {
				expect(await post(`${service}/${method}`, { flagKey })).toEqual({
					status,
					json: { code, message },
				});
			}
		},
	);

	it("merges context as header mapping > static (-X) > body", async () => {
		const body = {
			flagKey: "context-flag",
			context: { injected: "nope", fromHeader: "no" },
		};
		expect((await post(`${V1}/ResolveString`, body)).json).toMatchObject({
			variant: "internal",
		});
		expect(
			(await post(`${V1}/ResolveString`, body, { "x-from-header": "yes" }))
				.json,
		).toMatchObject({ variant: "header" });
	});

	it("reflects the selector into metadata and rejects an invalid selector", async () => {
		expect(
			(
				await post(
					`${V1}/ResolveBoolean`,
					{ flagKey: "bool-flag" },
					{ "Flagd-Selector": "mem:basic" },
				)
			).json,
		).toEqual({
			value: false,
			reason: "STATIC",
			variant: "off",
			metadata: { source: "mem:basic" },
		});
		const bad = await post(
			`${V1}/ResolveBoolean`,
			{ flagKey: "bool-flag" },
			{ "Flagd-Selector": "x=y" },
		);
		expect(bad.status).toBe(400);
		expect(bad.json).toMatchObject({ code: "invalid_argument" });
		expect((bad.json as { message: string }).message).toMatch(
			/invalid selector "x=y"/,
		);
	});

	it("ResolveAll types each flag by its default variant, skips code defaults, inlines errors", async () => {
		const res = await post(`${V1}/ResolveAll`, {
			context: { email: "a@bar.com" },
		});
		expect(res.status).toBe(200);
		expect(res.json).toEqual({
			flags: {
				headerColor: {
					reason: "TARGETING_MATCH",
					variant: "blue",
					stringValue: "#0000FF",
					metadata: {},
				},
				"bool-flag": {
					reason: "STATIC",
					variant: "off",
					boolValue: false,
					metadata: {},
				},
				"int-flag": {
					reason: "STATIC",
					variant: "ten",
					doubleValue: 10,
					metadata: {},
				},
				"float-flag": {
					reason: "STATIC",
					variant: "half",
					doubleValue: 0.5,
					metadata: {},
				},
				"object-flag": {
					reason: "STATIC",
					variant: "obj",
					objectValue: { a: 1, nested: { b: [true, "x"] } },
					metadata: { owner: "team-a" },
				},
				"disabled-flag": {
					reason: "DISABLED",
					variant: "",
					boolValue: false,
					metadata: {},
				},
				"context-flag": {
					reason: "TARGETING_MATCH",
					variant: "internal",
					stringValue: "INTERNAL",
					metadata: {},
				},
				"bad-ref-flag": {
					reason: "ERROR",
					variant: "",
					boolValue: false,
					metadata: {},
				},
				"missing-variant-flag": {
					reason: "ERROR",
					variant: "",
					boolValue: false,
					metadata: {},
				},
			},
			metadata: {},
		});
	});
});

describe("every client kind", () => {
	const transports: [string, () => Transport][] = [
		["connect-node gRPC (h2c)", () => createGrpcTransport({ baseUrl: base })],
		[
			"connect-node gRPC-web (h2c)",
			() => createGrpcWebTransport({ baseUrl: base, httpVersion: "2" }),
		],
		[
			"connect-node gRPC-web (HTTP/1.1)",
			() => createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1" }),
		],
		[
			"connect-node Connect (h2c)",
			() => createConnectTransport({ baseUrl: base, httpVersion: "2" }),
		],
		[
			"connect-node Connect (HTTP/1.1)",
			() => createConnectTransport({ baseUrl: base, httpVersion: "1.1" }),
		],
		[
			"connect-node Connect binary (HTTP/1.1)",
			() =>
				createConnectTransport({
					baseUrl: base,
					httpVersion: "1.1",
					useBinaryFormat: true,
				}),
		],
		[
			"connect-web Connect JSON (fetch)",
			() => createWebConnectTransport({ baseUrl: base }),
		],
		[
			"connect-web Connect binary (fetch)",
			() => createWebConnectTransport({ baseUrl: base, useBinaryFormat: true }),
		],
		[
			"connect-web gRPC-web (fetch)",
			() => createWebGrpcWebTransport({ baseUrl: base }),
		],
	];

	it.each(transports)(
		"%s: v1/v2 resolves, int64 and errors",
		async (_name, makeTransport) => {
			const transport = makeTransport();
			const v1 = createClient(EvaluationServiceV1, transport);
			const v2 = createClient(EvaluationServiceV2, transport);
			const res = await v1.resolveString({
				flagKey: "headerColor",
				context: { email: "x@bar.com" },
			});
			expect(res).toMatchObject({
				value: "#0000FF",
				reason: "TARGETING_MATCH",
				variant: "blue",
			});
			expect((await v2.resolveInt({ flagKey: "int-flag" })).value).toBe(10n);
			const disabled = await v2.resolveBoolean({ flagKey: "disabled-flag" });
			expect(disabled.reason).toBe("DISABLED");
			expect(disabled.value).toBeUndefined();
			expect(disabled.variant).toBeUndefined();
			const failure = await v2
				.resolveBoolean({ flagKey: "nope" })
				.catch((e: unknown) => e);
			expect(failure).toBeInstanceOf(ConnectError);
			expect((failure as ConnectError).code).toBe(Code.NotFound);
			expect((failure as ConnectError).rawMessage).toBe("Flag not found");
		},
	);

	it("@grpc/grpc-js resolves over h2c and gets NOT_FOUND / UNIMPLEMENTED codes", async () => {
		const client = new grpc.Client(
			`127.0.0.1:${daemon.ports.evaluation}`,
			grpc.credentials.createInsecure(),
		);
		try {
			const call = (flagKey: string, method = "ResolveBoolean") =>
				new Promise<unknown>((resolve, reject) => {
					client.makeUnaryRequest(
						`/flagd.evaluation.v2.Service/${method}`,
						(req: { flagKey: string }) =>
							Buffer.from(
								toBinary(
									ResolveBooleanRequestSchema,
									create(ResolveBooleanRequestSchema, req),
								),
							),
						(buf: Buffer) => fromBinary(ResolveBooleanResponseSchema, buf),
						{ flagKey },
						(err, value) => (err ? reject(err) : resolve(value)),
					);
				});
			expect(await call("bool-flag")).toMatchObject({
				value: false,
				reason: "STATIC",
				variant: "off",
			});
			await expect(call("nope")).rejects.toMatchObject({
				code: grpc.status.NOT_FOUND,
				details: "Flag not found",
			});
			await expect(call("bool-flag", "NoSuchMethod")).rejects.toMatchObject({
				code: grpc.status.UNIMPLEMENTED,
			});
		} finally {
			client.close();
		}
	});
});

/** Polls until `condition` holds (the server counts a request at its response's 'close', after the client has it). */
async function until(condition: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

describe("requestCount (the rate `flagd` sizes V8's young generation by)", () => {
	it("counts answered unary calls on gRPC, Connect and OFREP, and an event stream only when it ends", async () => {
		const before = daemon.requestCount();
		const grpcV1 = createClient(
			EvaluationServiceV1,
			createGrpcTransport({ baseUrl: base }),
		);
		expect((await grpcV1.resolveBoolean({ flagKey: "bool-flag" })).value).toBe(
			false,
		);
		expect(
			(await post(`${V1}/ResolveBoolean`, { flagKey: "bool-flag" })).status,
		).toBe(200);
		const ofrep = await fetch(
			`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/bool-flag`,
			{
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ context: {} }),
			},
		);
		expect(ofrep.status).toBe(200);
		await ofrep.text();
		await until(
			() => daemon.requestCount() === before + 3,
			"three answered requests",
		);

		const controller = new AbortController();
		const stream = createClient(
			EvaluationServiceV1,
			createConnectTransport({ baseUrl: base, httpVersion: "2" }),
		).eventStream({}, { signal: controller.signal });
		const first = await stream[Symbol.asyncIterator]().next();
		expect(first.value?.type).toBe("provider_ready");
		// Open, the stream is not an answered request.
		expect(daemon.requestCount()).toBe(before + 3);
		controller.abort();
		await until(
			() => daemon.requestCount() === before + 4,
			"the ended stream to count",
		);
	});
});
