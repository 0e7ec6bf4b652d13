import { fromBinary, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { structFieldFromBinary } from "@flagd-ts/protocol";
import { ResolveBooleanRequestSchema as V1Request } from "@flagd-ts/protocol/evaluation-v1";
import { ResolveObjectRequestSchema as V2Request } from "@flagd-ts/protocol/evaluation-v2";
import { describe, expect, it } from "@jest/globals";
import type { EvaluationContext } from "@openfeature/core";
import {
	contextToStruct,
	requestWithContext,
	stableStringify,
} from "./context-struct.js";
import {
	EncodedContextCache,
	requestWithEncodedContext,
} from "./encoded-context-cache.js";

const CONTEXT_FIELD = V1Request.field.context?.number as number;

/** The request bytes the provider sends for `context`, through `cache`. */
function encodedRequest(
	cache: EncodedContextCache,
	context: EvaluationContext,
	schema: typeof V1Request | typeof V2Request = V1Request,
): Uint8Array {
	const struct = contextToStruct(context);
	return toBinary(
		schema,
		requestWithEncodedContext(
			schema,
			{ flagKey: "f" },
			cache.encode(stableStringify(struct), struct),
		) as never,
	);
}

function sentContext(bytes: Uint8Array): string {
	return JSON.stringify(structFieldFromBinary(bytes, CONTEXT_FIELD));
}

describe("requestWithEncodedContext / EncodedContextCache", () => {
	it("sends the same bytes as requestWithContext, on v1 and v2 requests", () => {
		const contexts: EvaluationContext[] = [
			{},
			{ targetingKey: "user-1", email: "ada@example.com" },
			{ n: 1.5, ok: true, nothing: null, list: [1, "a", null, { x: [] }] },
			{ nested: { deeper: { deepest: "yes" } }, when: new Date(0) },
		];
		for (const schema of [V1Request, V2Request]) {
			const cache = new EncodedContextCache();
			for (const context of contexts) {
				const struct = contextToStruct(context);
				const expected = toBinary(
					schema,
					requestWithContext(schema, { flagKey: "f" }, struct) as never,
				);
				// Twice: the second answer comes from the cache.
				expect(encodedRequest(cache, context, schema)).toEqual(expected);
				expect(encodedRequest(cache, context, schema)).toEqual(expected);
				expect(fromBinary(schema, expected).flagKey).toBe("f");
			}
			expect(cache.size).toBe(contexts.length);
		}
	});

	it("never answers a context changed in place with its old bytes", () => {
		const cache = new EncodedContextCache();
		const context: Record<string, string | number | string[]> = {
			targetingKey: "u",
			plan: "free",
			tags: ["a"],
		};
		expect(sentContext(encodedRequest(cache, context))).toBe(
			'{"targetingKey":"u","plan":"free","tags":["a"]}',
		);
		context.plan = "pro";
		(context.tags as string[]).push("b");
		expect(sentContext(encodedRequest(cache, context))).toBe(
			'{"targetingKey":"u","plan":"pro","tags":["a","b"]}',
		);
		context.n = -0;
		const negative = encodedRequest(cache, context);
		context.n = 0;
		const positive = encodedRequest(cache, context);
		expect(negative).not.toEqual(positive);
		const v = (bytes: Uint8Array) =>
			(structFieldFromBinary(bytes, CONTEXT_FIELD) as JsonObject).n;
		expect(Object.is(v(negative), -0)).toBe(true);
		expect(Object.is(v(positive), 0)).toBe(true);
	});

	it("keeps __proto__ keys as ordinary keys, on the wire and in the cache", () => {
		const cache = new EncodedContextCache();
		const hostile = JSON.parse(
			'{"__proto__": {"polluted": true}, "a": [{"__proto__": 2}]}',
		) as EvaluationContext;
		const bytes = encodedRequest(cache, hostile);
		expect(sentContext(bytes)).toBe(
			'{"a":[{"__proto__":2}],"__proto__":{"polluted":true}}',
		);
		expect(encodedRequest(cache, hostile)).toEqual(bytes);
		// A context without the key is another entry, with its own bytes.
		expect(sentContext(encodedRequest(cache, { a: [{}] }))).toBe('{"a":[{}]}');
		expect(cache.size).toBe(2);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("is bounded: at most maxEntries contexts, none longer than maxKeyLength", () => {
		const cache = new EncodedContextCache({ maxEntries: 4, maxKeyLength: 64 });
		for (let i = 0; i < 20; i++) {
			const bytes = encodedRequest(cache, { targetingKey: `user-${i}` });
			expect(sentContext(bytes)).toBe(`{"targetingKey":"user-${i}"}`);
		}
		expect(cache.size).toBe(4);
		const long = { note: "x".repeat(100) };
		const fresh = new EncodedContextCache({ maxEntries: 4, maxKeyLength: 64 });
		expect(sentContext(encodedRequest(fresh, long))).toBe(JSON.stringify(long));
		expect(fresh.size).toBe(0);
	});
});
