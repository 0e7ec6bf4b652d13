import {
	type CompiledFlag,
	compileFlag,
	type FlagDocument,
	type TargetingMode,
} from "@flagd-ts/evaluator";

interface StoredFlag {
	/** The definition as JSON: two updates carry the same flag exactly when these are equal. */
	readonly fingerprint: string;
	readonly compiled: CompiledFlag;
}

/** Options of {@link LocalFlagStore}. */
export interface LocalFlagStoreOptions {
	/** How targeting rules run; see `@flagd-ts/evaluator`'s `targetingMode`. */
	readonly targetingMode: TargetingMode;
}

/**
 * The flag set of the in-process and file resolvers. Each update replaces the whole set (flagd's sync payloads
 * and flag files are full documents); only flags whose definition changed are compiled again, so an update
 * costs a JSON comparison per unchanged flag, and the keys added, removed or changed are reported exactly.
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
				compiled: compileFlag(definition, {
					targetingMode: this.targetingMode,
				}),
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
		return this.flags.get(key)?.compiled;
	}
}
