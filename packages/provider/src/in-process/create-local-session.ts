import type { Transport } from "@connectrpc/connect";
import { defaultTargetingMode, type JsonObject } from "@flagd-ts/evaluator";
import {
	contextToStruct,
	EventStreamSupervisor,
	parseStatusCodeNames,
	type StreamMessage,
	type SupervisorHandlers,
} from "@flagd-ts/provider-core";
import type { Logger } from "@openfeature/server-sdk";
import type { FlagdTransport } from "../flagd-transport.js";
import type { FlagdProviderConfig } from "../provider-options.js";
import type { ResolverSession } from "../resolver-session.js";
import { LocalFlagStore } from "./local-flag-store.js";
import { LocalResolver } from "./local-resolver.js";
import { createSyncFlagsStream } from "./sync-flags-stream.js";

/** What the provider hands to a local (in-process or file) session. */
export interface LocalSessionDependencies {
	readonly config: FlagdProviderConfig;
	readonly handlers: SupervisorHandlers;
	readonly logger: Logger;
	/** A ready-made transport (the `connectTransport` option); in-process only. */
	readonly customTransport?: Transport | undefined;
	/** Builds the runtime's transport to the sync port when there is no `customTransport`; in-process only. */
	readonly createTransport?: (config: FlagdProviderConfig) => FlagdTransport;
}

/** Where a local session gets its flags: a stream of supervisor messages over the store. */
export type FlagSourceFactory = (
	store: LocalFlagStore,
	resolver: LocalResolver,
) => {
	readonly openStream: (signal: AbortSignal) => AsyncIterable<StreamMessage>;
	readonly description: string;
	close(): void;
};

/**
 * A session that evaluates locally: the flag source (sync stream or file) feeds the store, and provider-core's
 * event-stream supervisor turns the source's life into the provider's states and events (READY on the first
 * flag set, STALE when the source is lost while the last flags keep serving, ERROR after the grace period,
 * FATAL for `fatalStatusCodes`, reconnects with backoff).
 *
 * The supervisor announces every reconnect with a CONFIGURATION_CHANGED without keys (right for RPC, where
 * changes may have been missed); here the first flag set after a reconnect is compared with the flags held, so
 * that event is replaced by one listing exactly the keys that changed, or by none.
 */
export function createLocalSession(
	deps: LocalSessionDependencies,
	source: FlagSourceFactory,
	timing: {
		retryBackoffMs: number;
		retryBackoffMaxMs: number;
		streamDeadlineMs: number;
	},
): ResolverSession {
	const { config } = deps;
	const targetingMode =
		config.evaluatorMode === "auto"
			? defaultTargetingMode()
			: config.evaluatorMode;
	const store = new LocalFlagStore({ targetingMode });
	const resolver = new LocalResolver(store);
	const flags = source(store, resolver);
	const supervisor = new EventStreamSupervisor({
		openStream: flags.openStream,
		deadlineMs: config.deadlineMs,
		streamDeadlineMs: timing.streamDeadlineMs,
		retryBackoffMs: timing.retryBackoffMs,
		retryBackoffMaxMs: timing.retryBackoffMaxMs,
		retryGracePeriodMs: config.retryGracePeriod * 1000,
		fatalCodes: parseStatusCodeNames(config.fatalStatusCodes).codes,
		handlers: {
			emit: (event, details) => {
				if (
					event === "PROVIDER_CONFIGURATION_CHANGED" &&
					details.flagsChanged === undefined
				)
					return;
				deps.handlers.emit(event, details);
			},
			resetConnection: () => deps.handlers.resetConnection?.(),
		},
		logger: deps.logger,
	});
	return {
		supervisor,
		resolver,
		description: flags.description,
		close: () => flags.close(),
	};
}

/** The in-process resolver: flags from flagd's sync service (port 8015 by default). */
export function createInProcessSession(
	deps: LocalSessionDependencies,
): ResolverSession {
	const { config } = deps;
	const owned =
		deps.customTransport === undefined
			? deps.createTransport?.(config)
			: undefined;
	const transport = deps.customTransport ?? owned?.transport;
	if (transport === undefined)
		throw new Error("in-process resolver: no transport");
	return createLocalSession(
		{
			...deps,
			handlers: {
				emit: deps.handlers.emit,
				resetConnection: () => owned?.resetConnections(),
			},
		},
		(store, resolver) => ({
			openStream: createSyncFlagsStream({
				transport,
				selector: config.selector,
				providerId: config.providerId,
				flags: store,
				onSyncContext: (syncContext: JsonObject) =>
					resolver.setEnrichment(enrich(config, syncContext, deps.logger)),
				logger: deps.logger,
			}),
			description: `sync ${owned?.description ?? "custom transport"}`,
			close: () => owned?.close(),
		}),
		config,
	);
}

/** `contextEnricher(syncContext)`, or the sync context itself; a throwing or bad enricher is logged, not fatal. */
function enrich(
	config: FlagdProviderConfig,
	syncContext: JsonObject,
	logger: Logger,
): JsonObject | undefined {
	if (config.contextEnricher === undefined) return syncContext;
	try {
		const enriched = config.contextEnricher(syncContext);
		if (enriched === null || typeof enriched !== "object") {
			throw new TypeError(
				`returned ${enriched === null ? "null" : typeof enriched}, not an object`,
			);
		}
		return contextToStruct(enriched);
	} catch (error: unknown) {
		logger.error(
			`flagd provider: contextEnricher failed (${error instanceof Error ? error.message : String(error)}); evaluating without enrichment`,
		);
		return undefined;
	}
}
