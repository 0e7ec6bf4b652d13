/**
 * The flags one selector sees, derived from the merged store state and cached until the next change. Lookups
 * are one Map read; bulk APIs iterate `list`, sorted by (flagSetId, key) as flagd orders bulk results.
 */
import type { Selector } from "./selector.js";
import { type StoredFlag, sameObservableFlag } from "./stored-flag.js";

export interface FlagView {
	readonly selector: Selector;
	/** Store version this view was derived from. */
	readonly version: number;
	/** One entry per (flagSetId, key), sorted by flagSetId ("" for none) then key. */
	readonly list: readonly StoredFlag[];
	/** Lookup by key; when several sets hold the key, the copy from the highest-priority source. */
	readonly byKey: ReadonlyMap<string, StoredFlag>;
	/** The flagd.sync.v1 `flag_configuration` JSON of this view (built on first use). */
	syncDocument(): string;
}

/** Keys that differ between two views of the same selector. */
export interface FlagChanges {
	readonly added: readonly string[];
	readonly updated: readonly string[];
	readonly deleted: readonly string[];
}

export function createFlagView(
	selector: Selector,
	version: number,
	flags: Iterable<StoredFlag>,
): FlagView {
	const list = [...flags].sort(compareFlags);
	const byKey = new Map<string, StoredFlag>();
	for (const flag of list) {
		const current = byKey.get(flag.key);
		if (current === undefined || flag.priority >= current.priority) {
			byKey.set(flag.key, flag);
		}
	}
	let syncDocument: string | undefined;
	return {
		selector,
		version,
		list,
		byKey,
		syncDocument() {
			syncDocument ??= renderSyncDocument(byKey);
			return syncDocument;
		},
	};
}

/** Added, updated and deleted keys from `before` to `after` (by key, as EventStream reports them). */
export function diffViews(
	before: FlagView | undefined,
	after: FlagView,
): FlagChanges {
	const added: string[] = [];
	const updated: string[] = [];
	const deleted: string[] = [];
	const old = before?.byKey;
	for (const [key, flag] of after.byKey) {
		const previous = old?.get(key);
		if (previous === undefined) added.push(key);
		else if (
			previous !== flag &&
			(previous.flagSetId !== flag.flagSetId ||
				!sameObservableFlag(previous, flag))
		) {
			updated.push(key);
		}
	}
	if (old !== undefined) {
		for (const key of old.keys()) {
			if (!after.byKey.has(key)) deleted.push(key);
		}
	}
	return { added, updated, deleted };
}

/** True when a diff holds no change. */
export function isEmptyChange(changes: FlagChanges): boolean {
	return (
		changes.added.length === 0 &&
		changes.updated.length === 0 &&
		changes.deleted.length === 0
	);
}

function compareFlags(a: StoredFlag, b: StoredFlag): number {
	const setA = a.flagSetId ?? "";
	const setB = b.flagSetId ?? "";
	if (setA !== setB) return setA < setB ? -1 : 1;
	if (a.key !== b.key) return a.key < b.key ? -1 : 1;
	return a.priority - b.priority;
}

function renderSyncDocument(byKey: ReadonlyMap<string, StoredFlag>): string {
	// The sync document is a map by key: the same key in several sets collapses to the copy lookups would use.
	const parts: string[] = [];
	for (const [key, flag] of byKey) {
		parts.push(`${JSON.stringify(key)}:${flag.syncJson()}`);
	}
	return `{"flags":{${parts.join(",")}}}`;
}
