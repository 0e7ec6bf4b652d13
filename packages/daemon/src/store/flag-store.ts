/**
 * The daemon's flag state: each source's flags kept separately (compiled), and a merged view derived from them in
 * priority order (later sources win on the same (flagSetId, key)). Because the merge is recomputed from every
 * source's own copy, a flag dropped by a higher-priority source re-exposes the lower copy at once ("resync on
 * delete by construction", flagd#1809). No `node:` imports: the store can move to its own package.
 *
 * Validation policy (docs/configuration.md, "Invalid flags"): a flag that cannot be used (invalid state or variants,
 * a `defaultVariant` naming no variant, a definition that does not compile) is left out and named once in the log;
 * the source's other flags are served and the source counts as synced. A problem of the document itself (not a
 * flag document, no `flags`) rejects the whole payload, and so does any finding under `--strict-validation`.
 */
import { DaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import { redactUri } from "../logging/redact-uri.js";
import {
	createFlagView,
	diffViews,
	type FlagChanges,
	type FlagView,
	isEmptyChange,
} from "./flag-view.js";
import { SELECT_ALL, type Selector } from "./selector.js";
import {
	changedFlagKeys,
	compileFlags,
	describe,
	logInvalidFlags,
	parsePayload,
	type StoreUpdate,
} from "./store-payload.js";
import type { StoredFlag } from "./stored-flag.js";

export type { StoreUpdate } from "./store-payload.js";

export interface FlagStoreOptions {
	/** Source ids (URIs) in priority order: later wins. */
	readonly sources: readonly string[];
	readonly logger: Logger;
	/** Reject documents with schema findings instead of warning. @default false */
	readonly strictValidation?: boolean;
	/** Distinct selector views kept cached. @default 256 */
	readonly maxCachedViews?: number;
}

/** Outcome of applying one update: a value, never an exception (C20). */
export type ApplyResult =
	| {
			readonly ok: true;
			readonly changed: boolean;
			/** Flags the source now holds (for sync spans and logs). */
			readonly flagCount: number;
			/** Identities added, updated or removed by this payload. */
			readonly changedKeyCount: number;
			/** Their flag keys (`set/key` for a flag in a flag set), in document order, then removed ones. */
			readonly changedKeys: readonly string[];
			/** Flags of the payload left out as invalid (each already named in the log). */
			readonly invalidFlagKeys: readonly string[];
	  }
	| { readonly ok: false; readonly error: DaemonError };

/** Receives the precise changes of one selector's view. */
export type FlagChangeListener = (changes: FlagChanges, view: FlagView) => void;

/** All listeners of one selector share one baseline view, so a change is diffed once per selector, not per stream. */
interface SubscriptionGroup {
	readonly selector: Selector;
	readonly listeners: Set<FlagChangeListener>;
	last: FlagView;
}

interface SourceState {
	readonly priority: number;
	/** Flags of the last good payload, by identity. */
	flags: ReadonlyMap<string, StoredFlag>;
	/** The last good payload's text, to skip unchanged polls cheaply. */
	lastText: string | undefined;
	/** Flags of the last good payload left out as invalid. */
	invalidFlagKeys: readonly string[];
	ready: boolean;
}

/** See the file comment. */
export class FlagStore {
	readonly #logger: Logger;
	readonly #strict: boolean;
	readonly #maxCachedViews: number;
	readonly #sources = new Map<string, SourceState>();
	readonly #views = new Map<string, FlagView>();
	readonly #groups = new Map<string, SubscriptionGroup>();
	readonly #readyWaiters = new Set<() => void>();
	#merged: ReadonlyMap<string, StoredFlag> = new Map();
	#version = 0;

	constructor(options: FlagStoreOptions) {
		this.#logger = options.logger;
		this.#strict = options.strictValidation ?? false;
		this.#maxCachedViews = options.maxCachedViews ?? 256;
		options.sources.forEach((source, priority) => {
			this.#sources.set(source, {
				priority,
				flags: new Map(),
				lastText: undefined,
				invalidFlagKeys: [],
				ready: false,
			});
		});
	}

	/** Increments whenever the merged state changes. */
	get version(): number {
		return this.#version;
	}

	/** Source ids in priority order. */
	get sources(): readonly string[] {
		return [...this.#sources.keys()];
	}

	/** True once every configured source delivered a valid payload (readiness, /readyz). */
	isReady(): boolean {
		for (const state of this.#sources.values()) if (!state.ready) return false;
		return true;
	}

	/**
	 * Resolves true once the store is ready, or false after `timeoutMs` or when `signal` aborts. The sync service
	 * waits on this so a downstream daemon's first snapshot is not an empty store (flagd waits up to 5 s as well).
	 */
	waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
		if (this.isReady()) return Promise.resolve(true);
		if (signal?.aborted === true) return Promise.resolve(false);
		return new Promise((resolve) => {
			const finish = (ready: boolean) => {
				clearTimeout(timer);
				signal?.removeEventListener("abort", onAbort);
				this.#readyWaiters.delete(onReady);
				resolve(ready);
			};
			const onReady = () => finish(true);
			const onAbort = () => finish(false);
			const timer = setTimeout(() => finish(false), timeoutMs);
			signal?.addEventListener("abort", onAbort);
			this.#readyWaiters.add(onReady);
		});
	}

	/** Whether one source delivered a valid payload. */
	isSourceReady(source: string): boolean {
		return this.#sources.get(source)?.ready ?? false;
	}

	/**
	 * Replaces a source's flags with one snapshot. Invalid input (parse failure, failed validation, a definition
	 * that fails to compile, an unknown source) keeps that source's last good flags and logs one line naming it.
	 */
	apply(update: StoreUpdate): ApplyResult {
		const state = this.#sources.get(update.source);
		if (state === undefined) {
			return this.#reject(
				update.source,
				`unknown source "${redactUri(update.source)}"`,
			);
		}
		const text =
			typeof update.content === "string" ? update.content : undefined;
		if (text !== undefined && state.ready && text === state.lastText) {
			return {
				ok: true,
				changed: false,
				flagCount: state.flags.size,
				changedKeyCount: 0,
				changedKeys: [],
				invalidFlagKeys: state.invalidFlagKeys,
			};
		}
		const parsed = parsePayload(update, this.#strict, this.#logger);
		if (!parsed.ok) return this.#reject(update.source, parsed.message);
		const { flags, invalid } = compileFlags(
			parsed.document,
			update.source,
			state.priority,
		);
		const problems = [...parsed.invalidFlags, ...invalid];
		if (problems.length > 0)
			logInvalidFlags(this.#logger, update.source, problems);
		const invalidFlagKeys = [...new Set(problems.map((p) => p.key))];
		const changedKeys = changedFlagKeys(state.flags, flags);
		const changedKeyCount = changedKeys.length;
		const changed = changedKeyCount > 0;
		state.invalidFlagKeys = invalidFlagKeys;
		const becameReady = !state.ready;
		state.flags = flags;
		state.lastText = text;
		state.ready = true;
		if (changed) this.#commit();
		if (becameReady && this.isReady()) this.#wakeReadyWaiters();
		return {
			ok: true,
			changed,
			flagCount: flags.size,
			changedKeyCount,
			changedKeys,
			invalidFlagKeys,
		};
	}

	/** Drops a source's flags (e.g. a source removed at runtime); lower copies are exposed again at once. */
	clearSource(source: string): void {
		const state = this.#sources.get(source);
		if (state === undefined || state.flags.size === 0) return;
		state.flags = new Map();
		state.lastText = undefined;
		this.#commit();
	}

	/** The current view for a selector: cached until the next change, so lookups are Map reads. */
	view(selector: Selector = SELECT_ALL): FlagView {
		const cached = this.#views.get(selector.key);
		if (cached !== undefined && cached.version === this.#version) return cached;
		const view = createFlagView(
			selector,
			this.#version,
			this.#select(selector),
		);
		if (cached === undefined && this.#views.size >= this.#maxCachedViews) {
			const oldest = this.#views.keys().next();
			if (oldest.done !== true) this.#views.delete(oldest.value);
		}
		this.#views.set(selector.key, view);
		return view;
	}

	/** One flag by key in a selector's view. */
	get(key: string, selector: Selector = SELECT_ALL): StoredFlag | undefined {
		return this.view(selector).byKey.get(key);
	}

	/**
	 * Calls `listener` with the precise added/updated/deleted keys of `selector`'s view after every change that
	 * touches it (an unchanged payload calls nothing). Returns the unsubscribe function.
	 */
	subscribe(selector: Selector, listener: FlagChangeListener): () => void {
		let group = this.#groups.get(selector.key);
		if (group === undefined) {
			group = { selector, listeners: new Set(), last: this.view(selector) };
			this.#groups.set(selector.key, group);
		}
		// Every commit advances every group, so `last` is the current view and a new listener's baseline.
		const joined = group;
		const wrapped: FlagChangeListener = (changes, view) =>
			listener(changes, view);
		joined.listeners.add(wrapped);
		return () => {
			joined.listeners.delete(wrapped);
			if (
				joined.listeners.size === 0 &&
				this.#groups.get(selector.key) === joined
			) {
				this.#groups.delete(selector.key);
			}
		};
	}

	/**
	 * A rejected payload. Logged here when the source has good flags to keep; a source's first payload is the
	 * caller's to report (the daemon treats it as a startup failure), so it is not logged twice.
	 */
	#reject(source: string, message: string, cause?: unknown): ApplyResult {
		const label = redactUri(source);
		const hasFlags = this.#sources.get(source)?.ready === true;
		const error = new DaemonError(
			"SOURCE_PAYLOAD_INVALID",
			hasFlags
				? `source ${label}: ${message}; keeping its last good flags`
				: `source ${label}: ${message}`,
			{ cause },
		);
		if (hasFlags) this.#logger.warn({ source: label }, error.message);
		return { ok: false, error };
	}

	#commit(): void {
		if (this.#sources.size === 1) {
			// One source: its map is the merged state (source maps are replaced, never changed, so it can be shared).
			for (const state of this.#sources.values()) this.#merged = state.flags;
		} else {
			const merged = new Map<string, StoredFlag>();
			// Sources are iterated in priority order, so a later source overwrites the same identity.
			for (const state of this.#sources.values()) {
				for (const [identity, flag] of state.flags) merged.set(identity, flag);
			}
			this.#merged = merged;
		}
		this.#version++;
		this.#notify();
	}

	#wakeReadyWaiters(): void {
		for (const wake of [...this.#readyWaiters]) wake();
	}

	#notify(): void {
		for (const group of [...this.#groups.values()]) {
			const view = this.view(group.selector);
			const changes = diffViews(group.last, view);
			group.last = view;
			if (isEmptyChange(changes)) continue;
			for (const listener of [...group.listeners]) {
				try {
					listener(changes, view);
				} catch (e: unknown) {
					this.#logger.error(
						{ selector: group.selector.key, err: e },
						`flag change listener failed: ${describe(e)}`,
					);
				}
			}
		}
	}

	#select(selector: Selector): Iterable<StoredFlag> {
		switch (selector.kind) {
			case "all":
				return this.#merged.values();
			case "source":
				return this.#sources.get(selector.source)?.flags.values() ?? [];
			case "flagSet": {
				const out: StoredFlag[] = [];
				for (const flag of this.#merged.values()) {
					if (flag.flagSetId === selector.flagSetId) out.push(flag);
				}
				return out;
			}
		}
	}
}
