import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, jest } from "@jest/globals";
import fc from "fast-check";
import { testbedRoot } from "../../../test/support/gherkin-cases.js";
import { FlagEvaluator } from "./flag-evaluator.js";
import { parseFlagDocument } from "./parse-flag-document.js";
import {
	codeGenerationAvailable,
	defaultTargetingMode,
} from "./targeting-mode.js";
import {
	COMPILE_AFTER_EVALUATIONS,
	setCompileAfterEvaluations,
} from "./tiered-targeting.js";
import type {
	EvaluationContext,
	EvaluationResult,
	JsonValue,
	RequestedType,
} from "./types.js";

// Interpreted mode (no code generation) must answer exactly like compiled mode: every testbed flag and random
// rules over random contexts, compared on value, variant, reason and error code. Compiled-mode rules here are
// compiled when built (the "tiers" tests below check rules walked before they are compiled).
setCompileAfterEvaluations(0);

const TYPES: readonly RequestedType[] = [
	"boolean",
	"string",
	"number",
	"object",
	"any",
];

function comparable(result: EvaluationResult) {
	return {
		value: result.value,
		variant: result.variant,
		reason: result.reason,
		errorCode: result.errorCode,
		metadata: result.metadata,
	};
}

const contextArbitrary: fc.Arbitrary<EvaluationContext> = fc.record(
	{
		targetingKey: fc.string({ maxLength: 12 }),
		email: fc.constantFrom("a@faas.com", "b@example.com", "", "x"),
		version: fc.constantFrom("1.0.0", "2.1.0", "v1.2", "1.2.3-rc.1", "bad", ""),
		age: fc.oneof(
			fc.integer({ min: -5, max: 120 }),
			fc.double({ noNaN: true, noDefaultInfinity: true }),
		),
		tier: fc.constantFrom("gold", "silver", null, 3, true),
		tags: fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 3 }),
		user: fc.record({ name: fc.constantFrom("jack", "queen", "3", "") }),
	},
	{ requiredKeys: ["age"] },
) as fc.Arbitrary<EvaluationContext>;

/**
 * Random JsonLogic built from the operators flag authors use, flagd's custom ones included, with operands of the
 * types each operator is meant for, and no comparison inside the operand of another (see the pinned
 * differences below).
 */
const ruleArbitrary: fc.Arbitrary<JsonValue> = fc.letrec((tie) => {
	const str = tie("str") as fc.Arbitrary<JsonValue>;
	const num = tie("num") as fc.Arbitrary<JsonValue>;
	const bool = tie("bool") as fc.Arbitrary<JsonValue>;
	const pair = <T>(a: fc.Arbitrary<T>, b: fc.Arbitrary<T>) => fc.tuple(a, b);
	return {
		str: fc.oneof(
			{ depthSize: "small" },
			fc.constantFrom("on", "off", "blue", "", "a@faas.com", "1.0.0"),
			fc
				.constantFrom(
					"targetingKey",
					"email",
					"version",
					"user.name",
					"$flagd.flagKey",
				)
				.map((name) => ({ var: name }) as JsonValue),
			pair(str, str).map(([a, b]) => ({ cat: [a, b] })),
		),
		num: fc.oneof(
			{ depthSize: "small" },
			fc.integer({ min: -3, max: 100 }),
			fc.constant({ var: "age" } as JsonValue),
			pair(num, num).map(([a, b]) => ({ "+": [a, b] })),
			pair(num, fc.integer({ min: 1, max: 7 })).map(([a, b]) => ({
				"%": [a, b],
			})),
		),
		bool: fc.oneof(
			{ depthSize: "small" },
			fc.boolean(),
			pair(str, str).map(([a, b]) => ({ "==": [a, b] })),
			pair(str, str).map(([a, b]) => ({ "!==": [a, b] })),
			pair(num, num).map(([a, b]) => ({ "<": [a, b] })),
			pair(num, num).map(([a, b]) => ({ ">=": [a, b] })),
			pair(str, str).map(([a, b]) => ({ in: [a, b] })),
			pair(str, str).map(([a, b]) => ({ starts_with: [a, b] })),
			pair(str, str).map(([a, b]) => ({ ends_with: [a, b] })),
			fc
				.tuple(
					str,
					fc.constantFrom("=", ">=", "<", "^", "~", "!="),
					fc.constantFrom("1.0.0", "2.1.0", "v1", "bad"),
				)
				.map(([v, op, t]) => ({ sem_ver: [v, op, t] })),
			fc.array(bool, { maxLength: 3 }).map((xs) => ({ and: xs })),
			fc.array(bool, { maxLength: 3 }).map((xs) => ({ or: xs })),
			bool.map((x) => ({ "!": x })),
		),
		rule: fc.oneof(
			str,
			bool,
			fc.tuple(bool, str, str).map(([c, a, b]) => ({ if: [c, a, b] })),
			fc
				.tuple(
					fc.option(str, { nil: undefined }),
					fc.array(
						fc.tuple(
							fc.constantFrom("on", "off", "blue"),
							fc.integer({ min: -1, max: 60 }),
						),
						{ minLength: 1, maxLength: 3 },
					),
				)
				.map(([first, buckets]) => ({
					fractional: [...(first === undefined ? [] : [first]), ...buckets],
				})),
		),
	};
}).rule;

