import type { FlagValue, ResolutionDetails } from "@openfeature/core";
import { LRUCache } from "lru-cache";

/** The four OpenFeature flag types; part of every cache key so a result never answers another type. */
export type FlagValueType = "boolean" | "string" | "number" | "object";

/**
 * What the cache may do right now:
 * - `read-write`: event stream live, results can be stored and served;
 * - `read-only`: stream lost but within the grace period (STALE): serve what we have, store nothing new
 *   because change events cannot reach us;
 * - `off`: nothing is served or stored.
 */
export type CacheMode = "read-write" | "read-only" | "off";

/** Options of {@link ResultCache}. */
export interface ResultCacheOptions {
	/** Maximum number of entries (one per flag key and type). */
	maxSize: number;
	/** `false` makes the cache a permanent no-op (option `cache: "disabled"`). */
	enabled: boolean;
}

interface Entry {
	readonly type: FlagValueType;
	readonly details: ResolutionDetails<FlagValue>;
}

const STATIC = "STATIC";
const CACHED = "CACHED";
const TYPES: readonly FlagValueType[] = [
	"boolean",
	"string",
	"number",
	"object",
];

/**
 * LRU cache of STATIC evaluation results. Keyed by (type, flag key): a STATIC result does not depend on the
 * context (flagd reports STATIC only for flags without targeting), so one entry serves every caller; the type
 * in the key stops a cached boolean from answering a string request. A `generation` counter, bumped by every
 * invalidation, lets a caller drop a result whose request started before the invalidation, so an answer that
 * was in flight during a configuration change or reconnect is never stored.
 */
export class ResultCache {
	private readonly lru: LRUCache<string, Entry> | undefined;
	private mode: CacheMode = "off";
	private gen = 0;

	constructor(options: ResultCacheOptions) {
		this.lru = options.enabled
			? new LRUCache<string, Entry>({ max: options.maxSize })
			: undefined;
	}

	/** Current generation; pass it back to {@link set} to store a result fetched since then. */
	get generation(): number {
		return this.gen;
	}

	/** Current mode. */
	get currentMode(): CacheMode {
		return this.mode;
	}

	/** Number of entries. */
	get size(): number {
		return this.lru?.size ?? 0;
	}

	/** Changes what the cache may do; switching to `off` also purges it. */
	setMode(mode: CacheMode): void {
		this.mode = mode;
		if (mode === "off") this.purge();
	}

	/** A cached result with reason CACHED, or undefined. Object values are copies, so callers cannot alter the cache. */
	get<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
	): ResolutionDetails<T> | undefined {
		if (this.lru === undefined || this.mode === "off") return undefined;
		const entry = this.lru.get(cacheKey(type, flagKey));
		if (entry === undefined || entry.type !== type) return undefined;
		const value =
			type === "object"
				? structuredClone(entry.details.value)
				: entry.details.value;
		return { ...entry.details, value: value as T, reason: CACHED };
	}

	/**
	 * Stores a result if it is STATIC, the cache is `read-write` and nothing was invalidated since `generation`.
	 * Returns whether it was stored.
	 */
	set(
		type: FlagValueType,
		flagKey: string,
		details: ResolutionDetails<FlagValue>,
		generation: number,
	): boolean {
		if (this.lru === undefined || this.mode !== "read-write") return false;
		if (details.reason !== STATIC || generation !== this.gen) return false;
		const value =
			type === "object" ? structuredClone(details.value) : details.value;
		this.lru.set(cacheKey(type, flagKey), {
			type,
			details: { ...details, value },
		});
		return true;
	}

	/** Drops every entry of the given flag keys (all types). */
	invalidate(flagKeys: readonly string[]): void {
		this.gen += 1;
		if (this.lru === undefined) return;
		for (const key of flagKeys) {
			for (const type of TYPES) this.lru.delete(cacheKey(type, key));
		}
	}

	/** Drops everything. */
	purge(): void {
		this.gen += 1;
		this.lru?.clear();
	}
}

function cacheKey(type: FlagValueType, flagKey: string): string {
	// NUL cannot be typed by accident and keeps "boolean"+"x:y" distinct from "boolean:x"+"y".
	return `${type}\u0000${flagKey}`;
}
