import {
	errorResult,
	TypedResults,
	valuelessResult,
} from "./evaluation-results.js";
import { analyzeFlagdProperties } from "./flagd-properties.js";
import type { FractionalVersion } from "./fractional-operator.js";
import {
	buildTargeting,
	type TargetingFunction,
	type TargetingMode,
} from "./targeting-engine.js";
import { findOperatorIssues } from "./targeting-operators.js";
import type {
	EvaluationResult,
	FlagDefinition,
	FlagMetadata,
	JsonValue,
} from "./types.js";

/** Options of {@link compileFlag}. */
export interface CompileFlagOptions {
	/**
	 * The `fractional` hashing scheme: "v2" is what flagd 0.15/0.16 does; "v3" hashes deterministic CBOR (accepted
	 * ADR, not yet in flagd; changes every bucket assignment). @default "v2"
	 */
	readonly fractional?: FractionalVersion;
	/**
	 * `compiled` generates a function per rule (fastest; needs `eval`/`new Function`); `interpreted` runs rules as
	 * closure trees without generating code (Cloudflare Workers, Vercel Edge, strict CSP). Results are identical.
	 * @default "compiled" where code generation is available, else "interpreted" (probed once)
	 */
	readonly targetingMode?: TargetingMode;
}

/** How targeting must see the context (decided once per flag at compile time). */
export type ContextMode = "as-is" | "injected";

/** The compiled targeting of a flag that has a usable rule. */
export interface CompiledTargeting {
	readonly run: TargetingFunction;
	/** `injected`: pass a copy of the context with `$flagd` (the rule can observe it); else the context itself. */
	readonly contextMode: ContextMode;
	/** The rule reads `$flagd.timestamp`. */
	readonly usesTimestamp: boolean;
}

/**
 * A flag prepared for evaluation: the rule is compiled once (per config load) and every possible result object is
 * precomputed lazily, so an evaluation is a map lookup plus, for targeted flags, one call of the compiled rule.
 */
export interface CompiledFlag {
	readonly definition: FlagDefinition;
	readonly key: string;
	readonly disabled: boolean;
	/** Compiled targeting; `undefined` when the flag has none (or `{}`), or when it failed to compile. */
	readonly targeting: CompiledTargeting | undefined;
	/** Set when the targeting rule could not be compiled: every evaluation returns this PARSE_ERROR result. */
	readonly parseError: EvaluationResult | undefined;
	/** Results per variant for TARGETING_MATCH, by variant name. */
	readonly matches: ReadonlyMap<string, TypedResults>;
	/** Result when there is no targeting: default variant with STATIC, or `undefined` -> {@link fallback}. */
	readonly staticResults: TypedResults | undefined;
	/** Result when targeting returns null: default variant with DEFAULT, or `undefined` -> {@link fallback}. */
	readonly defaultResults: TypedResults | undefined;
	/** Code default: reason DEFAULT without value/variant. */
	readonly fallback: EvaluationResult;
	/** Reason DISABLED without value/variant. */
	readonly disabledResult: EvaluationResult;
}

function deepFreeze<T>(value: T): T {
	if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
		Object.freeze(value);
		for (const child of Object.values(value)) deepFreeze(child);
	}
	return value;
}

function isEmptyObject(value: JsonValue | undefined): boolean {
	return (
		value !== null &&
		typeof value === "object" &&
		!Array.isArray(value) &&
		Object.keys(value).length === 0
	);
}

function errorMessageOf(error: unknown): string {
	if (error instanceof Error) return error.message;
	if (error !== null && typeof error === "object") {
		const { type, key } = error as { type?: unknown; key?: unknown };
		if (type !== undefined)
			return `${String(type)}${key === undefined ? "" : ` ${JSON.stringify(key)}`}`;
	}
	return String(error);
}

/** Compiles the rule; returns an error message instead of throwing (also for absurdly deep rules). */
function compileTargeting(
	rule: JsonValue,
	flagKey: string,
	fractional: FractionalVersion,
	mode: TargetingMode | undefined,
): CompiledTargeting | string {
	try {
		const issue = findOperatorIssues(rule)[0];
		if (issue !== undefined)
			return `${issue.message} at targeting${issue.pointer}`;
		const analysis = analyzeFlagdProperties(rule, flagKey);
		return {
			run: buildTargeting(analysis.rule, flagKey, fractional, mode),
			contextMode: analysis.needsInjectedContext ? "injected" : "as-is",
			usesTimestamp: analysis.usesTimestamp,
		};
	} catch (error: unknown) {
		return `cannot compile targeting: ${errorMessageOf(error)}`;
	}
}

/**
 * Compiles one flag definition (once per config load). A rule that cannot be compiled does not throw: the flag then
 * evaluates to PARSE_ERROR results. Variant values are deep-copied and frozen, so results cannot be mutated through
 * the definition or vice versa.
 */
export function compileFlag(
	definition: FlagDefinition,
	options: CompileFlagOptions = {},
): CompiledFlag {
	const key = definition.key;
	const metadata: FlagMetadata = Object.freeze({ ...definition.metadata });
	const matches = new Map<string, TypedResults>();
	for (const [variant, raw] of Object.entries(definition.variants)) {
		const value = deepFreeze(structuredClone(raw));
		matches.set(
			variant,
			new TypedResults({
				flagKey: key,
				variant,
				value,
				reason: "TARGETING_MATCH",
				metadata,
			}),
		);
	}
	const defaultVariant = definition.defaultVariant;
	const defaultValue =
		defaultVariant !== null &&
		Object.hasOwn(definition.variants, defaultVariant)
			? deepFreeze(
					structuredClone(definition.variants[defaultVariant] as JsonValue),
				)
			: undefined;
	const resultsFor = (reason: "STATIC" | "DEFAULT") =>
		defaultVariant === null || defaultValue === undefined
			? undefined
			: new TypedResults({
					flagKey: key,
					variant: defaultVariant,
					value: defaultValue,
					reason,
					metadata,
				});
	let targeting: CompiledTargeting | undefined;
	let parseError: EvaluationResult | undefined;
	if (
		definition.targeting !== undefined &&
		definition.targeting !== null &&
		!isEmptyObject(definition.targeting)
	) {
		const compiled = compileTargeting(
			definition.targeting,
			key,
			options.fractional ?? "v2",
			options.targetingMode,
		);
		if (typeof compiled === "string") {
			parseError = errorResult({
				flagKey: key,
				errorCode: "PARSE_ERROR",
				errorMessage: `flag "${key}": ${compiled}`,
				metadata,
			});
		} else {
			targeting = compiled;
		}
	}
	return {
		definition,
		key,
		disabled: definition.state === "DISABLED",
		targeting,
		parseError,
		matches,
		staticResults: resultsFor("STATIC"),
		defaultResults: resultsFor("DEFAULT"),
		fallback: valuelessResult(key, "DEFAULT", metadata),
		disabledResult: valuelessResult(key, "DISABLED", metadata),
	};
}