function documentWith(rule: JsonValue): string {
	return JSON.stringify({
		flags: {
			f: {
				state: "ENABLED",
				variants: { on: true, off: false, blue: "blue", "1": 1, true: "t" },
				defaultVariant: "off",
				targeting: rule,
			},
		},
	});
}

/**
 * Random rules, each evaluated for 1-4 random contexts and every type, must answer the same in interpreted and
 * compiled mode (where a compiled-mode rule is walked first as many times as setCompileAfterEvaluations says).
 */
function expectModesAgreeOnRandomRules(): void {
	fc.assert(
		fc.property(
			ruleArbitrary,
			fc.array(contextArbitrary, { minLength: 1, maxLength: 4 }),
			(rule, contexts) => {
				const parsed = parseFlagDocument(documentWith(rule));
				if (!parsed.ok) return;
				const compiled = new FlagEvaluator({ targetingMode: "compiled" });
				const interpreted = new FlagEvaluator({
					targetingMode: "interpreted",
				});
				compiled.setDocument(parsed);
				interpreted.setDocument(parsed);
				for (const context of contexts) {
					for (const type of TYPES) {
						expect(
							comparable(interpreted.evaluate("f", type, context)),
						).toEqual(comparable(compiled.evaluate("f", type, context)));
					}
				}
			},
		),
		{ numRuns: 400 },
	);
}

describe("targeting modes", () => {
	it("probes code generation once (available under Node)", () => {
		expect(codeGenerationAvailable()).toBe(true);
		expect(defaultTargetingMode()).toBe("compiled");
	});

	it("picks interpreted mode where code generation is forbidden, and still evaluates", () => {
		const global = globalThis as { Function: unknown; eval: unknown };
		const realFunction = global.Function;
		const realEval = global.eval;
		const forbidden = () => {
			throw new EvalError(
				"Code generation from strings disallowed for this context",
			);
		};
		try {
			global.Function = forbidden;
			global.eval = forbidden;
			jest.isolateModules(() => {
				// A fresh module instance, so the once-only probe runs under the forbidding runtime.
				const mode =
					require("./targeting-mode.js") as typeof import("./targeting-mode.js");
				const { FlagEvaluator: IsolatedEvaluator } =
					require("./flag-evaluator.js") as typeof import("./flag-evaluator.js");
				expect(mode.codeGenerationAvailable()).toBe(false);
				expect(mode.defaultTargetingMode()).toBe("interpreted");
				const evaluator = new IsolatedEvaluator();
				evaluator.setDocument(
					parseFlagDocument(
						documentWith({
							if: [{ starts_with: [{ var: "email" }, "a@"] }, "on", "off"],
						}),
					),
				);
				expect(
					evaluator.evaluate("f", "boolean", { email: "a@b" }),
				).toMatchObject({
					value: true,
					reason: "TARGETING_MATCH",
				});
			});
		} finally {
			global.Function = realFunction;
			global.eval = realEval;
		}
	});

	const flagsDir = path.join(testbedRoot(), "flags");
	const files = [
		...readdirSync(flagsDir)
			.filter((f) => f.endsWith(".json"))
			.map((f) => path.join(flagsDir, f)),
		path.join(testbedRoot(), "evaluator", "flags", "testkit-flags.json"),
	];

	it.each(files.map((f) => [path.basename(f), f]))(
		"agree on every flag of %s for generated contexts",
		(_name, file) => {
			const parsed = parseFlagDocument(readFileSync(file, "utf8"));
			const compiled = new FlagEvaluator({ targetingMode: "compiled" });
			const interpreted = new FlagEvaluator({ targetingMode: "interpreted" });
			compiled.setDocument(parsed);
			interpreted.setDocument(parsed);
			const keys = [...compiled.flags().keys()];
			fc.assert(
				fc.property(contextArbitrary, (context) => {
					for (const key of keys) {
						for (const type of TYPES) {
							const options = { nowSeconds: 1_700_000_000 };
							expect(
								comparable(interpreted.evaluate(key, type, context, options)),
							).toEqual(
								comparable(compiled.evaluate(key, type, context, options)),
							);
						}
					}
				}),
				{ numRuns: 60 },
			);
		},
	);

	it.each([
		// json-logic-engine's interpreter raises an error for comparison operands that are not numbers; its generated
		// code does too since `var` compiles to a call (own-property reads), so both paths agree here now.
		[{ "<": ["on", { var: "n" }] }, { n: 3 }, "PARSE_ERROR", "PARSE_ERROR"],
		// Its generated code shares one `prev` variable between nested comparisons, so an inner comparison in the
		// operand of an outer one changes what the outer compares; the interpreter evaluates them independently.
		[
			{
				"==": [{ var: "k" }, { if: [{ "<": [0, { var: "n" }] }, "on", "on"] }],
			},
			{ n: 0 },
			"PARSE_ERROR",
			"GENERAL",
		],
	] as const)(
		"pinned json-logic-engine difference between its two paths: %j with %j",
		(rule, context, compiledCode, interpretedCode) => {
			const parsed = parseFlagDocument(
				documentWith(rule as unknown as JsonValue),
			);
			const compiled = new FlagEvaluator({ targetingMode: "compiled" });
			const interpreted = new FlagEvaluator({ targetingMode: "interpreted" });
			compiled.setDocument(parsed);
			interpreted.setDocument(parsed);
			expect(compiled.evaluate("f", "any", context).errorCode).toBe(
				compiledCode,
			);
			expect(interpreted.evaluate("f", "any", context).errorCode).toBe(
				interpretedCode,
			);
		},
	);

	it("agree on random rules and contexts", () => {
		expectModesAgreeOnRandomRules();
	});
});

