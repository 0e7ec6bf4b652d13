import {
	type CompiledFlag,
	compileFlag,
	type FlagDefinition,
	type FlagDocument,
	type TargetingMode,
} from "@flagd-ts/evaluator";

interface StoredFlag {
	/** The definition as JSON: two updates carry the same flag exactly when these are equal. */
	readonly fingerprint: string;
	readonly definition: FlagDefinition;
	/** Compiled on first evaluation (compileFlag never throws; a bad rule compiles to PARSE_ERROR results). */
	compiled: CompiledFlag | undefined;
}

/** Options of {@link LocalFlagStore}. */
export interface LocalFlagStoreOptions {
	/** How targeting rules run; see `@flagd-ts/evaluator`'s `targetingMode`. */
	readonly targetingMode: TargetingMode;
}

/**
 * The flag set of the in-process and file resolvers. Each update replaces the whole set (flagd's sync payloads
 * and flag files are full documents). A flag is compiled when it is first evaluated after it changed, so applying
 * an update costs a JSON comparison per flag (a 10,000-flag update does not compile 10,000 rules up front, and
 * flags nobody evaluates are never compiled); the keys added, removed or changed are reported exactly.
 */
export class LocalFlagStore {
	private flags = new Map<string, StoredFlag>();
	private everLoaded = false;
	private readonly targetingMode: TargetingMode;

	constructor(options: LocalFlagStoreOptions) {
		this.targetingMode = options.targetingMode;
	}

	/** Whether a flag set was ever applied (before that, evaluations are not ready, rather than not found). */
	get loaded(): boolean {
		return this.everLoaded;
	}

	get size(): number {
		return this.flags.size;
	}

	/**
	 * Replaces the flag set with `document` and returns the keys added, removed or changed, sorted. A key held by
	 * several flag sets of the document resolves to the last one, as in flagd's merged payload.
	 */
	apply(document: FlagDocument): string[] {
		const next = new Map<string, StoredFlag>();
		const changed: string[] = [];
		for (const definition of document.flags) {
			const fingerprint = JSON.stringify(definition);
			const previous =
				next.get(definition.key) ?? this.flags.get(definition.key);
			if (previous?.fingerprint === fingerprint) {
				next.set(definition.key, previous);
				continue;
			}
			next.set(definition.key, {
				fingerprint,
				definition,
				compiled: undefined,
			});
		}
		for (const [key, flag] of next) {
			if (this.flags.get(key) !== flag) changed.push(key);
		}
		for (const key of this.flags.keys()) {
			if (!next.has(key)) changed.push(key);
		}
		this.flags = next;
		this.everLoaded = true;
		return changed.sort();
	}

	/** The compiled flag of `key`, if the set has it. */
	get(key: string): CompiledFlag | undefined {
		const flag = this.flags.get(key);
		if (flag === undefined) return undefined;
		flag.compiled ??= compileFlag(flag.definition, {
			targetingMode: this.targetingMode,
		});
		return flag.compiled;
	}
}
