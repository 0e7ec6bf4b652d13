import type { Transport } from "@connectrpc/connect";
import {
	type ConnectionState,
	EventStreamSupervisor,
	type FlagValueType,
	parseStatusCodeNames,
	ResultCache,
	type SupervisorEventDetails,
	type SupervisorEventName,
} from "@flagd-ts/provider-core";
import {
	DefaultLogger,
	type EvaluationContext,
	type FlagValue,
	GeneralError,
	type Hook,
	type JsonValue,
	type Logger,
	OpenFeatureEventEmitter,
	type Provider,
	ProviderEvents,
	ProviderFatalError,
	ProviderNotReadyError,
	ProviderStatus,
	type ResolutionDetails,
} from "@openfeature/server-sdk";
import { checkResolverOptions } from "./check-resolver-options.js";
import { createEvaluationClient } from "./evaluation-client.js";
import { createInProcessSession } from "./in-process/create-local-session.js";
import {
	type FlagdProviderConfig,
	type FlagdProviderOptions,
	resolveFlagdProviderOptions,
} from "./provider-options.js";
import type { ProviderPlatform } from "./provider-platform.js";
import type { ResolverSession } from "./resolver-session.js";
import { RpcResolver } from "./rpc-resolver.js";

const EVENT_BY_NAME: Readonly<Record<SupervisorEventName, ProviderEvents>> = {
	PROVIDER_READY: ProviderEvents.Ready,
	PROVIDER_ERROR: ProviderEvents.Error,
	PROVIDER_STALE: ProviderEvents.Stale,
	PROVIDER_CONFIGURATION_CHANGED: ProviderEvents.ConfigurationChanged,
};

/** Everything that lives from initialize() to onClose(). */
type Session = ResolverSession;

const STATUS_BY_STATE: Readonly<Record<ConnectionState, ProviderStatus>> = {
	connecting: ProviderStatus.NOT_READY,
	ready: ProviderStatus.READY,
	stale: ProviderStatus.STALE,
	error: ProviderStatus.ERROR,
	fatal: ProviderStatus.FATAL,
};

/**
 * OpenFeature provider for flagd, for `@openfeature/server-sdk`, with flagd's three resolvers. `in-process` and
 * `file` evaluate locally (in-process/, file/): the flag set comes from the sync stream or a file, and the same
 * supervisor drives the events. The rest of this comment is about `rpc`, the default.
 *
 * Each evaluation is one call to flagd's evaluation API (v2 by default) bounded by `deadlineMs`; STATIC results
 * are cached (per flag key and type) while the event stream is live and served as CACHED. The event stream
 * drives the status: READY, STALE on loss, ERROR after `retryGracePeriod` seconds, READY plus
 * CONFIGURATION_CHANGED on reconnect, CONFIGURATION_CHANGED with `flagsChanged` on flag changes, FATAL for
 * `fatalStatusCodes` before the first connection.
 *
 * Construction validates the options and throws a `TypeError`/`RangeError` naming a bad one, or an option the
 * resolver cannot use; invalid `FLAGD_*` environment values are logged as warnings naming the variable and ignored.
 *
 * The runtime specifics (environment, transport, file resolver) come from a {@link ProviderPlatform}: the Node
 * entry's `FlagdProvider` passes connect-node's, the edge entry's passes the `fetch`-based one.
 */
export class FlagdProviderBase implements Provider {
	readonly metadata = { name: "flagd" } as const;
	readonly runsOn = "server" as const;
	readonly events = new OpenFeatureEventEmitter();
	readonly hooks: Hook[] = [];
	/** The resolved configuration (read-only). */
	readonly config: FlagdProviderConfig;

	private readonly platform: ProviderPlatform;
	private readonly logger: Logger;
	private readonly customTransport: Transport | undefined;
	private readonly cache: ResultCache;
	private session: Session | undefined;

	constructor(options: FlagdProviderOptions, platform: ProviderPlatform) {
		this.platform = platform;
		const env = options.env ?? platform.readEnvironment();
		const resolved = resolveFlagdProviderOptions(options, env);
		const { warnings } = resolved;
		const config = platform.finishConfig(resolved.config, options);
		this.config = config;
		this.logger = options.logger ?? new DefaultLogger();
		for (const warning of [
			...warnings,
			...checkResolverOptions(config.resolver, options, env),
		])
			this.logger.warn(`flagd provider: ${warning}`);
		this.customTransport = options.connectTransport;
		// Fail at construction, not at the first connection, for a bad targetUri or an unreadable certPath.
		if (this.customTransport === undefined && config.resolver !== "file")
			platform.createTransport(config).close();
		this.cache = new ResultCache({
			maxSize: config.maxCacheSize,
			enabled: config.cache === "lru",
		});
	}

