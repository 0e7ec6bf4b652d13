import {
	contextToStruct,
	type SupervisorEventName,
} from "@flagd-ts/provider-core";
import {
	type EvaluationContext,
	type FlagValue,
	type JsonValue,
	OpenFeatureEventEmitter,
	type Provider,
	ProviderEvents,
	ProviderNotReadyError,
	type ResolutionDetails,
} from "@openfeature/web-sdk";
import { createFetchTransport } from "./fetch-transport.js";
import type { FlagKind } from "./flag-snapshot.js";
import {
	type ConnectionState,
	FlagdWebConnection,
} from "./flagd-web-connection.js";
import {
	type FlagdWebProviderConfig,
	type FlagdWebProviderOptions,
	resolveFlagdWebProviderOptions,
} from "./flagd-web-provider-options.js";
import type { FlagdWebTransport } from "./flagd-web-transport.js";

/**
 * OpenFeature provider for browsers (@openfeature/web-sdk, static-context paradigm) backed by flagd.
 * `initialize(context)` and `onContextChange` bulk-evaluate every flag for the context with flagd's ResolveAll;
 * the synchronous `resolve*` calls answer from that snapshot. flagd's EventStream keeps it current: a
 * configuration change re-fetches and emits CONFIGURATION_CHANGED with the changed keys, a lost stream makes the
 * provider STALE (then ERROR after `retryGracePeriod`) and reconnects with jittered backoff.
 *
 * The context is always the one the SDK hands this provider (its domain's context), never the global one.
 */
export class FlagdWebProvider implements Provider {
	readonly metadata = { name: "flagd-web" } as const;
	readonly runsOn = "client";
	readonly events = new OpenFeatureEventEmitter();
	readonly hooks = [];
	private readonly config: FlagdWebProviderConfig;
	private readonly transport: FlagdWebTransport;
	private connection: FlagdWebConnection | undefined;

	/**
	 * @param options see {@link FlagdWebProviderOptions}; bad values and unknown names throw, naming the option.
	 * @param unsupported nothing: @openfeature/flagd-web-provider's further arguments (logger, clients) throw;
	 *   pass the logger as `options.logger`, clients as `options.transport`.
	 */
	constructor(options: FlagdWebProviderOptions = {}, ...unsupported: never[]) {
		if (unsupported.length > 0) {
			throw new TypeError(
				`FlagdWebProvider takes one options object, got ${unsupported.length + 1} arguments; pass the logger as options.logger and a custom client as options.transport`,
			);
		}
		this.config = resolveFlagdWebProviderOptions(options);
		this.transport =
			this.config.transport ??
			createFetchTransport({
				baseUrl: this.config.baseUrl,
				interceptors: this.config.interceptors,
				...(this.config.fetch ? { fetch: this.config.fetch } : {}),
			});
	}

	/** Connection state; for diagnostics (the SDK's client status is the authoritative view). */
	get connectionState(): ConnectionState | "closed" {
		return this.connection?.state ?? "closed";
	}

	/**
	 * Opens the event stream and loads the flags for `context`. Settles within `deadlineMs`: rejects if flagd
	 * cannot be reached by then, and keeps reconnecting so the provider reaches READY later.
	 */
	async initialize(context: EvaluationContext = {}): Promise<void> {
		await this.connection?.close();
		const connection = new FlagdWebConnection({
			transport: this.transport,
			config: this.config,
			context: contextToStruct(context),
			handlers: {
				emit: (event, details) =>
					this.events.emit(EVENTS[event], { ...details }),
			},
		});
		this.connection = connection;
		await connection.start();
	}

	/** Re-fetches the flags for the new context (the SDK reports RECONCILING meanwhile). */
	async onContextChange(
		_oldContext: EvaluationContext,
		newContext: EvaluationContext,
	): Promise<void> {
		const connection = this.connection;
		if (connection === undefined) {
			throw new ProviderNotReadyError("flagd web provider is not initialized");
		}
		await connection.setContext(contextToStruct(newContext));
	}

	/** Closes the stream, in-flight fetches and timers. The provider can be initialized again afterwards. */
	async onClose(): Promise<void> {
		const connection = this.connection;
		this.connection = undefined;
		await connection?.close();
	}

	resolveBooleanEvaluation(
		flagKey: string,
		defaultValue: boolean,
	): ResolutionDetails<boolean> {
		return this.resolve(flagKey, "boolean", defaultValue);
	}

	resolveStringEvaluation(
		flagKey: string,
		defaultValue: string,
	): ResolutionDetails<string> {
		return this.resolve(flagKey, "string", defaultValue);
	}

	resolveNumberEvaluation(
		flagKey: string,
		defaultValue: number,
	): ResolutionDetails<number> {
		return this.resolve(flagKey, "number", defaultValue);
	}

	resolveObjectEvaluation<T extends JsonValue>(
		flagKey: string,
		defaultValue: T,
	): ResolutionDetails<T> {
		return this.resolve(flagKey, "object", defaultValue);
	}

	private resolve<T extends FlagValue>(
		flagKey: string,
		kind: FlagKind,
		defaultValue: T,
	): ResolutionDetails<T> {
		const connection = this.connection;
		const snapshot = connection?.snapshot;
		if (connection === undefined || snapshot === undefined) {
			throw new ProviderNotReadyError(
				"flagd web provider has no flags for the current context yet",
			);
		}
		return snapshot.resolve(
			flagKey,
			kind,
			defaultValue,
			connection.state !== "ready",
		);
	}
}

/** The SDK's event for each connection event (same strings; the map keeps the enum types). */
const EVENTS = {
	PROVIDER_READY: ProviderEvents.Ready,
	PROVIDER_ERROR: ProviderEvents.Error,
	PROVIDER_STALE: ProviderEvents.Stale,
	PROVIDER_CONFIGURATION_CHANGED: ProviderEvents.ConfigurationChanged,
} as const satisfies Record<SupervisorEventName, ProviderEvents>;
