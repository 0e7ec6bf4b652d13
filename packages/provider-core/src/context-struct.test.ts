import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { structFieldFromBinary } from "@flagd-ts/protocol";
import { ResolveBooleanRequestSchema } from "@flagd-ts/protocol/evaluation-v1";
import { describe, expect, it } from "@jest/globals";
import { ErrorCode, type EvaluationContext } from "@openfeature/core";
import {
	contextToStruct,
	requestWithContext,
	stableStringify,
	structToFlagMetadata,
	structToPlain,
} from "./context-struct.js";

function codeOf(fn: () => unknown): string | undefined {
	try {
		fn();
	} catch (e) {
		return (e as { code?: string }).code;
	}
	return undefined;
}

describe("contextToStruct", () => {
	it("keeps targetingKey at the top level with the other fields", () => {
		expect(
			contextToStruct({
				targetingKey: "user-1",
				email: "a@b.c",
				n: 3,
				ok: true,
				nil: null,
			}),
		).toEqual({
			targetingKey: "user-1",
			email: "a@b.c",
			n: 3,
			ok: true,
			nil: null,
		});
	});

	it("turns Dates into ISO-8601 strings, at any depth", () => {
		const d = new Date("2026-01-02T03:04:05.678Z");
		expect(contextToStruct({ at: d, nested: { list: [d] } })).toEqual({
			at: "2026-01-02T03:04:05.678Z",
			nested: { list: ["2026-01-02T03:04:05.678Z"] },
		});
	});

	it("turns bigints into decimal strings without losing digits", () => {
		const ctx = { big: 12345678901234567890n } as unknown as EvaluationContext;
		expect(contextToStruct(ctx)).toEqual({ big: "12345678901234567890" });
	});

	it("drops undefined fields and maps undefined array items to null", () => {
		const ctx = {
			a: undefined,
			b: 1,
			list: [1, undefined],
		} as unknown as EvaluationContext;
		const out = contextToStruct(ctx);
		expect(out).toEqual({ b: 1, list: [1, null] });
		expect(Object.hasOwn(out, "a")).toBe(false);
	});

	it("rejects cycles with INVALID_CONTEXT and names the path", () => {
		const a: Record<string, unknown> = { x: 1 };
		a.self = a;
		expect(codeOf(() => contextToStruct({ a } as EvaluationContext))).toBe(
			ErrorCode.INVALID_CONTEXT,
		);
		expect(() => contextToStruct({ a } as EvaluationContext)).toThrow(
			/context\.a\.self/,
		);
		const list: unknown[] = [];
		list.push(list);
		expect(
			codeOf(() => contextToStruct({ list } as unknown as EvaluationContext)),
		).toBe(ErrorCode.INVALID_CONTEXT);
	});

	it("accepts the same object twice when it is not a cycle", () => {
		const shared = { k: "v" };
		expect(contextToStruct({ a: shared, b: shared })).toEqual({
			a: { k: "v" },
			b: { k: "v" },
		});
	});

	it.each([
		["a function", { f: () => 1 }],
		["a symbol", { s: Symbol("x") }],
		["NaN", { n: Number.NaN }],
		["Infinity", { n: Number.POSITIVE_INFINITY }],
		["an invalid Date", { d: new Date("nope") }],
		["a Map", { m: new Map() }],
		["a non-string targetingKey", { targetingKey: 42 }],
	])("rejects %s with INVALID_CONTEXT", (_name, ctx) => {
		expect(
			codeOf(() => contextToStruct(ctx as unknown as EvaluationContext)),
		).toBe(ErrorCode.INVALID_CONTEXT);
	});

	it("keeps __proto__, constructor and prototype keys as own properties, touching no prototype", () => {
		const ctx = JSON.parse(
			'{"__proto__": {"polluted": true}, "constructor": "c", "prototype": {"__proto__": 1}, "a": 1}',
		) as EvaluationContext;
		const struct = contextToStruct(ctx);
		expect(Object.keys(struct)).toEqual([
			"__proto__",
			"constructor",
			"prototype",
			"a",
		]);
		expect(Object.getPrototypeOf(struct)).toBe(Object.prototype);
		expect(JSON.stringify(struct)).toBe(JSON.stringify(ctx));
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("requestWithContext carries a __proto__ context key on the binary wire", () => {
		const context = contextToStruct(
			JSON.parse('{"__proto__": "p", "b": [{"__proto__": 2}]}'),
		);
		const bytes = toBinary(
			ResolveBooleanRequestSchema,
			requestWithContext(
				ResolveBooleanRequestSchema,
				{ flagKey: "f" },
				context,
			) as never,
		);
		const field = ResolveBooleanRequestSchema.fields.find(
			(f) => f.localName === "context",
		)?.number as number;
		expect(JSON.stringify(structFieldFromBinary(bytes, field))).toBe(
			'{"b":[{"__proto__":2}],"__proto__":"p"}',
		);
		expect(fromBinary(ResolveBooleanRequestSchema, bytes).flagKey).toBe("f");
	});

	it("accepts constructor/prototype as ordinary keys", () => {
		const ctx = JSON.parse(
			'{"constructor": "c", "prototype": {"x": 1}}',
		) as EvaluationContext;
		expect(contextToStruct(ctx)).toEqual({
			constructor: "c",
			prototype: { x: 1 },
		});
	});

	it("rejects absurd nesting", () => {
		let deep: Record<string, unknown> = {};
		const root = deep;
		for (let i = 0; i < 40; i++) {
			const next = {};
			deep.n = next;
			deep = next;
		}
		expect(codeOf(() => contextToStruct(root as EvaluationContext))).toBe(
			ErrorCode.INVALID_CONTEXT,
		);
	});

	it("accepts null-prototype objects", () => {
		const o = Object.create(null) as Record<string, unknown>;
		o.k = "v";
		expect(contextToStruct({ o } as EvaluationContext)).toEqual({
			o: { k: "v" },
		});
	});
});

describe("structToPlain / structToFlagMetadata / stableStringify", () => {
	it("copies only own keys so a decoded __proto__ entry cannot leak through", () => {
		const decoded: Record<string, unknown> = {};
		Object.setPrototypeOf(decoded, { injected: true });
		decoded.a = { b: [1, { c: 2 }] };
		const plain = structToPlain(decoded as never) as Record<string, unknown>;
		expect(plain).toEqual({ a: { b: [1, { c: 2 }] } });
		expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
		expect(plain.injected).toBeUndefined();
	});

	it("flattens metadata to primitives only", () => {
		expect(
			structToFlagMetadata({
				s: "x",
				n: 1,
				b: false,
				o: { x: 1 },
				l: [1],
				z: null,
			}),
		).toEqual({
			s: "x",
			n: 1,
			b: false,
		});
		expect(structToFlagMetadata(undefined)).toEqual({});
	});

	it("produces the same string for equal objects regardless of key order", () => {
		expect(stableStringify({ b: 1, a: [{ y: 1, x: 2 }] })).toBe(
			stableStringify({ a: [{ x: 2, y: 1 }], b: 1 }),
		);
		expect(stableStringify({ a: 1 })).not.toBe(stableStringify({ a: "1" }));
	});

	it("tells -0 from 0 (a Struct number keeps its sign)", () => {
		expect(stableStringify({ a: -0 })).toBe('{"a":-0}');
		expect(stableStringify({ a: 0 })).toBe('{"a":0}');
		expect(stableStringify([-0, 0])).toBe("[-0,0]");
	});
});

describe("Struct data from the wire cannot pollute prototypes", () => {
	it("keeps a __proto__ key as an own property in structToPlain", () => {
		const wire = JSON.parse(
			'{"a":{"__proto__":{"polluted":true}},"__proto__":{"x":1}}',
		);
		const plain = structToPlain(wire);
		expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
		expect(Object.getPrototypeOf(plain.a)).toBe(Object.prototype);
		expect(Object.keys(plain)).toEqual(["a", "__proto__"]);
		expect(JSON.stringify(plain)).toBe(
			'{"a":{"__proto__":{"polluted":true}},"__proto__":{"x":1}}',
		);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("keeps a __proto__ metadata key as an own property in structToFlagMetadata", () => {
		const metadata = structToFlagMetadata(
			JSON.parse('{"__proto__":"value","scope":"a"}'),
		);
		expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
		expect(Object.entries(metadata)).toEqual([
			["__proto__", "value"],
			["scope", "a"],
		]);
	});
});
