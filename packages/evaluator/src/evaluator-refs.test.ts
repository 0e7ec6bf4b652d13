import { describe, expect, it } from "@jest/globals";
import { inlineEvaluatorRefs } from "./evaluator-refs.js";
import type { JsonValue } from "./types.js";

describe("inlineEvaluatorRefs", () => {
	const evaluators = new Map<string, JsonValue>([
		["admin", { "==": [{ var: "role" }, "admin"] }],
	]);

	it("shares rules without references instead of copying them", () => {
		const rule: JsonValue = { if: [{ var: "x" }, "a", "b"] };
		expect(inlineEvaluatorRefs(rule, evaluators).rule).toBe(rule);
	});

	it("copies only the path to a reference and never mutates the input", () => {
		const untouched: JsonValue = { "==": [1, 1] };
		const rule: JsonValue = { or: [untouched, { $ref: "admin" }] };
		const before = JSON.stringify(rule);
		const { rule: out, unresolved } = inlineEvaluatorRefs(rule, evaluators);
		expect(out).toEqual({
			or: [{ "==": [1, 1] }, { "==": [{ var: "role" }, "admin"] }],
		});
		expect((out as { or: JsonValue[] }).or[0]).toBe(untouched);
		expect(JSON.stringify(rule)).toBe(before);
		expect(unresolved).toEqual([]);
	});

	it("reports unknown and non-string names with JSON pointers, leaving them in place", () => {
		const rule = JSON.parse(
			'{"and":[{"$ref":"nope"},{"a/b":[{"$ref":1}]}]}',
		) as JsonValue;
		const { rule: out, unresolved } = inlineEvaluatorRefs(rule, evaluators);
		expect(out).toEqual(rule);
		expect(unresolved).toEqual([
			{ name: "nope", pointer: "/and/0/$ref" },
			{ name: "1", pointer: "/and/1/a~1b/0/$ref" },
		]);
	});

	it("keeps a __proto__ key as an own property when copying", () => {
		const rule = JSON.parse('{"__proto__":[{"$ref":"admin"}]}') as JsonValue;
		const out = inlineEvaluatorRefs(rule, evaluators).rule as Record<
			string,
			unknown
		>;
		expect(Object.keys(out)).toEqual(["__proto__"]);
		expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
		expect(({} as Record<string, unknown>)["=="]).toBeUndefined();
	});
});
