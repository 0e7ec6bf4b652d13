import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { compileFlag } from "./compile-flag.js";
import { evaluateFlag } from "./evaluate-flag.js";
import { flagNotFound } from "./evaluation-results.js";
import type { FlagDefinition, JsonValue } from "./types.js";

function flag(
	overrides: Partial<FlagDefinition> & { targeting?: JsonValue },
): FlagDefinition {
	return {
		key: "my-flag",
		state: "ENABLED",
		variants: { on: true, off: false },
		defaultVariant: "off",
		targeting: undefined,
		metadata: { team: "core" },
		flagSetId: undefined,
		...overrides,
	};
}

describe("evaluateFlag: reasons", () => {
	it("returns the default variant with STATIC when there is no targeting", () => {
		expect(evaluateFlag(compileFlag(flag({})), "boolean", {})).toEqual({
			flagKey: "my-flag",
			value: false,
			variant: "off",
			reason: "STATIC",
			metadata: { team: "core" },
		});
	});

	it("treats {} targeting as no targeting (STATIC)", () => {
		expect(
			evaluateFlag(compileFlag(flag({ targeting: {} })), "boolean", {}).reason,
		).toBe("STATIC");
	});

	it("returns DISABLED without value or variant and does not run targeting", () => {
		const result = evaluateFlag(
			compileFlag(flag({ state: "DISABLED", targeting: { unknown_op: [] } })),
			"boolean",
			{},
		);
		expect(result).toEqual({
			flagKey: "my-flag",
			value: undefined,
			variant: undefined,
			reason: "DISABLED",
			metadata: { team: "core" },
		});
	});

	it("returns TARGETING_MATCH for a matching rule", () => {
		const compiled = compileFlag(
			flag({
				targeting: { if: [{ "==": [{ var: "tier" }, "gold"] }, "on", null] },
			}),
		);
		expect(evaluateFlag(compiled, "boolean", { tier: "gold" })).toMatchObject({
			value: true,
			variant: "on",
			reason: "TARGETING_MATCH",
		});
	});

	it("returns the default variant with DEFAULT when targeting yields null", () => {
		const compiled = compileFlag(
			flag({
				targeting: { if: [{ "==": [{ var: "tier" }, "gold"] }, "on", null] },
			}),
		);
		expect(evaluateFlag(compiled, "boolean", { tier: "silver" })).toMatchObject(
			{ value: false, variant: "off", reason: "DEFAULT" },
		);
	});

	it("returns the code default (DEFAULT, no value) without a default variant", () => {
		const noDefault = flag({
			defaultVariant: null,
			targeting: { if: [{ var: "x" }, "on", null] },
		});
		expect(evaluateFlag(compileFlag(noDefault), "boolean", {})).toMatchObject({
			value: undefined,
			variant: undefined,
			reason: "DEFAULT",
		});
		expect(
			evaluateFlag(compileFlag(flag({ defaultVariant: null })), "boolean", {}),
		).toMatchObject({
			value: undefined,
			variant: undefined,
			reason: "DEFAULT",
		});
		expect(
			evaluateFlag(compileFlag(noDefault), "boolean", { x: true }),
		).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
	});

	it("returns ERROR/GENERAL when targeting names a variant that does not exist", () => {
		const result = evaluateFlag(
			compileFlag(flag({ targeting: { if: [true, "nope", "off"] } })),
			"boolean",
			{},
		);
		expect(result).toMatchObject({
			reason: "ERROR",
			errorCode: "GENERAL",
			value: undefined,
			variant: undefined,
		});
		expect(result.errorMessage).toContain("nope");
	});

	it("returns ERROR/PARSE_ERROR for an unknown operator or unresolved $ref, keeping the metadata", () => {
		for (const targeting of [
			{ invalid: [1] },
			{ if: [{ $ref: "missing" }, "on", "off"] },
			JSON.parse(`{"__proto__": [1]}`) as JsonValue,
			{ constructor: [1] },
			{ a: 1, b: 2 },
		]) {
			const result = evaluateFlag(
				compileFlag(flag({ targeting })),
				"boolean",
				{},
			);
			expect(result).toMatchObject({
				reason: "ERROR",
				errorCode: "PARSE_ERROR",
				metadata: { team: "core" },
			});
		}
	});

	it("returns ERROR/PARSE_ERROR when the engine fails at evaluation time (flagd's mapping)", () => {
		const compiled = compileFlag(
			flag({
				targeting: {
					if: [{ ">": [{ "+": [{ var: "s" }, 1] }, 0] }, "on", "off"],
				},
			}),
		);
		expect(evaluateFlag(compiled, "boolean", { s: 2 })).toMatchObject({
			reason: "TARGETING_MATCH",
			variant: "on",
		});
		const failed = evaluateFlag(compiled, "boolean", { s: "abc" });
		expect(failed).toMatchObject({
			reason: "ERROR",
			errorCode: "PARSE_ERROR",
			metadata: { team: "core" },
		});
		expect(failed.errorMessage).toContain("my-flag");
	});

	it("returns flagNotFound as ERROR/FLAG_NOT_FOUND with empty metadata", () => {
		expect(flagNotFound("nope")).toMatchObject({
			flagKey: "nope",
			reason: "ERROR",
			errorCode: "FLAG_NOT_FOUND",
			metadata: {},
		});
	});
});

