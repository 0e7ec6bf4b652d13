import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { compileFlag } from "./compile-flag.js";
import { evaluateFlag } from "./evaluate-flag.js";
import { analyzeFlagdProperties } from "./flagd-properties.js";
import { setCompileAfterEvaluations } from "./tiered-targeting.js";
import type { FlagDefinition, JsonValue } from "./types.js";

// These tests check generated functions: rules are compiled when built, not after their first walks.
setCompileAfterEvaluations(0);

// The engine specialises custom operators with literal operands at compile time. These properties check that the
// specialised paths give exactly what the general (runtime-argument) paths give, for arbitrary inputs.
function flag(
	targeting: JsonValue,
	variants: Record<string, JsonValue>,
): FlagDefinition {
	return {
		key: "k",
		state: "ENABLED",
		variants,
		defaultVariant: null,
		targeting,
		metadata: {},
		flagSetId: undefined,
	};
}

function run(
	targeting: JsonValue,
	context: Record<string, JsonValue>,
	variants: Record<string, JsonValue>,
) {
	const { value, variant, reason, errorCode } = evaluateFlag(
		compileFlag(flag(targeting, variants)),
		"any",
		context,
	);
	return { value, variant, reason, errorCode };
}

const variantNames = ["a", "b", "c", "true", "false", "1", "2"];
const variants = Object.fromEntries(variantNames.map((n) => [n, n]));

describe("compile-time specialisation", () => {
	it("fractional with literal operands equals fractional with the same operands computed at runtime", () => {
		const bucket = fc.tuple(
			fc.constantFrom<JsonValue>("a", "b", "c", true, 1, null),
			fc.option(fc.integer({ min: -5, max: 100 }), { nil: undefined }),
		);
		const args = fc.tuple(
			fc.constantFrom<JsonValue>("explicit-key", null, 7, ["a", 1]),
			fc.array(
				bucket.map(([v, w]) => (w === undefined ? [v] : [v, w]) as JsonValue),
				{ minLength: 0, maxLength: 4 },
			),
		);
		fc.assert(
			fc.property(
				args,
				fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
				([first, buckets], targetingKey) => {
					const literal = [first, ...buckets] as JsonValue[];
					const context: Record<string, JsonValue> = { args: literal };
					if (targetingKey !== undefined) context.targetingKey = targetingKey;
					const specialised = run({ fractional: literal }, context, variants);
					const general = run(
						{ fractional: { var: "args" } },
						context,
						variants,
					);
					const shorthand = run({ fractional: buckets }, context, variants);
					const shorthandGeneral = run(
						{ fractional: { var: "args" } },
						{ ...context, args: buckets },
						variants,
					);
					expect(specialised).toEqual(general);
					expect(shorthand).toEqual(shorthandGeneral);
				},
			),
			{ numRuns: 1500 },
		);
	});

	it("sem_ver with a literal operator and target equals sem_ver with runtime operands", () => {
		const version = fc.constantFrom<JsonValue>(
			"1.0.0",
			"v1.2",
			"V2",
			"2.0.0-rc.1",
			"1.0.0+b",
			"x",
			1.2,
			2,
			null,
			true,
			"01.0.0",
		);
		const op = fc.constantFrom<JsonValue>(
			"=",
			"!=",
			"<",
			"<=",
			">",
			">=",
			"^",
			"~",
			"===",
			1,
		);
		fc.assert(
			fc.property(version, op, version, (actual, operator, target) => {
				const context = { v: actual, op: operator, t: target };
				const specialised = run(
					{ if: [{ sem_ver: [{ var: "v" }, operator, target] }, "a", "b"] },
					context,
					variants,
				);
				const general = run(
					{
						if: [
							{ sem_ver: [{ var: "v" }, { var: "op" }, { var: "t" }] },
							"a",
							"b",
						],
					},
					context,
					variants,
				);
				expect(specialised).toEqual(general);
			}),
			{ numRuns: 1000 },
		);
	});

	it("starts_with/ends_with with a literal affix equal the runtime form", () => {
		fc.assert(
			fc.property(
				fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null)),
				fc.string({ maxLength: 3 }),
				(text, affix) => {
					for (const op of ["starts_with", "ends_with"]) {
						const context = { t: text, a: affix };
						const specialised = run(
							{ if: [{ [op]: [{ var: "t" }, affix] }, "a", "b"] },
							context,
							variants,
						);
						const general = run(
							{ if: [{ [op]: [{ var: "t" }, { var: "a" }] }, "a", "b"] },
							context,
							variants,
						);
						expect(specialised).toEqual(general);
					}
				},
			),
			{ numRuns: 500 },
		);
	});
});

