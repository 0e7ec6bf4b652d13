/**
 * fast-check generators of flag documents and evaluation contexts for differential tests: flags of every value
 * type, disabled flags, flags without a default variant, set and flag metadata, and targeting rules built from
 * the operators flag authors use (flagd's custom ones included), with operands of the types each operator is meant
 * for. (json-logic-engine's generated code and its interpreter disagree on rules that compare mismatched types or
 * nest comparisons in comparison operands; packages/evaluator pins those cases.)
 */
import fc from "fast-check";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const VARIANTS = ["on", "off", "blue", "green"] as const;

/** A targeting rule that evaluates to a variant name, null, or something else (then GENERAL). */
export const ruleArbitrary: fc.Arbitrary<Json> = fc.letrec((tie) => {
	const str = tie("str") as fc.Arbitrary<Json>;
	const num = tie("num") as fc.Arbitrary<Json>;
	const bool = tie("bool") as fc.Arbitrary<Json>;
	const pair = <T>(a: fc.Arbitrary<T>, b: fc.Arbitrary<T>) => fc.tuple(a, b);
	const variant = fc.constantFrom<Json>(...VARIANTS, null);
	return {
		str: fc.oneof(
			{ depthSize: "small" },
			fc.constantFrom<Json>("on", "blue", "", "@example.com", "1.2.0"),
			fc
				.constantFrom("targetingKey", "email", "version", "user.name")
				.map((name): Json => ({ var: name })),
			pair(str, str).map(([a, b]): Json => ({ cat: [a, b] })),
		),
		num: fc.oneof(
			{ depthSize: "small" },
			fc.integer({ min: -3, max: 100 }),
			fc.constant<Json>({ var: "age" }),
			pair(num, num).map(([a, b]): Json => ({ "+": [a, b] })),
		),
		bool: fc.oneof(
			{ depthSize: "small" },
			fc.boolean(),
			pair(str, str).map(([a, b]): Json => ({ "==": [a, b] })),
			pair(num, num).map(([a, b]): Json => ({ "<": [a, b] })),
			pair(num, num).map(([a, b]): Json => ({ ">=": [a, b] })),
			pair(str, str).map(([a, b]): Json => ({ in: [a, b] })),
			pair(str, str).map(([a, b]): Json => ({ starts_with: [a, b] })),
			pair(str, str).map(([a, b]): Json => ({ ends_with: [a, b] })),
			fc
				.tuple(
					str,
					fc.constantFrom("=", ">=", "<", "^", "~", "!="),
					fc.constantFrom("1.0.0", "1.2.0", "v2"),
				)
				.map(([v, op, t]): Json => ({ sem_ver: [v, op, t] })),
			fc.array(bool, { maxLength: 3 }).map((xs): Json => ({ and: xs })),
			fc.array(bool, { maxLength: 3 }).map((xs): Json => ({ or: xs })),
			bool.map((x): Json => ({ "!": x })),
		),
		rule: fc.oneof(
			fc
				.tuple(bool, variant, variant)
				.map(([c, a, b]): Json => ({ if: [c, a, b] })),
			fc
				.tuple(
					fc.option(str, { nil: undefined }),
					fc.array(
						fc.tuple(
							fc.constantFrom(...VARIANTS),
							fc.integer({ min: 0, max: 50 }),
						),
						{ minLength: 1, maxLength: 3 },
					),
				)
				.map(
					([first, buckets]): Json => ({
						fractional: [...(first === undefined ? [] : [first]), ...buckets],
					}),
				),
			str,
			bool,
		),
	};
}).rule;

const valueArbitraries: Record<string, fc.Arbitrary<Json>> = {
	boolean: fc.boolean(),
	string: fc.string({ maxLength: 6 }),
	number: fc.oneof(
		fc.integer({ min: -5, max: 5 }),
		fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }),
	),
	object: fc.dictionary(
		fc.constantFrom("a", "b"),
		fc.oneof(fc.integer(), fc.string({ maxLength: 3 })),
		{
			maxKeys: 2,
		},
	),
};

/** One flag: variants of one type, maybe a default variant, maybe targeting, maybe disabled, maybe metadata. */
const flagArbitrary: fc.Arbitrary<Json> = fc
	.constantFrom("boolean", "string", "number", "object")
	.chain((type) =>
		fc.record(
			{
				state: fc.constantFrom("ENABLED", "ENABLED", "ENABLED", "DISABLED"),
				variants: fc.record(
					Object.fromEntries(
						VARIANTS.map((v) => [
							v,
							valueArbitraries[type] as fc.Arbitrary<Json>,
						]),
					),
				),
				defaultVariant: fc.constantFrom<Json>("on", "off", null),
				targeting: ruleArbitrary,
				metadata: fc.record(
					{
						owner: fc.constantFrom("a", "b"),
						version: fc.integer({ min: 1, max: 3 }),
					},
					{ requiredKeys: [] },
				),
			},
			{ requiredKeys: ["state", "variants"] },
		),
	);

/**
 * A flag document of 1–8 flags as JSON text (keys include `__proto__`, written into the text by hand so no object
 * prototype is involved), with set metadata.
 */
export const documentArbitrary: fc.Arbitrary<{ text: string; keys: string[] }> =
	fc
		.tuple(
			fc.uniqueArray(
				fc.tuple(
					fc.constantFrom(
						"f1",
						"f2",
						"f3",
						"f4",
						"f5",
						"__proto__",
						"constructor",
						"ümlaut",
					),
					flagArbitrary,
				),
				{ minLength: 1, maxLength: 8, selector: ([key]) => key },
			),
			fc.record(
				{ flagSetId: fc.constant("set"), owner: fc.constant("set-owner") },
				{ requiredKeys: ["flagSetId"] },
			),
		)
		.map(([entries, metadata]) => ({
			keys: entries.map(([key]) => key),
			text: `{"metadata":${JSON.stringify(metadata)},"flags":{${entries
				.map(([key, flag]) => `${JSON.stringify(key)}:${JSON.stringify(flag)}`)
				.join(",")}}}`,
		}));

/** Evaluation contexts with the attributes the rules read, sometimes missing. */
export const contextArbitrary: fc.Arbitrary<Record<string, unknown>> =
	fc.record(
		{
			targetingKey: fc.string({ maxLength: 10 }),
			email: fc.constantFrom("a@example.com", "b@faas.com", "", "on"),
			version: fc.constantFrom("1.0.0", "1.2.0", "v1.3", "2.0.0-rc.1", "bad"),
			age: fc.integer({ min: -2, max: 120 }),
			user: fc.record({ name: fc.constantFrom("jack", "queen", "") }),
		},
		{ requiredKeys: ["age"] },
	);
