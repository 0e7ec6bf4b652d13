/**
 * One flag as the store keeps it: compiled once per load, with its source and priority, plus the two strings the
 * daemon needs repeatedly (a fingerprint for change detection and the flag's flagd.sync.v1 JSON), computed once
 * per load so neither diffing nor sync snapshots re-serialise definitions.
 */
import {
	type CompiledFlag,
	compileFlag,
	type FlagDefinition,
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
	/** Compact JSON of everything a client can observe about the flag (definition and source). */
	readonly fingerprint: string;
	/** This flag's value in a flagd.sync.v1 `flag_configuration` document's `flags` map. */
	readonly syncJson: string;
}

/** Identity of a flag in the merged view: (flagSetId, key). Flags without a set share one implicit set. */
export function flagIdentity(
	flagSetId: string | undefined,
	key: string,
): string {
	// \u0000 cannot occur in a set id that came from JSON text without escaping, and "no set" must differ from "".
	return flagSetId === undefined ? `\u0001${key}` : `${flagSetId}\u0000${key}`;
}

/** Compiles a parsed definition into the store's form. Throws whatever `compileFlag` throws. */
export function createStoredFlag(
	definition: FlagDefinition,
	source: string,
	priority: number,
): StoredFlag {
	const compiled = compileFlag(definition);
	const syncJson = renderSyncFlag(definition, source);
	return {
		key: definition.key,
		flagSetId: definition.flagSetId,
		source,
		priority,
		compiled,
		fingerprint: syncJson,
		syncJson,
	};
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
