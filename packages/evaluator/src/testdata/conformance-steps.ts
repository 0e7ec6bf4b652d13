import { expect } from "@jest/globals";
import type { GherkinCase } from "../../../../test/support/gherkin-cases.js";
import type {
	EvaluationContext,
	EvaluationResult,
	JsonValue,
	RequestedType,
} from "../types.js";

/**
 * The flagd-testbed step vocabulary (testbed.md §5) for in-process evaluation. A case runs against an
 * `evaluate(flagKey, type, context, selector)` function; provider-only steps (`a stable flagd provider`, the
 * `cache` option) are no-ops here and `selector` picks the flag source, as an in-process provider would.
 */

/** How a suite evaluates. */
export type CaseEvaluate = (
	flagKey: string,
	type: RequestedType,
	context: EvaluationContext,
	selector: string | undefined,
) => EvaluationResult;

const TYPES: Readonly<Record<string, RequestedType>> = {
	Boolean: "boolean",
	String: "string",
	Integer: "integer",
	Float: "number",
	Object: "object",
};

/** Parses a step string into the value of a gherkin type name. */
export function typedValue(typeName: string, text: string): JsonValue {
	switch (typeName) {
		case "Boolean":
			return text === "true";
		case "Integer":
		case "Float":
			return Number(text);
		case "Object":
			// The feature tables write JSON with `\"` (not a Gherkin escape, so it reaches us verbatim).
			return JSON.parse(text.replaceAll('\\"', '"')) as JsonValue;
		default:
			return text;
	}
}

interface CaseState {
	flagKey?: string;
	flagType?: string;
	defaultValue?: JsonValue;
	selector?: string;
	context: EvaluationContext;
	result?: EvaluationResult;
}

const patterns: ReadonlyArray<
	[
		RegExp,
		(
			state: CaseState,
			m: string[],
			evaluate: CaseEvaluate,
			table: readonly (readonly string[])[] | undefined,
		) => void,
	]
> = [
	[/^an evaluator$/, () => {}],
	[/^a \w+ flagd provider$/, () => {}],
	[/^an option "cache" of type "CacheType" with value "(.*)"$/, () => {}],
	[
		/^an option "selector" of type "String" with value "(.*)"$/,
		(s, m) => {
			s.selector = m[1];
		},
	],
	[
		/^a (\w+)-flag with key "(.*)" and a (?:fallback|default) value "(.*)"$/,
		(s, m) => {
			s.flagType = m[1] as string;
			s.flagKey = m[2] as string;
			s.defaultValue = typedValue(s.flagType, m[3] as string);
		},
	],
	[
		/^a context containing a key "(.*)", with type "(\w+)" and with value "(.*)"$/,
		(s, m) => {
			s.context[m[1] as string] = typedValue(m[2] as string, m[3] as string);
		},
	],
	[
		/^a context containing a targeting key with value "(.*)"$/,
		(s, m) => {
			s.context.targetingKey = m[1] as string;
		},
	],
	[
		/^a context containing a nested property with outer key "(.*)" and inner key "(.*)", with value "(.*)"$/,
		(s, m) => {
			const outer = s.context[m[1] as string];
			const inner =
				outer !== null && typeof outer === "object" && !Array.isArray(outer)
					? outer
					: {};
			s.context[m[1] as string] = {
				...inner,
				[m[2] as string]: m[3] as string,
			};
		},
	],
	[
		/^the flag was evaluated with details$/,
		(s, _m, evaluate) => {
			const type = TYPES[s.flagType ?? ""];
			if (type === undefined || s.flagKey === undefined)
				throw new Error("no flag step before evaluation");
			s.result = evaluate(s.flagKey, type, s.context, s.selector);
		},
	],
	[
		/^the resolved details value should be "(.*)"$/,
		(s, m) => {
			const result = requireResult(s);
			// OpenFeature semantics: without a value (error, DISABLED, code default) the caller's default is returned.
			const value = result.value === undefined ? s.defaultValue : result.value;
			expect(value).toEqual(typedValue(s.flagType ?? "String", m[1] as string));
		},
	],
	[
		/^the reason should be "(.*)"$/,
		(s, m) => {
			expect(requireResult(s).reason).toBe(m[1]);
		},
	],
	[
		/^the variant should be "(.*)"$/,
		(s, m) => {
			expect(requireResult(s).variant ?? "").toBe(m[1]);
		},
	],
	[
		/^the error-code should be "(.*)"$/,
		(s, m) => {
			expect(requireResult(s).errorCode ?? "").toBe(m[1]);
		},
	],
	[
		/^the resolved metadata is empty$/,
		(s) => {
			expect(Object.keys(requireResult(s).metadata)).toEqual([]);
		},
	],
	[
		/^the resolved metadata should contain$/,
		(s, _m, _e, table) => {
			const metadata = requireResult(s).metadata;
			for (const [key, type, value] of (table ?? []).slice(1)) {
				expect(metadata[key as string]).toEqual(
					typedValue(type as string, value as string),
				);
			}
		},
	],
];

function requireResult(state: CaseState): EvaluationResult {
	if (state.result === undefined) throw new Error("the flag was not evaluated");
	return state.result;
}

/** Runs every step of a case; throws (a failed expectation or an unknown step) when the case fails. */
export function runCase(testCase: GherkinCase, evaluate: CaseEvaluate): void {
	const state: CaseState = { context: {} };
	for (const step of testCase.steps) {
		const handler = patterns.find(([pattern]) => pattern.test(step.text));
		if (handler === undefined)
			throw new Error(`unsupported step: ${step.text}`);
		handler[1](
			state,
			step.text.match(handler[0]) as unknown as string[],
			evaluate,
			step.dataTable,
		);
	}
}
