/**
 * Keys named `__proto__`, `constructor` and `prototype` are ordinary strings on a real daemon: Connect JSON
 * responses (ResolveAll, typed resolves and EventStream of evaluation v1, v2 and schema.v1) carry `__proto__`
 * flag keys, object value keys and metadata keys, and targeting on context keys `__proto__`, `constructor` and
 * `prototype` works over OFREP, Connect JSON, Connect binary and gRPC.
 */

import { gzipSync } from "node:zlib";
import { create, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { structUnknownField } from "@flagd-ts/protocol";
import { ResolveBooleanRequestSchema } from "@flagd-ts/protocol/evaluation-v1";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

/** JSON text: in an object literal `__proto__` would set a prototype, not a key. */
const FLAGS = (protoValue: boolean) => `{
	"flags": {
		"__proto__": {
			"state": "ENABLED",
			"variants": { "on": true, "off": false },
			"defaultVariant": "${protoValue ? "on" : "off"}",
			"metadata": { "__proto__": "meta-proto", "constructor": "meta-ctor" }
		},
		"obj": {
			"state": "ENABLED",
			"variants": { "v": { "__proto__": { "polluted": true }, "constructor": 1, "plain": "p" } },
			"defaultVariant": "v",
			"metadata": { "__proto__": 7 }
		},
		"ctx": {
			"state": "ENABLED",
			"variants": { "on": true, "off": false },
			"defaultVariant": "off",
			"targeting": { "if": [ { "and": [
				{ "==": [ { "var": "__proto__" }, "p" ] },
				{ "==": [ { "var": "constructor" }, "c" ] },
				{ "==": [ { "var": "prototype.x" }, "q" ] }
			] }, "on", "off" ] }
		}
	}
}`;

const CONTEXT_JSON =
	'{"__proto__":"p","constructor":"c","prototype":{"x":"q"}}';
const OWN = (o: unknown, key: string): unknown =>
	Object.getOwnPropertyDescriptor(o, key)?.value;

let source: MemorySource;
let daemon: RunningDaemon;
let base: string;

beforeAll(async () => {
	source = new MemorySource("mem:proto-json", FLAGS(true));
	daemon = await startTestDaemon([source]);
	await daemon.ready;
	base = `http://127.0.0.1:${daemon.ports.evaluation}`;
});

afterAll(async () => {
	await daemon?.close();
});

/** A Connect JSON call; `gzip` sends the body gzip-compressed (the daemon decompresses it on the same path). */
async function connectJson(
	path: string,
	body: string,
	gzip = false,
): Promise<unknown> {
	const res = await fetch(`${base}${path}`, {
		method: "POST",
		headers: {
			"content-type": "application/json",
			...(gzip ? { "content-encoding": "gzip" } : {}),
		},
		body: gzip ? gzipSync(body) : body,
	});
	const text = await res.text();
	expect({ status: res.status, text }).toMatchObject({ status: 200 });
	return JSON.parse(text);
}

function expectObjectValue(value: unknown): void {
	expect(Object.keys(value as object)).toEqual([
		"__proto__",
		"constructor",
		"plain",
	]);
	expect(OWN(value, "__proto__")).toEqual({ polluted: true });
}

describe("Connect JSON responses keep __proto__ keys", () => {
	it.each(["/flagd.evaluation.v1.Service/ResolveAll"])(
		"%s: flag keys, object value keys and metadata keys",
		async (path) => {
			const answer = (await connectJson(path, "{}")) as {
				flags: Record<string, Record<string, unknown>>;
			};
			expect(Object.keys(answer.flags).sort()).toEqual(
				["__proto__", "ctx", "obj"].sort(),
			);
			const proto = OWN(answer.flags, "__proto__") as Record<string, unknown>;
			expect(proto.boolValue).toBe(true);
			expect(Object.keys(proto.metadata as object)).toEqual([
				"__proto__",
				"constructor",
			]);
			expectObjectValue(answer.flags.obj?.objectValue);
			expect(Object.keys(answer.flags.obj?.metadata as object)).toEqual([
				"__proto__",
			]);
		},
	);

	it("a ResolveAll whose request body is gzip-compressed: flag keys", async () => {
		const answer = (await connectJson(
			"/flagd.evaluation.v1.Service/ResolveAll",
			"{}",
			true,
		)) as { flags: object };
		expect(Object.hasOwn(answer.flags, "__proto__")).toBe(true);
	});

	it("schema.v1 ResolveAll: flag keys and object value keys", async () => {
		const answer = (await connectJson(
			"/schema.v1.Service/ResolveAll",
			"{}",
		)) as {
			flags: Record<string, Record<string, unknown>>;
		};
		expect(Object.keys(answer.flags)).toContain("__proto__");
		expectObjectValue(answer.flags.obj?.objectValue);
	});

	it.each([
		"/flagd.evaluation.v1.Service",
		"/flagd.evaluation.v2.Service",
		"/schema.v1.Service",
	])(
		"%s/ResolveObject and ResolveBoolean: value and metadata keys",
		async (service) => {
			const object = (await connectJson(
				`${service}/ResolveObject`,
				'{"flagKey":"obj"}',
			)) as Record<string, unknown>;
			expectObjectValue(object.value);
			if (service !== "/schema.v1.Service")
				expect(Object.keys(object.metadata as object)).toEqual(["__proto__"]);
			const bool = (await connectJson(
				`${service}/ResolveBoolean`,
				'{"flagKey":"__proto__"}',
			)) as Record<string, unknown>;
			expect(bool.value).toBe(true);
			if (service !== "/schema.v1.Service")
				expect(Object.keys(bool.metadata as object)).toEqual([
					"__proto__",
					"constructor",
				]);
		},
	);

	it.each([
		"/flagd.evaluation.v1.Service/EventStream",
		"/flagd.evaluation.v2.Service/EventStream",
		"/schema.v1.Service/EventStream",
	])(
		"%s (connect+json): configuration_change names the flag __proto__",
		async (path) => {
			const controller = new AbortController();
			const res = await fetch(`${base}${path}`, {
				method: "POST",
				headers: { "content-type": "application/connect+json" },
				body: new Uint8Array(envelope("{}")),
				signal: controller.signal,
			});
			expect(res.status).toBe(200);
			const reader = (res.body as ReadableStream<Uint8Array>).getReader();
			const frames = frameReader(reader);
			try {
				const first = (await frames.next()).value as { type: string };
				expect(first.type).toBe("provider_ready");
				source.push(FLAGS(false));
				let change: { type: string; data?: { flags: object } } | undefined;
				for (;;) {
					const next = await frames.next();
					if (next.done) throw new Error("stream ended before the change");
					const message = next.value as {
						type: string;
						data?: { flags: object };
					};
					if (message.type === "configuration_change") {
						change = message;
						break;
					}
				}
				expect(Object.keys(change.data?.flags ?? {})).toEqual(["__proto__"]);
			} finally {
				controller.abort();
				await reader.cancel().catch(() => undefined);
				source.push(FLAGS(true));
			}
		},
	);
});

function envelope(json: string): Uint8Array {
	const payload = Buffer.from(json);
	const out = Buffer.alloc(5 + payload.length);
	out.writeUInt32BE(payload.length, 1);
	payload.copy(out, 5);
	return out;
}

/** Connect stream frames as parsed JSON (JSON.parse keeps own `__proto__` keys); the end-of-stream frame ends it. */
async function* frameReader(
	reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<unknown> {
	let buffered = Buffer.alloc(0);
	for (;;) {
		while (buffered.length >= 5) {
			const length = buffered.readUInt32BE(1);
			if (buffered.length < 5 + length) break;
			const flags = buffered[0] as number;
			const payload = buffered.subarray(5, 5 + length).toString();
			buffered = buffered.subarray(5 + length);
			if ((flags & 0b10) !== 0) return;
			yield JSON.parse(payload);
		}
		const { done, value } = await reader.read();
		if (done) return;
		buffered = Buffer.concat([buffered, value]);
	}
}

describe("targeting on context keys __proto__, constructor and prototype", () => {
	const contextField = ResolveBooleanRequestSchema.fields.find(
		(f) => f.localName === "context",
	)?.number as number;
	/** The request with its context Struct written with every key (protobuf-es would drop `__proto__`). */
	const binaryRequest = (context: string) => {
		const message = create(ResolveBooleanRequestSchema, { flagKey: "ctx" });
		message.$unknown = [
			structUnknownField(contextField, JSON.parse(context) as JsonObject),
		];
		return toBinary(ResolveBooleanRequestSchema, message);
	};

	it("OFREP", async () => {
		for (const [context, expected] of [
			[CONTEXT_JSON, true],
			['{"constructor":"c","prototype":{"x":"q"}}', false],
		] as const) {
			const res = await fetch(
				`${base.replace(`${daemon.ports.evaluation}`, `${daemon.ports.ofrep}`)}/ofrep/v1/evaluate/flags/ctx`,
				{
					method: "POST",
					headers: { "content-type": "application/json" },
					body: `{"context":${context}}`,
				},
			);
			expect(((await res.json()) as { value: unknown }).value).toBe(expected);
		}
	});

	it.each([false, true])("Connect JSON (gzip: %s)", async (gzip) => {
		for (const [context, expected] of [
			[CONTEXT_JSON, true],
			['{"__proto__":"p","constructor":"c"}', false],
		] as const) {
			const answer = (await connectJson(
				"/flagd.evaluation.v1.Service/ResolveBoolean",
				`{"flagKey":"ctx","context":${context}}`,
				gzip,
			)) as { value?: boolean };
			expect(answer.value ?? false).toBe(expected);
		}
	});

	it("Connect binary", async () => {
		for (const [context, expected] of [
			[CONTEXT_JSON, true],
			['{"__proto__":"x","constructor":"c","prototype":{"x":"q"}}', false],
		] as const) {
			const res = await fetch(
				`${base}/flagd.evaluation.v1.Service/ResolveBoolean`,
				{
					method: "POST",
					headers: { "content-type": "application/proto" },
					body: new Uint8Array(binaryRequest(context)),
				},
			);
			expect(res.status).toBe(200);
			const bytes = new Uint8Array(await res.arrayBuffer());
			// Field 1 (value, varint) is written only when true.
			expect(bytes[0] === 0x08 && bytes[1] === 1).toBe(expected);
		}
	});

	it("gRPC", async () => {
		const client = new grpc.Client(
			`127.0.0.1:${daemon.ports.evaluation}`,
			grpc.credentials.createInsecure(),
		);
		try {
			for (const [context, expected] of [
				[CONTEXT_JSON, true],
				['{"__proto__":"p","prototype":{"x":"q"}}', false],
			] as const) {
				const bytes = await new Promise<Buffer>((resolve, reject) => {
					client.makeUnaryRequest(
						"/flagd.evaluation.v1.Service/ResolveBoolean",
						(req: Uint8Array) => Buffer.from(req),
						(buf: Buffer) => buf,
						binaryRequest(context),
						new grpc.Metadata(),
						(err, value) =>
							err || value === undefined ? reject(err) : resolve(value),
					);
				});
				expect(bytes[0] === 0x08 && bytes[1] === 1).toBe(expected);
			}
		} finally {
			client.close();
		}
	});
});