describe("$flagd analysis", () => {
	it("passes the context as is when the rule cannot observe $flagd", () => {
		const rule: JsonValue = {
			if: [
				{ "==": [{ var: "$flagd.flagKey" }, "k"] },
				{ fractional: [["a", 1]] },
				{ var: "email" },
			],
		};
		const analysis = analyzeFlagdProperties(rule, "k");
		expect(analysis.needsInjectedContext).toBe(false);
		expect(analysis.usesTimestamp).toBe(false);
		expect(analysis.rule).toEqual({
			if: [{ "==": ["k", "k"] }, { fractional: [["a", 1]] }, { var: "email" }],
		});
	});

	it.each<[string, JsonValue]>([
		["the whole context", { var: "" }],
		["a null path", { var: null }],
		["a computed path", { var: { cat: ["$fl", "agd.flagKey"] } }],
		["another $flagd path", { var: "$flagd.other" }],
		["$flagd itself", { var: "$flagd" }],
		["missing on $flagd", { missing: ["$flagd.flagKey"] }],
		[
			"a parent path from an iterator",
			{ map: [[1], { var: "../$flagd.flagKey" }] },
		],
	])("injects a copied context for %s", (_name, rule) => {
		expect(analyzeFlagdProperties(rule, "k").needsInjectedContext).toBe(true);
	});

	it("rewrites $flagd.timestamp reads to the clock operator", () => {
		const analysis = analyzeFlagdProperties(
			{ ">": [{ var: "$flagd.timestamp" }, 5] },
			"k",
		);
		expect(analysis.usesTimestamp).toBe(true);
		expect(analysis.needsInjectedContext).toBe(false);
		expect(
			compileFlag(
				flag(
					{ if: [{ ">": [{ var: "$flagd.timestamp" }, 5] }, "a", "b"] },
					variants,
				),
			).targeting?.contextMode,
		).toBe("as-is");
	});

	it("gives the same answers with and without the rewrite", () => {
		const rewritten = run(
			{ cat: [{ var: "$flagd.flagKey" }, "-", { var: "x" }] },
			{ x: "y" },
			{ "k-y": 1 },
		);
		// `{"var": ""}` (the whole context) forces the copying injection for the same rule.
		const injectedRule: JsonValue = {
			cat: [
				{ var: "$flagd.flagKey" },
				"-",
				{ var: "x" },
				{ if: [{ var: "" }, "", ""] },
			],
		};
		expect(compileFlag(flag(injectedRule, {})).targeting?.contextMode).toBe(
			"injected",
		);
		const injected = run(injectedRule, { x: "y" }, { "k-y": 1 });
		expect(rewritten).toEqual({
			value: 1,
			variant: "k-y",
			reason: "TARGETING_MATCH",
			errorCode: undefined,
		});
		expect(injected.variant).toBe(rewritten.variant);
	});
});

describe("rules shared between flags", () => {
	// Flags with the same rule share one generated function; `fractional` must still hash with each flag's own
	// key, exactly as a flag compiled on its own (the interpreted engine, which shares nothing, is the reference).
	const rule: JsonValue = {
		if: [
			{ "==": [{ var: "tier" }, "gold"] },
			"a",
			{
				fractional: [
					["a", 50],
					["b", 50],
				],
			},
		],
	};
	const variants = { a: "A", b: "B" };
	const definition = (key: string): FlagDefinition => ({
		...flag(rule, variants),
		key,
	});

	it("hashes fractional with each flag's own key", () => {
		const keys = Array.from({ length: 8 }, (_, i) => `shared-${i}`);
		const compiled = keys.map((key) => compileFlag(definition(key)));
		const interpreted = keys.map((key) =>
			compileFlag(definition(key), { targetingMode: "interpreted" }),
		);
		let differ = false;
		for (let user = 0; user < 64; user++) {
			const context = { targetingKey: `user-${user}`, tier: "silver" };
			const answers = compiled.map((f) => evaluateFlag(f, "string", context));
			answers.forEach((answer, i) => {
				const reference = evaluateFlag(
					interpreted[i] as ReturnType<typeof compileFlag>,
					"string",
					context,
				);
				expect(answer.variant).toBe(reference.variant);
			});
			if (new Set(answers.map((a) => a.variant)).size > 1) differ = true;
		}
		// The keys really bucket differently, so a flag hashing with another's key would have been caught.
		expect(differ).toBe(true);
	});
});
