import { describe, expect, it } from "@jest/globals";
import {
	createRefExpansionBudget,
	inlineEvaluatorRefs,
	MAX_INLINED_REF_NODES,
	MAX_INLINED_RULE_DEPTH,
} from "./evaluator-refs.js";
import { parseFlagDocument } from "./parse-flag-document.js";
import { refBombDocument } from "./testdata/ref-bomb-document.js";
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

describe("reference expansion limits", () => {
	it("stops a doubling chain of references within the node budget", () => {
		const evaluators = new Map<string, JsonValue>();
		const depth = 40;
		for (let i = 0; i < depth; i++)
			evaluators.set(`e${i}`, [{ $ref: `e${i + 1}` }, { $ref: `e${i + 1}` }]);
		evaluators.set(`e${depth}`, 1);
		const budget = createRefExpansionBudget(10_000);
		const rule = JSON.parse('{"and":[true,{"$ref":"e0"}]}') as JsonValue;
		const out = inlineEvaluatorRefs(rule, evaluators, budget);
		expect(out.overflow).toEqual({ kind: "nodes", pointer: "/and/1/$ref" });
		expect(out.rule).toBe(rule);
		expect(budget.remainingNodes).toBe(-1);
	});

	it("charges the budget across calls (one budget per document)", () => {
		const budget = createRefExpansionBudget(5);
		// One expansion visits 5 nodes: {"==": …}, its array, {"var": …}, "role", "admin".
		const rule = { $ref: "admin" } as JsonValue;
		const evaluators = new Map<string, JsonValue>([
			["admin", { "==": [{ var: "role" }, "admin"] }],
		]);
		expect(inlineEvaluatorRefs(rule, evaluators, budget).overflow).toBe(
			undefined,
		);
		expect(inlineEvaluatorRefs(rule, evaluators, budget).overflow?.kind).toBe(
			"nodes",
		);
	});

	it("stops a chain of references that nests too deeply", () => {
		const evaluators = new Map<string, JsonValue>();
		for (let i = 0; i < 1000; i++)
			evaluators.set(`e${i}`, { "!": { $ref: `e${i + 1}` } });
		evaluators.set("e1000", true);
		const out = inlineEvaluatorRefs({ $ref: "e0" }, evaluators);
		expect(out.overflow).toEqual({ kind: "depth", pointer: "/$ref" });
		expect(MAX_INLINED_RULE_DEPTH).toBeLessThan(1000 * 2);
	});

	it("rejects a 1 KB reference bomb document with one clear error, in bounded time", () => {
		const text = refBombDocument(30);
		expect(text.length).toBeLessThan(2000);
		const started = performance.now();
		const result = parseFlagDocument(text);
		const elapsedMs = performance.now() - started;
		expect(result.ok).toBe(false);
		if (result.ok) return;
		// The node budget is the document's: the whole document is refused, not one flag.
		expect(result.errors[0]?.flagKey).toBeUndefined();
		expect(result.errors).toEqual([
			expect.objectContaining({
				code: "EVALUATOR_REF_EXPANSION",
				path: "/flags/bomb/targeting/if/0/$ref",
			}),
		]);
		expect(result.errors[0]?.message).toContain(
			`more than ${MAX_INLINED_REF_NODES} JSON nodes`,
		);
		// The budget bounds the work to ~MAX_INLINED_REF_NODES visits (tens of ms); 2^30 copies would take minutes.
		expect(elapsedMs).toBeLessThan(10_000);
	});

	it("reports the exhausted budget once per document, not once per flag", () => {
		const doc = JSON.parse(refBombDocument(30)) as {
			flags: Record<string, unknown>;
		};
		for (let i = 0; i < 50; i++) doc.flags[`copy${i}`] = doc.flags.bomb;
		const result = parseFlagDocument(doc);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.errors).toHaveLength(1);
	});

	it("accepts references that stay within the budget, ", () => {
		const result = parseFlagDocument(refBombDocument(10));
		expect(result.ok).toBe(true);
	});
});
