import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { compileFlag } from "./compile-flag.js";
import { evaluateFlag } from "./evaluate-flag.js";
import { sanitizeContext } from "./sanitize-context.js";

describe("sanitizeContext", () => {
	it("copies plain JSON data", () => {
		const input = {
			targetingKey: "u",
			n: 1.5,
			b: false,
			nested: { list: [1, "a", null] },
		};
		const out = sanitizeContext(input);
		expect(out).toEqual(input);
		expect(out.nested).not.toBe(input.nested);
	});

	it("keeps __proto__, constructor and prototype keys as own properties at every level", () => {
		const input = JSON.parse(
			'{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"a":{"__proto__":{"x":1},"prototype":2,"ok":1}}',
		);
		const out = sanitizeContext(input);
		expect(Object.keys(out)).toEqual(["__proto__", "constructor", "a"]);
		expect(Object.getPrototypeOf(out)).toBeNull();
		const own = (o: unknown, k: string) =>
			Object.getOwnPropertyDescriptor(o, k)?.value as Record<string, unknown>;
		expect(Object.keys(own(out, "__proto__"))).toEqual(["polluted"]);
		expect(Object.getPrototypeOf(own(out, "__proto__"))).toBeNull();
		const a = own(out, "a");
		expect(Object.keys(a)).toEqual(["__proto__", "prototype", "ok"]);
		expect(Object.keys(own(a, "__proto__"))).toEqual(["x"]);
		expect(JSON.stringify(out)).toBe(JSON.stringify(input));
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("returns null-prototype objects so rules cannot read Object.prototype through the context", () => {
		const out = sanitizeContext({ user: { name: "x" } });
		expect(Object.getPrototypeOf(out)).toBeNull();
		const flag = compileFlag({
			key: "f",
			state: "ENABLED",
			variants: { hit: 1, miss: 2 },
			defaultVariant: "miss",
			targeting: {
				if: [
					{ var: "constructor" },
					"hit",
					{ if: [{ var: "user.__proto__" }, "hit", "miss"] },
				],
			},
			metadata: {},
			flagSetId: undefined,
		});
		expect(evaluateFlag(flag, "number", out).variant).toBe("miss");
	});

	it("bounds depth, value count and string length", () => {
		let deep: Record<string, unknown> = { leaf: true };
		for (let i = 0; i < 100; i++) deep = { d: deep };
		let cursor: unknown = sanitizeContext(deep, { maxDepth: 5 });
		let depth = 0;
		while (cursor !== null && typeof cursor === "object") {
			cursor = (cursor as Record<string, unknown>).d;
			depth++;
		}
		expect(depth).toBe(5);
		const wide = Object.fromEntries(
			Array.from({ length: 50 }, (_, i) => [`k${i}`, i]),
		);
		expect(Object.keys(sanitizeContext(wide, { maxValues: 10 }))).toHaveLength(
			10,
		);
		expect(
			sanitizeContext({ s: "x".repeat(100) }, { maxStringLength: 8 }).s,
		).toBe("xxxxxxxx");
	});

	it("converts or drops non-JSON values and survives cycles", () => {
		const cyclic: Record<string, unknown> = { a: 1 };
		cyclic.self = cyclic;
		const out = sanitizeContext({
			when: new Date(0),
			nan: Number.NaN,
			big: 10n,
			fn: () => 1,
			sym: Symbol("x"),
			undef: undefined,
			cyclic,
		});
		expect(out).toEqual({
			when: "1970-01-01T00:00:00.000Z",
			nan: null,
			big: 10,
			cyclic: { a: 1, self: null },
		});
	});

	it("returns an empty context for non-objects", () => {
		for (const input of [null, undefined, 1, "x", [1, 2], true])
			expect(sanitizeContext(input)).toEqual({});
	});

	it("yields JSON-serialisable data for any input", () => {
		fc.assert(
			fc.property(
				fc.anything({
					withBigInt: true,
					withDate: true,
					withMap: true,
					withSet: true,
					withNullPrototype: true,
					withObjectString: true,
				}),
				(input) => {
					const out = sanitizeContext(input);
					expect(JSON.parse(JSON.stringify(out))).toEqual(
						JSON.parse(JSON.stringify(out)),
					);
				},
			),
			{ numRuns: 1000 },
		);
	});
});