describe("evaluateFlag: variant names of non-string results", () => {
	it.each([
		[true, "true"],
		[false, "false"],
		[1, "1"],
		[1.5, "1.5"],
	])("maps %j to variant %j", (resultValue, name) => {
		const compiled = compileFlag(
			flag({
				variants: { [name]: "matched", other: "x" },
				defaultVariant: "other",
				targeting: { if: [true, resultValue, "other"] },
			}),
		);
		expect(evaluateFlag(compiled, "string", {})).toMatchObject({
			value: "matched",
			variant: name,
			reason: "TARGETING_MATCH",
		});
	});
});

describe("evaluateFlag: $flagd properties", () => {
	it("injects $flagd.flagKey", () => {
		const compiled = compileFlag(
			flag({
				targeting: {
					if: [{ "==": [{ var: "$flagd.flagKey" }, "my-flag"] }, "on", "off"],
				},
			}),
		);
		expect(evaluateFlag(compiled, "boolean", {}).variant).toBe("on");
	});

	it("injects $flagd.timestamp in Unix seconds (nowSeconds option, else the clock)", () => {
		const compiled = compileFlag(
			flag({
				targeting: {
					if: [
						{ ">": [{ var: "$flagd.timestamp" }, 2_000_000_000] },
						"on",
						"off",
					],
				},
			}),
		);
		expect(
			evaluateFlag(compiled, "boolean", {}, { nowSeconds: 2_000_000_001 })
				.variant,
		).toBe("on");
		expect(
			evaluateFlag(compiled, "boolean", {}, { nowSeconds: 1_999_999_999 })
				.variant,
		).toBe("off");
		const now = Math.floor(Date.now() / 1000);
		const window = compileFlag(
			flag({
				targeting: {
					if: [
						{
							and: [
								{ ">=": [{ var: "$flagd.timestamp" }, now - 5] },
								{ "<=": [{ var: "$flagd.timestamp" }, now + 5] },
							],
						},
						"on",
						"off",
					],
				},
			}),
		);
		expect(evaluateFlag(window, "boolean", {}).variant).toBe("on");
	});

	it("overwrites a caller-supplied $flagd, also when the rule reads other $flagd paths or the whole context", () => {
		const other = compileFlag(
			flag({
				targeting: {
					if: [{ "==": [{ var: "$flagd.flagKey" }, "spoofed"] }, "on", "off"],
				},
			}),
		);
		expect(
			evaluateFlag(other, "boolean", { $flagd: { flagKey: "spoofed" } })
				.variant,
		).toBe("off");
		const missing = compileFlag(
			flag({ targeting: { if: [{ var: "$flagd.other" }, "on", "off"] } }),
		);
		expect(
			evaluateFlag(missing, "boolean", { $flagd: { other: true } }).variant,
		).toBe("off");
		const whole = compileFlag(
			flag({
				variants: { "my-flag": 1, other: 2 },
				defaultVariant: "other",
				targeting: { var: ["$flagd.flagKey", "x"] },
			}),
		);
		expect(evaluateFlag(whole, "number", {}).variant).toBe("my-flag");
	});

	it("does not mutate the caller's context", () => {
		const context = { targetingKey: "u" };
		evaluateFlag(
			compileFlag(flag({ targeting: { if: [{ var: "" }, "on", "off"] } })),
			"boolean",
			context,
		);
		expect(context).toEqual({ targetingKey: "u" });
	});

	it("reads a missing var path as null", () => {
		const compiled = compileFlag(
			flag({
				targeting: { if: [{ "==": [{ var: "a.b.c" }, null] }, "on", "off"] },
			}),
		);
		expect(evaluateFlag(compiled, "boolean", {}).variant).toBe("on");
	});
});

