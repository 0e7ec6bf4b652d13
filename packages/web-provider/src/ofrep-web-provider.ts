import {
	type EvaluationContext,
	type FlagValue,
	type JsonValue,
	OpenFeatureEventEmitter,
	type Provider,
	ProviderEvents,
	ProviderFatalError,
	type ResolutionDetails,
} from "@openfeature/web-sdk";
import {
	fetchOfrepBulk,
	type OfrepBulkSnapshot,
	type OfrepRefetchHint,
	OfrepRequestError,
} from "./ofrep-bulk-client.js";
import { OfrepChangeStream } from "./ofrep-change-stream.js";
import {
	defaultStorage,
	type KeyValueStorage,
	OfrepFlagStore,
} from "./ofrep-flag-store.js";
import { OfrepHeldFlags } from "./ofrep-held-flags.js";
import { OfrepProviderHealth } from "./ofrep-provider-health.js";
import { toResolution } from "./ofrep-resolution.js";
import {
	type OfrepWebProviderConfig,
	type OfrepWebProviderOptions,
	resolveOfrepWebProviderOptions,
	toHeaderPairs,
} from "./ofrep-web-provider-options.js";

/** Test seams: browser APIs the provider uses, defaulting to the page's. */
export interface OfrepWebProviderEnvironment {
	/** @default localStorage */
	readonly storage?: KeyValueStorage | undefined;
	/** @default globalThis.EventSource */
	readonly EventSourceImpl?: typeof EventSource;
}

/**
 * OpenFeature web provider over OFREP (`POST /ofrep/v1/evaluate/flags`) using fetch and JSON only — no Connect or
 * protobuf code, so it bundles apart from `FlagdWebProvider`. Bulk results are kept in memory and in localStorage
 * (ADR-0009; the first page load after a visit evaluates from there while the network refresh runs), revalidated
 * with If-None-Match (a 304 keeps them), re-fetched on `refetchEvaluation` events of the advertised SSE streams
 * (ADR-0008, the browser's EventSource), on context changes and when the page becomes visible (ADR-0010).
 *
 * Events: READY when initialized and again after recovering; STALE while the event stream is down or re-fetches
 * fail (ERROR once that lasts `retryGracePeriod` seconds, or at once for 401/403); CONFIGURATION_CHANGED with the
 * keys whose result changed.
 */
