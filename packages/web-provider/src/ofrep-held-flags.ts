import type { OfrepBulkSnapshot, OfrepFlagItem } from "./ofrep-bulk-client.js";

/**
 * What the OFREP web provider answers from: the flags of its last bulk response (or of the persisted copy that
 * stands in for one), the set's metadata, and what the next request (ETag) and the change stream (stream URLs,
 * inactivity delay) need from it. Kept apart from the provider so that replacing it and telling which keys changed
 * is one operation.
 */
export class OfrepHeldFlags {
	#flags = new Map<string, OfrepFlagItem>();
	#snapshot: OfrepBulkSnapshot | undefined;
	/** True while the values come from persistence and the server has not confirmed them (reason CACHED). */
	cached = false;

	get(key: string): OfrepFlagItem | undefined {
		return this.#flags.get(key);
	}

	get metadata(): Record<string, unknown> {
		return this.#snapshot?.metadata ?? {};
	}

	get etag(): string | null {
		return this.#snapshot?.etag ?? null;
	}

	get streams(): readonly string[] {
		return this.#snapshot?.streams ?? [];
	}

	get inactivityDelaySec(): number | undefined {
		return this.#snapshot?.inactivityDelaySec;
	}

	/** Replaces the held flags; returns the keys whose result changed (added, altered or gone). */
	replace(snapshot: OfrepBulkSnapshot, cached: boolean): string[] {
		const next = new Map<string, OfrepFlagItem>();
		for (const item of snapshot.flags) next.set(item.key, item);
		const changed: string[] = [];
		for (const [key, item] of next) {
			const before = this.#flags.get(key);
			if (
				before === undefined ||
				JSON.stringify(before) !== JSON.stringify(item)
			) {
				changed.push(key);
			}
		}
		for (const key of this.#flags.keys()) if (!next.has(key)) changed.push(key);
		this.#flags = next;
		this.#snapshot = snapshot;
		this.cached = cached;
		return changed;
	}
}
