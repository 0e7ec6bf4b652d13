/**
 * Encoded answers kept per flag-store version: an answer is rendered once and replayed while the flags it was
 * computed from are unchanged. The first lookup with a newer version drops everything, so a stale answer is never
 * served. Bounded in entries and in bytes (keys include client input, so an attacker varying requests only churns
 * the cache), on lru-cache.
 */
import { LRUCache } from "lru-cache";

/** Something the cache can size. */
export interface SizedAnswer {
	/** Approximate retained bytes (the encoded body, mostly). */
	readonly bytes: number;
}

export interface AnswerCacheOptions {
	/** @default 1_000 */
	readonly maxEntries?: number;
	/** Keys' and answers' bytes together. @default 8 MiB */
	readonly maxBytes?: number;
}

/** See the file comment. */
export class AnswerCache<V extends SizedAnswer> {
	readonly #entries: LRUCache<string, V>;
	#version = -1;

	constructor(options: AnswerCacheOptions = {}) {
		this.#entries = new LRUCache<string, V>({
			max: options.maxEntries ?? 1_000,
			maxSize: options.maxBytes ?? 8 * 1024 * 1024,
			sizeCalculation: (value, key) => Math.max(1, value.bytes + key.length),
		});
	}

	/** The answer stored for `key` at `version`, if any. */
	get(version: number, key: string): V | undefined {
		if (version !== this.#version) {
			if (version > this.#version) this.#advance(version);
			return undefined;
		}
		return this.#entries.get(key);
	}

	/** Stores an answer computed at `version` (ignored when a newer version has been seen since). */
	set(version: number, key: string, value: V): void {
		if (version < this.#version) return;
		if (version > this.#version) this.#advance(version);
		this.#entries.set(key, value);
	}

	get size(): number {
		return this.#entries.size;
	}

	#advance(version: number): void {
		this.#entries.clear();
		this.#version = version;
	}
}
