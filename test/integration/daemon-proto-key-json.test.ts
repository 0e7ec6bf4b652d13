/**
 * Keys named `__proto__` in the Connect JSON encoding: a flag key, keys of an object value (nested too), flag and
 * flag-set metadata keys reach the client in ResolveAll (evaluation v1, schema.v1), typed resolves (v1, v2) and
 * EventStream configuration_change events (v1, v2), over HTTP/1.1 to the real daemon. The bodies are read as text
 * and parsed with JSON.parse, which keeps `__proto__` as an own key (a protobuf JSON parser would drop it).
 */
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

const DOCUMENT = `{
	"metadata": {"__proto__": "set-meta", "team": "core"},
	"flags": {
		"__proto__": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on",
			"metadata": {"__proto__": "flag-meta"}},
		"objectFlag": {"state": "ENABLED", "defaultVariant": "obj",
			"variants": {"obj": {"__proto__": {"inner": 1}, "nested": {"__proto__": [true]}, "plain": "x"}}},
		"plain": {"state": "ENABLED", "variants": {"a": "A"}, "defaultVariant": "a"}
	}
}`;
/** DOCUMENT plus a flag, and the `__proto__` flag's default switched: the change names both. */
const CHANGED = DOCUMENT.replace(
	'"defaultVariant": "on"',
	'"defaultVariant": "off"',
);

type Json = Record<string, unknown>;

let source: MemorySource;
let daemon: RunningDaemon;

beforeAll(async () => {
	source = new MemorySource("mem:proto-json", DOCUMENT);
	daemon = await startTestDaemon([source]);
	await daemon.ready;
});

afterAll(async () => {
	await daemon?.close();
});

async function connectJson(
	path: string,
	body: Json,
	gzip = false,
): Promise<Json> {
	const text = JSON.stringify(body);
	const res = await fetch(
		`http://127.0.0.1:${daemon.ports.evaluation}${path}`,
		{
			method: "POST",
			headers: {
				"content-type": "application/json",
				...(gzip ? { "content-encoding": "gzip" } : {}),
			},
			body: gzip ? gzipSync(text) : text,
		},
	);
	const answer = await res.text();
	expect([res.status, answer]).toEqual([200, answer]);
	return JSON.parse(answer) as Json;
}

function own(value: unknown, key = "__proto__"): unknown {
	expect(typeof value).toBe("object");
	const object = value as object;
	expect(Object.hasOwn(object, key)).toBe(true);
	return (object as Json)[key];
}

describe("Connect JSON keeps __proto__ keys", () => {
	it("in evaluation v1 ResolveAll: the flag key, object value keys, flag and flag-set metadata keys", async () => {
		const answer = await connectJson(
			"/flagd.evaluation.v1.Service/ResolveAll",
			{},
		);
		const flags = answer.flags as Json;
		expect(Object.keys(flags).sort()).toEqual([
			"__proto__",
			"objectFlag",
			"plain",
		]);
		const protoFlag = own(flags) as Json;
		expect(protoFlag).toMatchObject({ boolValue: true, variant: "on" });
		expect(own(protoFlag.metadata)).toBe("flag-meta");
		const objectValue = (flags.objectFlag as Json).objectValue as Json;
		expect(own(objectValue)).toEqual({ inner: 1 });
		expect(own(objectValue.nested)).toEqual([true]);
		expect(objectValue.plain).toBe("x");
		// Flag-set metadata reaches every flag that does not override the key.
		expect(own((flags.plain as Json).metadata)).toBe("set-meta");
	});

	it("in a ResolveAll whose request body is gzip-compressed", async () => {
		const answer = await connectJson(
			"/flagd.evaluation.v1.Service/ResolveAll",
			{},
			true,
		);
		expect(own(answer.flags)).toMatchObject({ boolValue: true });
	});

	it("in schema.v1 ResolveAll", async () => {
		const answer = await connectJson("/schema.v1.Service/ResolveAll", {});
		const flags = answer.flags as Json;
		expect(own(flags)).toMatchObject({ boolValue: true, variant: "on" });
		expect(own((flags.objectFlag as Json).objectValue)).toEqual({ inner: 1 });
	});

	it.each([
		"/flagd.evaluation.v1.Service/ResolveObject",
		"/flagd.evaluation.v2.Service/ResolveObject",
		"/schema.v1.Service/ResolveObject",
	])("in %s: value keys", async (path) => {
		const answer = await connectJson(path, { flagKey: "objectFlag" });
		const value = answer.value as Json;
		expect(own(value)).toEqual({ inner: 1 });
		expect(own(value.nested)).toEqual([true]);
	});

	it.each([
		"/flagd.evaluation.v1.Service/ResolveBoolean",
		"/flagd.evaluation.v2.Service/ResolveBoolean",
	])("in %s: the flag's metadata keys", async (path) => {
		const answer = await connectJson(path, { flagKey: "__proto__" });
		expect(answer).toMatchObject({ value: true, variant: "on" });
		expect(own(answer.metadata)).toBe("flag-meta");
	});

	it.each([
		"/flagd.evaluation.v1.Service/EventStream",
		"/flagd.evaluation.v2.Service/EventStream",
	])(
		"in %s: a configuration_change naming the __proto__ flag",
		async (path) => {
			const stream = await openJsonStream(path);
			try {
				expect((await stream.next()).type).toBe("provider_ready");
				source.push(CHANGED);
				let event = await stream.next();
				while (event.type !== "configuration_change")
					event = await stream.next();
				const flags = (event.data as Json).flags as Json;
				expect(own(flags)).toEqual({ type: "update" });
			} finally {
				stream.close();
				source.push(DOCUMENT);
			}
		},
	);
});

/** A Connect JSON server stream read frame by frame (5-byte envelope header, then the JSON message). */
async function openJsonStream(
	path: string,
): Promise<{ next(): Promise<Json>; close(): void }> {
	const controller = new AbortController();
	const request = new TextEncoder().encode("{}");
	const body = new Uint8Array(5 + request.length);
	new DataView(body.buffer).setUint32(1, request.length);
	body.set(request, 5);
	const res = await fetch(
		`http://127.0.0.1:${daemon.ports.evaluation}${path}`,
		{
			method: "POST",
			headers: { "content-type": "application/connect+json" },
			body,
			signal: controller.signal,
		},
	);
	expect(res.status).toBe(200);
	if (res.body === null) throw new Error("no body");
	const reader = res.body.getReader();
	let buffered = new Uint8Array(0);
	return {
		async next() {
			for (;;) {
				if (buffered.length >= 5) {
					const length = new DataView(
						buffered.buffer,
						buffered.byteOffset,
					).getUint32(1);
					if (buffered.length >= 5 + length) {
						const flags = buffered[0] ?? 0;
						const message = buffered.subarray(5, 5 + length);
						buffered = buffered.slice(5 + length);
						const json = JSON.parse(new TextDecoder().decode(message)) as Json;
						if ((flags & 0b10) !== 0)
							throw new Error(`stream ended: ${JSON.stringify(json)}`);
						return json;
					}
				}
				const { value, done } = await reader.read();
				if (done) throw new Error("stream closed");
				const joined = new Uint8Array(buffered.length + value.length);
				joined.set(buffered);
				joined.set(value, buffered.length);
				buffered = joined;
			}
		},
		close: () => controller.abort(),
	};
}