	/** Connection state as the event stream sees it (`connecting` before initialize and after close). */
	get connectionState(): ConnectionState {
		return this.session?.supervisor.state ?? "connecting";
	}

	/** Provider status derived from the connection state (the SDK tracks its own copy from our events). */
	get status(): ProviderStatus {
		return STATUS_BY_STATE[this.connectionState];
	}

	/**
	 * Connects the event stream. Resolves on flagd's `provider_ready`; rejects with `ProviderFatalError` for a
	 * fatal status, or after `deadlineMs` without a connection (reconnecting continues; READY follows later).
	 * After `onClose()` the provider can be initialized again.
	 */
	async initialize(_context?: EvaluationContext): Promise<void> {
		if (this.session !== undefined) {
			throw new GeneralError(
				"flagd provider: initialize() called twice without onClose()",
			);
		}
		const session = this.openSession();
		this.session = session;
		this.logger.debug(`flagd provider: connecting to ${session.description}`);
		await session.supervisor.start();
	}

	/** Closes the event stream and every connection, and clears all timers. Idempotent. */
	async onClose(): Promise<void> {
		const session = this.session;
		this.session = undefined;
		this.cache.setMode("off");
		if (session === undefined) return;
		await session.supervisor.close();
		session.close();
	}

	private openSession(): Session {
		const config = this.config;
		if (config.resolver !== "rpc") {
			const deps = {
				config,
				handlers: {
					emit: (event: SupervisorEventName, details: SupervisorEventDetails) =>
						this.emit(event, details),
				},
				logger: this.logger,
				customTransport: this.customTransport,
				createTransport: this.platform.createTransport,
			};
			return config.resolver === "file"
				? this.platform.createFileSession(deps)
				: createInProcessSession(deps);
		}
		const owned =
			this.customTransport === undefined
				? this.platform.createTransport(config)
				: undefined;
		const transport = this.customTransport ?? owned?.transport;
		if (transport === undefined)
			throw new GeneralError("flagd provider: no transport");
		const client = createEvaluationClient({
			transport,
			apiVersion: config.apiVersion,
			deadlineMs: config.deadlineMs,
			streamDeadlineMs: config.streamDeadlineMs,
			selector: config.selector,
			providerId: config.providerId,
			binaryFormat: owned?.binaryFormat === true,
		});
		const supervisor = new EventStreamSupervisor({
			openStream: (signal) => client.eventStream(signal),
			deadlineMs: config.deadlineMs,
			streamDeadlineMs: config.streamDeadlineMs,
			retryBackoffMs: config.retryBackoffMs,
			retryBackoffMaxMs: config.retryBackoffMaxMs,
			retryGracePeriodMs: config.retryGracePeriod * 1000,
			fatalCodes: parseStatusCodeNames(config.fatalStatusCodes).codes,
			cache: this.cache,
			handlers: {
				emit: (event, details) => this.emit(event, details),
				resetConnection: () => owned?.resetConnections(),
			},
			logger: this.logger,
		});
		return {
			supervisor,
			resolver: new RpcResolver({ client, cache: this.cache }),
			description: owned?.description ?? "custom transport",
			close: () => owned?.close(),
		};
	}

	resolveBooleanEvaluation(
		flagKey: string,
		defaultValue: boolean,
		context: EvaluationContext,
	): Promise<ResolutionDetails<boolean>> {
		return this.resolve("boolean", flagKey, defaultValue, context);
	}

	resolveStringEvaluation(
		flagKey: string,
		defaultValue: string,
		context: EvaluationContext,
	): Promise<ResolutionDetails<string>> {
		return this.resolve("string", flagKey, defaultValue, context);
	}

	/** Numbers are resolved with flagd's ResolveFloat, so integer and fractional flags both work. */
	resolveNumberEvaluation(
		flagKey: string,
		defaultValue: number,
		context: EvaluationContext,
	): Promise<ResolutionDetails<number>> {
		return this.resolve("number", flagKey, defaultValue, context);
	}

	resolveObjectEvaluation<T extends JsonValue>(
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		return this.resolve("object", flagKey, defaultValue, context);
	}

	private resolve<T extends FlagValue>(
		type: FlagValueType,
		flagKey: string,
		defaultValue: T,
		context: EvaluationContext,
	): Promise<ResolutionDetails<T>> {
		const session = this.session;
		if (session === undefined) {
			return Promise.reject(
				new ProviderNotReadyError("flagd provider is not initialized"),
			);
		}
		if (session.supervisor.state === "fatal") {
			return Promise.reject(
				new ProviderFatalError("flagd provider is in a fatal state"),
			);
		}
		return session.resolver.resolve(type, flagKey, defaultValue, context);
	}

	private emit(
		event: SupervisorEventName,
		details: SupervisorEventDetails,
	): void {
		this.events.emit(EVENT_BY_NAME[event], { ...details });
	}
}
