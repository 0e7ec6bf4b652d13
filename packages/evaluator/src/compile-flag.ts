import { buildTargeting } from "./build-targeting.js";
import {
	errorResult,
	TypedResults,
	valuelessResult,
} from "./evaluation-results.js";
import { analyzeFlagdProperties } from "./flagd-properties.js";
import type { FractionalVersion } from "./fractional-operator.js";
import type { TargetingFunction } from "./targeting-engine.js";
import type { TargetingMode } from "./targeting-mode.js";
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

/** The results built so far, once a flag needed more than one kind. */
interface BuiltResults {
	/** TARGETING_MATCH results built so far: a short list, or a Map once there are many. */
	matches: TypedResults[] | Map<string, TypedResults> | undefined;
	static: TypedResults | undefined;
	default: TypedResults | undefined;
	fallback: EvaluationResult | undefined;
	disabled: EvaluationResult | undefined;
}

type BuildableReason = "TARGETING_MATCH" | "STATIC" | "DEFAULT";

/**
 * See {@link CompiledFlag}. Results are built lazily. Most flags only ever need one TypedResults (a static flag
 * its STATIC results, a targeted flag asked with one context one variant): that one is kept as it is, and a
 * `BuiltResults` record is made only when a second kind is needed.
 */
class LazyCompiledFlag implements CompiledFlag {
	readonly definition: FlagDefinition;
	readonly targeting: CompiledTargeting | undefined;
	readonly parseError: EvaluationResult | undefined;
	readonly metadata: FlagMetadata;
	#built: TypedResults | BuiltResults | undefined;

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

	/** The record of built results, made from the single kept TypedResults when needed. */
	#record(): BuiltResults {
		const built = this.#built;
		if (built !== undefined && !(built instanceof TypedResults)) return built;
		const record: BuiltResults = {
			matches: undefined,
			static: undefined,
			default: undefined,
			fallback: undefined,
			disabled: undefined,
		};
		this.#built = record;
		if (built !== undefined) this.#place(record, built);
		return record;
	}

	#place(record: BuiltResults, results: TypedResults): void {
		if (results.reason === "STATIC") record.static = results;
		else if (results.reason === "DEFAULT") record.default = results;
		else {
			const matches = record.matches;
			if (matches instanceof Map) matches.set(results.variant, results);
			else if (matches === undefined) record.matches = [results];
			else if (matches.length < MATCHES_SCAN_LIMIT) matches.push(results);
			else {
				const map = new Map<string, TypedResults>();
				for (const kept of matches) map.set(kept.variant, kept);
				map.set(results.variant, results);
				record.matches = map;
			}
		}
	}

	#find(reason: BuildableReason, variant: string): TypedResults | undefined {
		const built = this.#built;
		if (built === undefined) return undefined;
		if (built instanceof TypedResults)
			// STATIC and DEFAULT results are always of the default variant.
			return built.reason === reason &&
				(reason !== "TARGETING_MATCH" || built.variant === variant)
				? built
				: undefined;
		if (reason === "STATIC") return built.static;
		if (reason === "DEFAULT") return built.default;
		const matches = built.matches;
		if (matches instanceof Map) return matches.get(variant);
		if (matches !== undefined)
			for (const results of matches)
				if (results.variant === variant) return results;
		return undefined;
	}

	/** The results of (variant, reason), built and kept on first use; the variant must exist. */
	#results(variant: string, reason: BuildableReason): TypedResults {
		const found = this.#find(reason, variant);
		if (found !== undefined) return found;
		// Deep-copied and frozen on first use: results cannot be mutated through the definition or vice versa.
		const value = deepFreeze(
			structuredClone(this.definition.variants[variant] as JsonValue),
		);
		const created = new TypedResults({
			flagKey: this.definition.key,
			variant,
			value,
			reason,
			metadata: this.metadata,
		});
		if (this.#built === undefined) this.#built = created;
		else this.#place(this.#record(), created);
		return created;
	}

	matchResults(variant: string): TypedResults | undefined {
		const found = this.#find("TARGETING_MATCH", variant);
		if (found !== undefined) return found;
		if (!Object.hasOwn(this.definition.variants, variant)) return undefined;
		return this.#results(variant, "TARGETING_MATCH");
	}

	#defaultVariant(): string | undefined {
		const variant = this.definition.defaultVariant;
		return variant !== null && Object.hasOwn(this.definition.variants, variant)
			? variant
			: undefined;
	}

	staticResults(): TypedResults | undefined {
		const found = this.#find("STATIC", "");
		if (found !== undefined) return found;
		const variant = this.#defaultVariant();
		return variant === undefined ? undefined : this.#results(variant, "STATIC");
	}

	defaultResults(): TypedResults | undefined {
		const found = this.#find("DEFAULT", "");
		if (found !== undefined) return found;
		const variant = this.#defaultVariant();
		return variant === undefined
			? undefined
			: this.#results(variant, "DEFAULT");
	}

	fallback(): EvaluationResult {
		const record = this.#record();
		record.fallback ??= valuelessResult(this.key, "DEFAULT", this.metadata);
		return record.fallback;
	}

	disabledResult(): EvaluationResult {
		const record = this.#record();
		record.disabled ??= valuelessResult(this.key, "DISABLED", this.metadata);
		return record.disabled;
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