describe("evaluateFlag: type checks", () => {
	const numbers = compileFlag(
		flag({ variants: { a: 3.9, b: -3.9, c: 10 }, defaultVariant: "a" }),
	);

	it("accepts any number for number and truncates for integer, like flagd's int64(float64)", () => {
		expect(evaluateFlag(numbers, "number", {}).value).toBe(3.9);
		expect(evaluateFlag(numbers, "integer", {}).value).toBe(3);
		const negative = compileFlag(
			flag({ variants: { b: -3.9 }, defaultVariant: "b" }),
		);
		expect(evaluateFlag(negative, "integer", {}).value).toBe(-3);
	});

	it.each([
		["boolean", { v: "true" }],
		["string", { v: 1 }],
		["number", { v: "1" }],
		["integer", { v: true }],
		["object", { v: [1, 2] }],
		["object", { v: "x" }],
	] as const)("returns TYPE_MISMATCH when asking for %s", (type, variants) => {
		const compiled = compileFlag(
			flag({
				variants: variants as Record<string, JsonValue>,
				defaultVariant: "v",
			}),
		);
		expect(evaluateFlag(compiled, type, {})).toMatchObject({
			reason: "ERROR",
			errorCode: "TYPE_MISMATCH",
			value: undefined,
			variant: undefined,
		});
	});

	it("accepts everything for any and objects for object", () => {
		const compiled = compileFlag(
			flag({ variants: { v: { a: [1] } }, defaultVariant: "v" }),
		);
		expect(evaluateFlag(compiled, "object", {}).value).toEqual({ a: [1] });
		expect(evaluateFlag(compiled, "any", {}).value).toEqual({ a: [1] });
	});

	it("returns frozen results that share nothing mutable with the definition", () => {
		const variants = { v: { a: 1 } };
		const compiled = compileFlag(flag({ variants, defaultVariant: "v" }));
		const result = evaluateFlag(compiled, "object", {});
		expect(Object.isFrozen(result)).toBe(true);
		expect(Object.isFrozen(result.value)).toBe(true);
		variants.v.a = 2;
		expect(evaluateFlag(compiled, "object", {}).value).toEqual({ a: 1 });
	});
});

describe("evaluateFlag: robustness", () => {
	const operators = [
		"if",
		"==",
		"!=",
		"and",
		"or",
		"!",
		"in",
		"cat",
		"var",
		"+",
		"*",
		"/",
		"%",
		"<",
		"max",
		"merge",
		"substr",
		"fractional",
		"sem_ver",
		"starts_with",
		"ends_with",
		"map",
		"reduce",
		"missing",
	];
	const rule: fc.Arbitrary<JsonValue> = fc.letrec((tie) => ({
		node: fc.oneof(
			{ depthSize: "small", withCrossShrink: true },
			fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<JsonValue>,
			fc
				.record({
					op: fc.constantFrom(...operators),
					args: fc.array(tie("node"), { maxLength: 4 }),
				})
				.map(({ op, args }) => ({ [op]: args }) as JsonValue),
		),
	})).node;

	it("never throws on random rules and random contexts", () => {
		fc.assert(
			fc.property(
				rule,
				fc.dictionary(
					fc.constantFrom(
						"targetingKey",
						"a",
						"email",
						"version",
						"$flagd",
						"__proto__",
					),
					fc.jsonValue({ maxDepth: 2 }),
				),
				(targeting, context) => {
					const compiled = compileFlag(
						flag({
							variants: { on: true, off: false, "1": true, true: false },
							targeting,
						}),
					);
					for (const type of ["boolean", "any", "integer"] as const) {
						const result = evaluateFlag(compiled, type, context as never);
						expect(["STATIC", "TARGETING_MATCH", "DEFAULT", "ERROR"]).toContain(
							result.reason,
						);
					}
				},
			),
			{ numRuns: 1500 },
		);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});