export class OfrepWebProvider implements Provider {
	readonly metadata = { name: "flagd-ofrep-web" } as const;
	readonly runsOn = "client";
	readonly events = new OpenFeatureEventEmitter();
	readonly hooks = [];
	readonly #config: OfrepWebProviderConfig;
	readonly #environment: OfrepWebProviderEnvironment;
	readonly #abort = new AbortController();
	readonly #health: OfrepProviderHealth;
	#store: OfrepFlagStore | undefined;
	#context: EvaluationContext = {};
	#generation = 0;
	readonly #held = new OfrepHeldFlags();
	#stream: OfrepChangeStream | undefined;
	#inflight: Promise<void> | undefined;
	#again: OfrepRefetchHint | undefined | null = null;
	#pollTimer: ReturnType<typeof setInterval> | undefined;
	#closed = false;
	readonly #onVisibility = () => {
		if (document.visibilityState === "visible") void this.#refresh(undefined);
	};

	/**
	 * @param options see {@link OfrepWebProviderOptions}; unknown names and bad values throw, naming the option.
	 * @param environment test seams for localStorage and EventSource.
	 */
	constructor(
		options: OfrepWebProviderOptions,
		environment: OfrepWebProviderEnvironment = {},
	) {
		this.#config = resolveOfrepWebProviderOptions(options);
		this.#environment = environment;
		this.#health = new OfrepProviderHealth({
			events: this.events,
			retryGracePeriodSec: this.#config.retryGracePeriod,
			logger: this.#config.logger,
			retry: () => void this.#refresh(undefined),
		});
	}

	/** Evaluates every flag for `context`: from local persistence first when there is an entry, else the server. */
	async initialize(
		context: EvaluationContext = {},
		domain?: string,
	): Promise<void> {
		const { cacheMode } = this.#config;
		const storage =
			"storage" in this.#environment
				? this.#environment.storage
				: defaultStorage();
		if (cacheMode !== "disabled" && storage !== undefined) {
			this.#store = new OfrepFlagStore({
				storage,
				ttlSec: this.#config.cacheTTL,
				keyMaterial: this.#config.cacheKeyGenerator,
				url: this.#config.baseUrl,
				selector: this.#config.selector,
				domain,
				logger: this.#config.logger,
			});
		}
		this.#context = context;
		const persisted =
			cacheMode === "local-cache-first"
				? await this.#readPersisted(context)
				: undefined;
		if (persisted !== undefined) {
			this.#held.replace(persisted, true);
			void this.#refresh(undefined);
		} else {
			try {
				await this.#load(context, this.#generation, undefined, false);
			} catch (e: unknown) {
				const fallback = await this.#fallback(e, context);
				this.#held.replace(fallback, true);
			}
		}
		this.#follow();
		if (
			!this.#config.disableVisibilityRefresh &&
			typeof document !== "undefined"
		) {
			document.addEventListener("visibilitychange", this.#onVisibility);
		}
	}

	/** Re-evaluates for the new context (the SDK reports RECONCILING meanwhile); persisted values cover an outage. */
	async onContextChange(
		_oldContext: EvaluationContext,
		newContext: EvaluationContext,
	): Promise<void> {
		this.#context = newContext;
		const generation = ++this.#generation;
		try {
			await this.#load(newContext, generation, undefined, false);
			this.#follow();
			this.#health.recovered();
		} catch (e: unknown) {
			if (generation !== this.#generation) return;
			this.#held.replace(await this.#fallback(e, newContext), true);
		}
	}

	async onClose(): Promise<void> {
		this.#closed = true;
		this.#abort.abort(new Error("provider closed"));
		this.#stream?.close();
		this.#stream = undefined;
		this.#health.close();
		clearInterval(this.#pollTimer);
		if (typeof document !== "undefined") {
			document.removeEventListener("visibilitychange", this.#onVisibility);
		}
	}

	resolveBooleanEvaluation(
		key: string,
		defaultValue: boolean,
	): ResolutionDetails<boolean> {
		return this.#resolve(key, defaultValue);
	}

	resolveStringEvaluation(
		key: string,
		defaultValue: string,
	): ResolutionDetails<string> {
		return this.#resolve(key, defaultValue);
	}

	resolveNumberEvaluation(
		key: string,
		defaultValue: number,
	): ResolutionDetails<number> {
		return this.#resolve(key, defaultValue);
	}

	resolveObjectEvaluation<T extends JsonValue>(
		key: string,
		defaultValue: T,
	): ResolutionDetails<T> {
		return this.#resolve(key, defaultValue);
	}

	#resolve<T extends FlagValue>(
		key: string,
		defaultValue: T,
	): ResolutionDetails<T> {
		return toResolution(
			this.#held.get(key),
			defaultValue,
			this.#held.metadata,
			this.#held.cached,
		);
	}

	/** One bulk request for `context`; applies and persists a 200. Returns the changed keys. */
	async #load(
		context: EvaluationContext,
		generation: number,
		hint: OfrepRefetchHint | undefined,
		unconditional: boolean,
	): Promise<string[] | undefined> {
		const result = await fetchOfrepBulk(
			this.#config,
			context,
			unconditional ? null : this.#held.etag,
			hint,
			this.#abort.signal,
		);
		if (generation !== this.#generation || this.#closed) return undefined;
		this.#health.answered();
		if (result.status === 304) {
			// The server confirmed what is held.
			this.#held.cached = false;
			return [];
		}
		const changed = this.#held.replace(result.snapshot, false);
		const key = await this.#storeKey(context);
		if (key !== undefined && generation === this.#generation) {
			this.#store?.write(key, result.snapshot);
		}
		return changed;
	}

	/** Re-fetch for the current context; concurrent calls coalesce into one follow-up request. */
	#refresh(
		hint: OfrepRefetchHint | undefined,
		unconditional = false,
	): Promise<void> {
		if (this.#closed) return Promise.resolve();
		if (this.#inflight !== undefined) {
			this.#again = hint;
			return this.#inflight;
		}
		const generation = this.#generation;
		this.#inflight = this.#load(this.#context, generation, hint, unconditional)
			.then(
				(changed) => {
					if (changed === undefined) return;
					this.#follow();
					this.#health.recovered();
					if (changed.length > 0) {
						this.events.emit(ProviderEvents.ConfigurationChanged, {
							message: "flags re-evaluated",
							flagsChanged: changed,
						});
					}
				},
				(e: unknown) => this.#health.failed(e),
			)
			.finally(() => {
				this.#inflight = undefined;
				if (this.#again === null) return;
				const next = this.#again;
				this.#again = null;
				void this.#refresh(next);
			});
		return this.#inflight;
	}

	/** Starts (or keeps) the change detection the config and the last answer allow. */
	#follow(): void {
		if (this.#closed) return;
		const { changeDetection, pollInterval } = this.#config;
		const Impl = this.#environment.EventSourceImpl;
		if (
			changeDetection === "sse" &&
			this.#held.streams.length > 0 &&
			OfrepChangeStream.available(Impl)
		) {
			clearInterval(this.#pollTimer);
			this.#pollTimer = undefined;
			this.#stream ??= new OfrepChangeStream(
				{
					onRefetch: (hint) => void this.#refresh(hint, hint === undefined),
					onReconnected: () => void this.#refresh(undefined),
					onInterrupted: () =>
						this.#health.markStale("the event stream is interrupted"),
					onClosed: () => {
						this.#health.markStale("the event stream closed");
						this.#health.scheduleRetry(undefined);
					},
				},
				{
					EventSourceImpl: Impl,
					parse: this.#config.sseEventParser,
					inactivityDelaySec: this.#config.inactivityDelaySec,
					logger: this.#config.logger,
				},
			);
			this.#stream.connect(this.#held.streams, this.#held.inactivityDelaySec);
			return;
		}
		this.#stream?.close();
		this.#stream = undefined;
		if (
			changeDetection !== "none" &&
			pollInterval > 0 &&
			this.#pollTimer === undefined
		) {
			this.#pollTimer = setInterval(
				() => void this.#refresh(undefined),
				pollInterval,
			);
		}
	}

	/** Initial or context-change failure: persisted values when the failure is transient, else the error. */
	async #fallback(
		e: unknown,
		context: EvaluationContext,
	): Promise<OfrepBulkSnapshot> {
		if (e instanceof OfrepRequestError && e.fatal) {
			throw e.status === 401 || e.status === 403
				? new ProviderFatalError(e.message, { cause: e })
				: e;
		}
		const persisted = await this.#readPersisted(context);
		if (persisted === undefined) {
			// The SDK reports ERROR; keep trying, and READY + CONFIGURATION_CHANGED follow the first answer.
			this.#health.markErrored();
			this.#health.scheduleRetry(
				e instanceof OfrepRequestError ? e.retryAfterMs : undefined,
			);
			throw e;
		}
		this.#config.logger?.warn(
			`OFREP web provider: serving persisted flags: ${e instanceof Error ? e.message : String(e)}`,
		);
		this.#health.scheduleRetry(undefined);
		return persisted;
	}

	async #readPersisted(
		context: EvaluationContext,
	): Promise<OfrepBulkSnapshot | undefined> {
		const key = await this.#storeKey(context);
		return key === undefined ? undefined : this.#store?.read(key);
	}

	async #storeKey(context: EvaluationContext): Promise<string | undefined> {
		if (this.#store === undefined) return undefined;
		const headers = [...this.#config.headers];
		if (this.#config.headersFactory !== undefined) {
			headers.push(
				...toHeaderPairs(await this.#config.headersFactory(), "headersFactory"),
			);
		}
		return this.#store.keyOf(context, headers);
	}
}