describe("tiers of a compiled-mode rule", () => {
	// A rule is walked for its first evaluations and compiled after them: its answers must not change when it does.
	it("answer the same walked and compiled, on random rules and contexts", () => {
		setCompileAfterEvaluations(3);
		try {
			// 5 types per context: the rule is walked 3 times and then runs compiled.
			expectModesAgreeOnRandomRules();
		} finally {
			setCompileAfterEvaluations(0);
		}
	});

	it("compiles at once a rule whose generated code answers differently from the walk", () => {
		setCompileAfterEvaluations(COMPILE_AFTER_EVALUATIONS);
		try {
			const parsed = parseFlagDocument(
				documentWith({
					"==": [
						{ var: "k" },
						{ if: [{ "<": [0, { var: "n" }] }, "on", "on"] },
					],
				}),
			);
			const evaluator = new FlagEvaluator({ targetingMode: "compiled" });
			evaluator.setDocument(parsed);
			for (let i = 0; i <= COMPILE_AFTER_EVALUATIONS + 1; i++) {
				expect(evaluator.evaluate("f", "any", { n: 0 }).errorCode).toBe(
					"PARSE_ERROR",
				);
			}
		} finally {
			setCompileAfterEvaluations(0);
		}
	});

	it("serve a rule evaluated more often than the threshold, with each flag's fractional key", () => {
		setCompileAfterEvaluations(COMPILE_AFTER_EVALUATIONS);
		try {
			const rule = {
				// Implicit bucketing key: the flag key goes into the hash.
				fractional: [
					["a", 50],
					["b", 50],
				],
			};
			const document = JSON.stringify({
				flags: Object.fromEntries(
					["f1", "f2"].map((key) => [
						key,
						{
							state: "ENABLED",
							variants: { a: "A", b: "B" },
							defaultVariant: "a",
							targeting: rule,
						},
					]),
				),
			});
			const tiered = new FlagEvaluator({ targetingMode: "compiled" });
			const interpreted = new FlagEvaluator({ targetingMode: "interpreted" });
			tiered.setDocument(parseFlagDocument(document));
			interpreted.setDocument(parseFlagDocument(document));
			for (let i = 0; i < 3 * COMPILE_AFTER_EVALUATIONS; i++) {
				for (const key of ["f1", "f2"]) {
					const context = { targetingKey: `user-${i}` };
					expect(comparable(tiered.evaluate(key, "string", context))).toEqual(
						comparable(interpreted.evaluate(key, "string", context)),
					);
				}
			}
		} finally {
			setCompileAfterEvaluations(0);
		}
	});
});
