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
 * A flag prepared for evaluation: the rule is compiled once (per config load); the result objects are built on
 * first use and then shared, so an evaluation is a lookup plus, for targeted flags, one call of the compiled rule.
 * Nothing beyond the rule is built at compile time: a daemon keeps thousands of flags and most of their possible
 * results (other variants, other reasons, disabled, code default) are never asked for.
 */
export interface CompiledFlag {
	readonly definition: FlagDefinition;
	readonly key: string;
	readonly disabled: boolean;
	/** Compiled targeting; `undefined` when the flag has none (or `{}`), or when it failed to compile. */
	readonly targeting: CompiledTargeting | undefined;
	/** Set when the targeting rule could not be compiled: every evaluation returns this PARSE_ERROR result. */
	readonly parseError: EvaluationResult | undefined;
	/** The flag's metadata as results carry it (frozen). */
	readonly metadata: FlagMetadata;
	/** Results of a variant with reason TARGETING_MATCH; `undefined` when the flag has no such variant. */
	matchResults(variant: string): TypedResults | undefined;
	/** Default variant with STATIC (no targeting), or `undefined` when there is none -> {@link fallback}. */
	staticResults(): TypedResults | undefined;
	/** Default variant with DEFAULT (targeting returned null), or `undefined` -> {@link fallback}. */
	defaultResults(): TypedResults | undefined;
	/** Code default: reason DEFAULT without value/variant. */
	fallback(): EvaluationResult;
	/** Reason DISABLED without value/variant. */
	disabledResult(): EvaluationResult;
}

const EMPTY_METADATA: FlagMetadata = Object.freeze({});

/** More variants than this and the built match results are found through a Map instead of a scan. */
const MATCHES_SCAN_LIMIT = 8;

/** The results built so far; one object per flag, created on the first evaluation. */
interface BuiltResults {
	/** TARGETING_MATCH results built so far: a short list, or a Map once there are many. */
	matches: TypedResults[] | Map<string, TypedResults> | undefined;
	static: TypedResults | undefined;
	default: TypedResults | undefined;
	fallback: EvaluationResult | undefined;
	disabled: EvaluationResult | undefined;
}

/** See {@link CompiledFlag}. Results are built lazily into one `BuiltResults` object. */
class LazyCompiledFlag implements CompiledFlag {
	readonly definition: FlagDefinition;
	readonly targeting: CompiledTargeting | undefined;
	readonly parseError: EvaluationResult | undefined;
	readonly metadata: FlagMetadata;
	#built: BuiltResults | undefined;

	constructor(
		definition: FlagDefinition,
		metadata: FlagMetadata,
		targeting: CompiledTargeting | undefined,
		parseError: EvaluationResult | undefined,
	) {
		this.definition = definition;
		this.metadata = metadata;
		this.targeting = targeting;
		this.parseError = parseError;
	}

	get key(): string {
		return this.definition.key;
	}

	get disabled(): boolean {
		return this.definition.state === "DISABLED";
	}

	#results(): BuiltResults {
		this.#built ??= {
			matches: undefined,
			static: undefined,
			default: undefined,
			fallback: undefined,
			disabled: undefined,
		};
		return this.#built;
	}

	#typedResults(
		variant: string,
		reason: "TARGETING_MATCH" | "STATIC" | "DEFAULT",
	): TypedResults {
		// Deep-copied and frozen on first use: results cannot be mutated through the definition or vice versa.
		const value = deepFreeze(
			structuredClone(this.definition.variants[variant] as JsonValue),
		);
		return new TypedResults({
			flagKey: this.definition.key,
			variant,
			value,
			reason,
			metadata: this.metadata,
		});
	}

	matchResults(variant: string): TypedResults | undefined {
		const built = this.#results();
		const matches = built.matches;
		if (matches instanceof Map) {
			const found = matches.get(variant);
			if (found !== undefined) return found;
		} else if (matches !== undefined) {
			for (const results of matches)
				if (results.variant === variant) return results;
		}
		if (!Object.hasOwn(this.definition.variants, variant)) return undefined;
		const created = this.#typedResults(variant, "TARGETING_MATCH");
		if (matches instanceof Map) matches.set(variant, created);
		else if (matches === undefined) built.matches = [created];
		else if (matches.length < MATCHES_SCAN_LIMIT) matches.push(created);
		else {
			const map = new Map<string, TypedResults>();
			for (const results of matches) map.set(results.variant, results);
			map.set(variant, created);
			built.matches = map;
		}
		return created;
	}

	#defaultVariant(): string | undefined {
		const variant = this.definition.defaultVariant;
		return variant !== null && Object.hasOwn(this.definition.variants, variant)
			? variant
			: undefined;
	}

	staticResults(): TypedResults | undefined {
		const built = this.#results();
		if (built.static !== undefined) return built.static;
		const variant = this.#defaultVariant();
		if (variant === undefined) return undefined;
		built.static = this.#typedResults(variant, "STATIC");
		return built.static;
	}

	defaultResults(): TypedResults | undefined {
		const built = this.#results();
		if (built.default !== undefined) return built.default;
		const variant = this.#defaultVariant();
		if (variant === undefined) return undefined;
		built.default = this.#typedResults(variant, "DEFAULT");
		return built.default;
	}

	fallback(): EvaluationResult {
		const built = this.#results();
		built.fallback ??= valuelessResult(this.key, "DEFAULT", this.metadata);
		return built.fallback;
	}

	disabledResult(): EvaluationResult {
		const built = this.#results();
		built.disabled ??= valuelessResult(this.key, "DISABLED", this.metadata);
		return built.disabled;
	}
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
 * evaluates to PARSE_ERROR results. Result values are deep copies of the variants, frozen, made when a result is
 * first built: the definition must not be changed after it was compiled (the store and the providers never do).
 */
export function compileFlag(
	definition: FlagDefinition,
	options: CompileFlagOptions = {},
): CompiledFlag {
	const key = definition.key;
	// Most flags have no metadata: they share one frozen empty object instead of a copy each.
	const metadata: FlagMetadata =
		Object.keys(definition.metadata).length === 0
			? EMPTY_METADATA
			: Object.freeze({ ...definition.metadata });
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
	return new LazyCompiledFlag(definition, metadata, targeting, parseError);
}
