/**
 * Hostile input end to end: flag keys and context keys named like prototype properties are plain keys on every
 * API (no prototype pollution), and broken payloads from a source never take the daemon down.
 */

import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

const HOSTILE = `{"flags":{
	"__proto__":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"__proto__":"meta"}},
	"constructor":{"state":"ENABLED","variants":{"a":"A","b":"B"},"defaultVariant":"a",
		"targeting":{"if":[{"==":[{"var":"polluted"},"yes"]},"b",null]}}
}}`;

let daemon: RunningDaemon;
let source: MemorySource;
let base: string;

beforeAll(async () => {
	source = new MemorySource("mem:hostile", HOSTILE);
	daemon = await startTestDaemon([source]);
	await daemon.ready;
	base = `http://127.0.0.1:${daemon.ports.evaluation}`;
});

afterAll(async () => {
	await daemon.close();
});

async function post(
	url: string,
	body: string,
): Promise<{ status: number; json: unknown }> {
	const res = await fetch(url, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body,
	});
	return { status: res.status, json: await res.json() };
}

describe("prototype-named keys", () => {
	it("serves a flag named __proto__ like any other flag", async () => {
		// A Struct key named "__proto__" (here in the flag's metadata) is an ordinary key in Connect JSON as in OFREP
		// (transport/direct-path/prototype-safe-json.ts); nothing is polluted.
		expect(
			await post(
				`${base}/flagd.evaluation.v1.Service/ResolveBoolean`,
				'{"flagKey":"__proto__"}',
			),
		).toEqual({
			status: 200,
			json: {
				value: true,
				reason: "STATIC",
				variant: "on",
				metadata: JSON.parse('{"__proto__":"meta"}'),
			},
		});
		expect(
			await post(
				`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/__proto__`,
				"{}",
			),
		).toEqual({
			status: 200,
			json: {
				key: "__proto__",
				value: true,
				variant: "on",
				reason: "STATIC",
				metadata: JSON.parse('{"__proto__":"meta"}'),
			},
		});
		const all = await post(
			`${base}/flagd.evaluation.v1.Service/ResolveAll`,
			"{}",
		);
		// The same holds for the ResolveAll map in Connect JSON and the binary encodings
		// (api/evaluation/prototype-safe-messages.ts).
		expect(Object.keys((all.json as { flags: object }).flags)).toEqual([
			"__proto__",
			"constructor",
		]);
		const bulk = await post(
			`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`,
			"{}",
		);
		expect(
			(bulk.json as { flags: { key: string }[] }).flags.map((f) => f.key),
		).toEqual(["__proto__", "constructor"]);
	});

	it("does not let a context with __proto__ pollute objects or change targeting", async () => {
		const body =
			'{"flagKey":"constructor","context":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}}';
		const res = await post(
			`${base}/flagd.evaluation.v1.Service/ResolveString`,
			body,
		);
		expect(res.json).toMatchObject({ value: "A", variant: "a" });
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		const ofrep = await post(
			`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags/constructor`,
			'{"context":{"__proto__":{"polluted":"yes"}}}',
		);
		expect(ofrep.json).toMatchObject({ value: "A" });
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("still sends configuration_change when only a flag named __proto__ changes", async () => {
		const controller = new AbortController();
		const client = createClient(
			EvaluationServiceV1,
			createConnectTransport({ baseUrl: base, httpVersion: "1.1" }),
		);
		const iterator = client
			.eventStream({}, { signal: controller.signal })
			[Symbol.asyncIterator]();
		try {
			expect((await iterator.next()).value?.type).toBe("provider_ready");
			source.push(
				HOSTILE.replace('"defaultVariant":"on"', '"defaultVariant":"off"'),
			);
			// Connect JSON loses the key in the Struct (see above; binary keeps it, provider-proto-key.test.ts), but
			// the event still tells providers to refresh.
			const event = (await iterator.next()).value;
			expect(event?.type).toBe("configuration_change");
			expect(({} as Record<string, unknown>).type).toBeUndefined();
		} finally {
			controller.abort();
		}
	});
});

describe("broken payloads", () => {
	it.each([
		["random bytes", "\u0000\u0001\u00fe garbage"],
		["JSON that is not an object", '"just a string"'],
		["deeply nested JSON", `${"[".repeat(50_000)}${"]".repeat(50_000)}`],
		[
			"a truncated 10 MB document",
			`{"flags":{"x":{"state":"ENABLED","variants":{"a":"${"y".repeat(10_000_000)}"},"defaultVariant":"a"`,
		],
	])("keeps serving the last good flags after %s", async (_what, payload) => {
		source.push(payload);
		source.push(HOSTILE); // a valid payload after it proves the broken one was consumed (and rejected)
		const client = createClient(
			EvaluationServiceV1,
			createConnectTransport({ baseUrl: base, httpVersion: "1.1" }),
		);
		expect((await client.resolveBoolean({ flagKey: "__proto__" })).value).toBe(
			true,
		);
	});
});
