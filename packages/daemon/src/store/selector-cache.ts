/**
 * A bounded cache of parsed selectors, so the request path parses each distinct `Flagd-Selector` value once.
 * Bounded because header values come from clients: an attacker sending random selectors must not grow memory.
 */
import { parseSelector, SELECT_ALL, type Selector } from "./selector.js";

export interface SelectorCacheOptions {
	/** Distinct selector strings kept; the oldest is dropped beyond this. @default 1024 */
	readonly maxEntries?: number;
}

/** Parses and caches selectors; `get` throws the same DaemonError `SELECTOR_INVALID` as `parseSelector`. */
export class SelectorCache {
	readonly #entries = new Map<string, Selector>();
	readonly #maxEntries: number;

	constructor(options: SelectorCacheOptions = {}) {
		this.#maxEntries = options.maxEntries ?? 1024;
	}

	get(input: string | undefined | null): Selector {
		if (input === undefined || input === null || input === "") {
			return SELECT_ALL;
		}
		const cached = this.#entries.get(input);
		if (cached !== undefined) return cached;
		const parsed = parseSelector(input);
		if (this.#entries.size >= this.#maxEntries) {
			const oldest = this.#entries.keys().next();
			if (oldest.done !== true) this.#entries.delete(oldest.value);
		}
		this.#entries.set(input, parsed);
		return parsed;
	}
}
