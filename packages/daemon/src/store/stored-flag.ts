/**
 * One flag as the store keeps it: compiled once per load, with its source and priority. Its flagd.sync.v1 JSON is
 * rendered when asked for (a sync snapshot renders a whole view once per store version, flag-view.ts), not kept
 * per flag: at 10,000 flags those strings were megabytes held for sync clients a daemon may never have. Change
 * detection compares definitions directly (sameObservableFlag) instead of comparing rendered strings.
 */
import {
	type CompiledFlag,
	compileFlag,
	type FlagDefinition,
	type JsonValue,
} from "@flagd-ts/evaluator";
import { redactUri } from "../logging/redact-uri.js";

export interface StoredFlag {
	readonly key: string;
	readonly flagSetId: string | undefined;
	/** Id (URI) of the source that delivered this copy. */
	readonly source: string;
	/** The source's position in the configured order: higher wins. */
	readonly priority: number;
	readonly compiled: CompiledFlag;
	/**
	 * Compact JSON of everything a client can observe about the flag (definition and source): equal fingerprints
	 * mean {@link sameObservableFlag}. Rendered on each read; the store itself compares with sameObservableFlag.
	 */
	readonly fingerprint: string;
	/** This flag's value in a flagd.sync.v1 `flag_configuration` document's `flags` map (rendered on each call). */
	syncJson(): string;
}

class StoredFlagEntry implements StoredFlag {
	readonly key: string;
	readonly flagSetId: string | undefined;
	readonly source: string;
	readonly priority: number;
	readonly compiled: CompiledFlag;

	constructor(
		compiled: CompiledFlag,
		flagSetId: string | undefined,
		source: string,
		priority: number,
	) {
		this.key = compiled.key;
		this.flagSetId = flagSetId;
		this.source = source;
		this.priority = priority;
		this.compiled = compiled;
	}

	get fingerprint(): string {
		return this.syncJson();
	}

	syncJson(): string {
		return renderSyncFlag(this.compiled.definition, this.source);
	}
}

/** Identity of a flag in the merged view: (flagSetId, key). Flags without a set share one implicit set. */
export function flagIdentity(
	flagSetId: string | undefined,
	key: string,
): string {
	// A set's identities hold \u0000 (which a set id from JSON text holds only when escaped); a key without a set
	// is its own identity (no copy of the string per flag) unless it holds \u0000 itself, and "no set" differs
	// from "".
	if (flagSetId !== undefined) return `${flagSetId}\u0000${key}`;
	return key.includes("\u0000") ? `\u0001${key}` : key;
}

/** Compiles a parsed definition into the store's form. Throws whatever `compileFlag` throws. */
export function createStoredFlag(
	definition: FlagDefinition,
	source: string,
	priority: number,
): StoredFlag {
	return new StoredFlagEntry(
		compileFlag(definition),
		definition.flagSetId,
		source,
		priority,
	);
}

/**
 * Whether a client can tell two copies of a flag apart: exactly when their sync renderings (and so their
 * fingerprints) differ, decided without rendering them. Key order counts, as it does in the rendering.
 */
export function sameObservableFlag(a: StoredFlag, b: StoredFlag): boolean {
	if (a === b) return true;
	const x = a.compiled.definition;
	const y = b.compiled.definition;
	if (x === y && a.source === b.source) return true;
	return (
		x.state === y.state &&
		(x.defaultVariant ?? "") === (y.defaultVariant ?? "") &&
		(a.source === b.source || redactUri(a.source) === redactUri(b.source)) &&
		sameJson(x.variants as JsonValue, y.variants as JsonValue) &&
		(x.targeting === undefined
			? y.targeting === undefined
			: y.targeting !== undefined && sameJson(x.targeting, y.targeting)) &&
		sameJson(x.metadata as JsonValue, y.metadata as JsonValue)
	);
}

/** Equal JSON texts: same values, same key order (JSON.stringify of parsed JSON/YAML data). */
function sameJson(x: JsonValue, y: JsonValue): boolean {
	if (x === y) return true;
	if (typeof x === "number" && typeof y === "number")
		// JSON.stringify writes every non-finite number (YAML's .inf, .nan) as null.
		return !Number.isFinite(x) && !Number.isFinite(y);
	if (
		x === null ||
		y === null ||
		typeof x !== "object" ||
		typeof y !== "object"
	)
		return false;
	if (Array.isArray(x)) {
		if (!Array.isArray(y) || x.length !== y.length) return false;
		for (let i = 0; i < x.length; i++)
			if (!sameJson(x[i] as JsonValue, y[i] as JsonValue)) return false;
		return true;
	}
	if (Array.isArray(y)) return false;
	const keysX = Object.keys(x);
	const keysY = Object.keys(y);
	if (keysX.length !== keysY.length) return false;
	for (let i = 0; i < keysX.length; i++) {
		const key = keysX[i] as string;
		if (key !== keysY[i]) return false;
		if (!sameJson(x[key] as JsonValue, y[key] as JsonValue)) return false;
	}
	return true;
}

/**
 * flagd's sync rendering of one flag (protocol §8): `key` left out, `$ref`s already inlined, `defaultVariant` as
 * `""` when there is none, `targeting` only when present, then `source` and the merged `metadata`.
 */
function renderSyncFlag(definition: FlagDefinition, source: string): string {
	const out: Record<string, unknown> = {
		state: definition.state,
		defaultVariant: definition.defaultVariant ?? "",
		variants: definition.variants,
	};
	if (definition.targeting !== undefined) out.targeting = definition.targeting;
	// The source id is the configured URI: its credentials (userinfo, query values) are not for sync clients.
	out.source = redactUri(source);
	out.metadata = definition.metadata;
	return JSON.stringify(out);
}
