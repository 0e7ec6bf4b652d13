import { describe, expect, it } from "@jest/globals";
import { FlagEvaluator } from "./flag-evaluator.js";
import { parseFlagDocument } from "./parse-flag-document.js";
import { sanitizeContext } from "./sanitize-context.js";
import type { TargetingMode } from "./targeting-mode.js";
import type { JsonValue } from "./types.js";

/**
 * Context keys named `__proto__`, `constructor`, `prototype` and `hasOwnProperty` are ordinary keys: targeting reads
 * them like any other, and no rule reaches a prototype through a context, whatever it holds.
 */

const MODES: readonly TargetingMode[] = ["compiled", "interpreted"];

function evaluatorWith(
	mode: TargetingMode,
	targeting: JsonValue,
	variants: Record<string, JsonValue> = { hit: "hit", miss: "miss" },
): FlagEvaluator {
	const evaluator = new FlagEvaluator({ targetingMode: mode });
	evaluator.setDocument(
		parseFlagDocument(
			JSON.stringify({
				flags: {
					f: {
						state: "ENABLED",
						variants,
						defaultVariant: "miss",
						targeting,
					},
				},
			}),
		),
	);
	return evaluator;
}

/** The context from JSON text: a literal `__proto__` key in source code would set a prototype instead. */
const context = (json: string) => sanitizeContext(JSON.parse(json));

function prototypeSnapshot(): string[] {
	return [Object.prototype, Array.prototype, String.prototype].flatMap(
		(proto) => Object.getOwnPropertyNames(proto).sort(),
	);
}

describe.each(MODES)("prototype-named context keys (%s)", (mode) => {
	it.each(["__proto__", "constructor", "prototype", "hasOwnProperty"])(
		"targets on the context key %s (top level, nested, with $flagd and fractional)",
		(key) => {
			const top = evaluatorWith(mode, {
				if: [{ "==": [{ var: key }, "yes"] }, "hit", "miss"],
			});
			expect(
				top.evaluate("f", "string", context(`{"${key}":"yes"}`)).variant,
			).toBe("hit");
			expect(
				top.evaluate("f", "string", context(`{"${key}":"no"}`)).variant,
			).toBe("miss");
			expect(top.evaluate("f", "string", context("{}")).variant).toBe("miss");

			const nested = evaluatorWith(mode, {
				if: [
					{ starts_with: [{ var: `user.${key}` }, "ye"] },
					"hit",
					{ if: [{ ends_with: [{ var: `user.${key}` }, "no"] }, "miss", null] },
				],
			});
			expect(
				nested.evaluate("f", "string", context(`{"user":{"${key}":"yes"}}`))
					.variant,
			).toBe("hit");
			expect(
				nested.evaluate("f", "string", context(`{"user":{"${key}":"no"}}`))
					.variant,
			).toBe("miss");

			// `{"var":""}` makes the evaluator copy the context to inject $flagd: the key survives the copy.
			const injected = evaluatorWith(mode, {
				if: [
					{
						and: [
							{ "==": [{ var: key }, "yes"] },
							{ "==": [{ var: "$flagd.flagKey" }, "f"] },
							{ var: "" },
						],
					},
					"hit",
					"miss",
				],
			});
			expect(
				injected.evaluate("f", "string", context(`{"${key}":"yes"}`)).variant,
			).toBe("hit");

			const semVer = evaluatorWith(mode, {
				if: [{ sem_ver: [{ var: key }, ">=", "1.2.0"] }, "hit", "miss"],
			});
			expect(
				semVer.evaluate("f", "string", context(`{"${key}":"1.3.0"}`)).variant,
			).toBe("hit");

			const fractional = evaluatorWith(mode, {
				fractional: [{ var: key }, ["hit", 50], ["miss", 50]],
			});
			const a = fractional.evaluate("f", "string", context(`{"${key}":"a"}`));
			const plain = evaluatorWith(mode, {
				fractional: [{ var: "k" }, ["hit", 50], ["miss", 50]],
			}).evaluate("f", "string", context('{"k":"a"}'));
			expect(a.reason).toBe("TARGETING_MATCH");
			expect(a.variant).toBe(plain.variant);
		},
	);

	it("reads targetingKey from an own property only", () => {
		const evaluator = evaluatorWith(mode, {
			fractional: [
				["hit", 50],
				["miss", 50],
			],
		});
		// No targetingKey: fractional has no bucketing value and yields null (the default variant).
		expect(evaluator.evaluate("f", "string", context("{}")).reason).toBe(
			"DEFAULT",
		);
		expect(
			evaluator.evaluate("f", "string", context('{"targetingKey":"u"}')).reason,
		).toBe("TARGETING_MATCH");
	});

	it("never reaches a prototype from hostile rules and contexts, and modifies none", () => {
		const before = prototypeSnapshot();
		const hostileVars = [
			"constructor",
			"__proto__",
			"prototype",
			"hasOwnProperty",
			"toString",
			"valueOf",
			"__proto__.polluted",
			"__proto__.constructor",
			"constructor.prototype",
			"constructor.prototype.polluted",
			"constructor.name",
			"s.constructor",
			"s.__proto__",
			"s.length",
			"list.__proto__",
			"list.constructor",
			"user.__proto__",
			"user.constructor.prototype",
		];
		const contexts = [
			"{}",
			'{"s":"text","list":[1,2],"user":{"name":"x"}}',
			'{"__proto__":{"polluted":"ctx"},"constructor":{"prototype":{"polluted":"ctx"}}}',
		];
		for (const path of hostileVars) {
			// The rule answers which variant it saw: a value from a prototype would be "proto".
			const evaluator = evaluatorWith(
				mode,
				{
					if: [
						{ "===": [{ var: path }, null] },
						"absent",
						{
							if: [
								{ "===": [{ var: [path, "absent"] }, "absent"] },
								"absent",
								"present",
							],
						},
					],
				},
				{ absent: "absent", present: "present", miss: "miss" },
			);
			for (const json of contexts) {
				const ctx = context(json);
				const result = evaluator.evaluate("f", "string", ctx);
				const own = JSON.parse(json) as Record<string, unknown>;
				const expectPresent = readJsonPath(own, path) !== undefined;
				expect({ path, json, variant: result.variant }).toEqual({
					path,
					json,
					variant: expectPresent ? "present" : "absent",
				});
			}
			const missing = evaluatorWith(mode, {
				if: [{ missing: [path] }, "miss", "hit"],
			});
			expect(missing.evaluate("f", "string", context("{}")).variant).toBe(
				"miss",
			);
		}
		expect(prototypeSnapshot()).toEqual(before);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});

/** The reference answer: own properties of parsed JSON objects and arrays only. */
function readJsonPath(data: unknown, path: string): unknown {
	let current = data;
	for (const piece of path.split(".")) {
		if (current === null || typeof current !== "object") return undefined;
		if (!Object.hasOwn(current, piece)) return undefined;
		current = (current as Record<string, unknown>)[piece];
	}
	return current;
}
