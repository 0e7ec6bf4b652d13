/**
 * The state one scenario builds up step by step (cucumber's "world"), plus the step-definition type and the value
 * conversions the testbed's typed steps need ("all quoted params are strings", testbed.md §5).
 */
import type {
	Client,
	EvaluationContext,
	EvaluationDetails,
	EventDetails,
	FlagValue,
	Provider,
} from "@openfeature/server-sdk";
import type { ConformanceEnvironment } from "./conformance-environment.js";

/** Flag types of the `a <Type>-flag with key …` step. */
export type FlagType = "Boolean" | "String" | "Integer" | "Float" | "Object";

/** Event names of the event steps. */
export type EventName = "ready" | "error" | "stale" | "change";

/** One provider event a handler saw, with when it arrived. */
export interface RecordedEvent {
	readonly type: EventName;
	readonly details: EventDetails | undefined;
	readonly atMs: number;
}

/** See the file comment. A new world per scenario. */
export class ConformanceWorld {
	readonly environment: ConformanceEnvironment;
	/** Provider options from `an option …` steps (already converted to their types). */
	readonly options: Record<string, unknown> = {};
	/** Environment variables from `an environment variable …` steps (the provider sees only these). */
	readonly env: Record<string, string> = {};
	context: EvaluationContext = {};
	flag: { type: FlagType; key: string; defaultValue: FlagValue } | undefined;
	details: EvaluationDetails<FlagValue> | undefined;
	provider: Provider | undefined;
	client: Client | undefined;
	/** Result of `a config was initialized`. */
	config:
		| { ok: true; value: Readonly<Record<string, unknown>> }
		| { ok: false; error: unknown }
		| undefined;
	readonly events: RecordedEvent[] = [];
	/** Events before this index were consumed by an earlier `… was fired` / `… executed` step. */
	eventCursor = 0;
	lastConsumedEvent: RecordedEvent | undefined;
	/** When the last `the connection is lost for Ns` step started (for the timing figures). */
	outageStartedAtMs: number | undefined;
	/** Number of events recorded when that step started (later ones followed the outage). */
	outageEventIndex = 0;
	/** Outages of the scenario (`outage Ns`), printed per feature with the events that followed. */
	readonly timeline: string[] = [];

	constructor(environment: ConformanceEnvironment) {
		this.environment = environment;
	}
}

/** One step definition: a pattern over the step text and what it does (capture groups in `args`). */
export interface StepDefinition {
	readonly pattern: RegExp;
	run(
		world: ConformanceWorld,
		args: readonly string[],
		dataTable: readonly (readonly string[])[] | undefined,
	): Promise<void> | void;
}

/** The n-th capture group; the patterns guarantee it exists, so a missing one is a bug in the pattern. */
export function arg(args: readonly string[], index: number): string {
	const value = args[index];
	if (value === undefined)
		throw new Error(`step pattern has no capture group ${index}`);
	return value;
}

/** Converts a testbed option value by its declared type (String, Integer, Long, Boolean, CacheType, …). */
export function convertOptionValue(type: string, raw: string): unknown {
	switch (type) {
		case "Integer":
		case "Long":
			return parseIntStrict(raw);
		case "Boolean":
			return raw.toLowerCase() === "true";
		case "StringList":
			return raw.trim() === "" ? [] : raw.split(",").map((item) => item.trim());
		case "CacheType":
		case "ResolverType":
			return raw.toLowerCase();
		case "String":
			return raw;
		default:
			throw new Error(`unknown option type "${type}"`);
	}
}

/** Converts a flag default or expected value by flag type. */
export function convertFlagValue(type: FlagType, raw: string): FlagValue {
	switch (type) {
		case "Boolean":
			if (raw !== "true" && raw !== "false")
				throw new Error(`not a Boolean: "${raw}"`);
			return raw === "true";
		case "Integer":
			return parseIntStrict(raw);
		case "Float": {
			const value = Number(raw);
			if (raw.trim() === "" || Number.isNaN(value))
				throw new Error(`not a Float: "${raw}"`);
			return value;
		}
		case "Object":
			return JSON.parse(raw) as FlagValue;
		case "String":
			return raw;
	}
}

/** Converts a context value by its declared type (String, Integer, Float, Boolean, Object). */
export function convertContextValue(
	type: string,
	raw: string,
): EvaluationContext[string] {
	switch (type) {
		case "String":
			return raw;
		case "Integer":
			return parseIntStrict(raw);
		case "Float":
			return Number(raw);
		case "Boolean":
			return raw.toLowerCase() === "true";
		case "Object":
			return JSON.parse(raw) as EvaluationContext[string];
		default:
			throw new Error(`unknown context value type "${type}"`);
	}
}

function parseIntStrict(raw: string): number {
	if (!/^-?\d+$/.test(raw.trim())) throw new Error(`not an integer: "${raw}"`);
	return Number(raw.trim());
}

/**
 * Structural equality of JSON-like values. Unlike util.isDeepStrictEqual it ignores prototypes: values that went
 * through structuredClone (the provider's cache) come from Node's realm, not the Jest sandbox's, and are still the
 * same JSON.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (typeof a === "number" && typeof b === "number")
		return Number.isNaN(a) && Number.isNaN(b);
	if (
		typeof a !== "object" ||
		typeof b !== "object" ||
		a === null ||
		b === null
	)
		return false;
	if (Array.isArray(a) || Array.isArray(b)) {
		return (
			Array.isArray(a) &&
			Array.isArray(b) &&
			a.length === b.length &&
			a.every((v, i) => jsonEqual(v, b[i]))
		);
	}
	const aKeys = Object.keys(a);
	const bKeys = Object.keys(b);
	return (
		aKeys.length === bKeys.length &&
		aKeys.every(
			(key) =>
				Object.hasOwn(b, key) &&
				jsonEqual(
					(a as Record<string, unknown>)[key],
					(b as Record<string, unknown>)[key],
				),
		)
	);
}
