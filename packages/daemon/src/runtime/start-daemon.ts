/**
 * `startDaemon(config)`: the programmatic daemon. Creates every sync source, binds the four listeners, runs each
 * source's sync loop into one FlagStore, and returns the bound ports, a readiness promise and `close()`.
 *
 * Startup failures: a source that cannot be created or initialised rejects `startDaemon` when
 * `onSourceStartupFailure` is `exit` (flagd's behaviour); a source whose stream fails before its first payload
 * rejects `ready` and stops the daemon. With `continue` both are logged and the source stays not ready (/readyz 412).
 */
import { setMaxListeners } from "node:events";
import { EVENT_STREAM_KEEP_ALIVE_MS } from "@flagd-ts/protocol";
import type { DaemonConfig } from "../config/daemon-config.js";
import { DaemonError, isDaemonError } from "../errors.js";
import { type Logger, silentLogger } from "../logging/logger.js";
import { redactUri, redactUrisInText } from "../logging/redact-uri.js";
import { FlagStore } from "../store/flag-store.js";
import type { SourceConfig } from "../syncs/source-config.js";
import type { SyncSource } from "../syncs/sync-source.js";
import { DaemonMetrics } from "../telemetry/daemon-metrics.js";
import type { OtelSdk } from "../telemetry/otel-sdk.js";
import type { RequestTelemetry } from "../telemetry/request-telemetry.js";
import { startTelemetry } from "../telemetry/start-telemetry.js";
import { bindListeners, type DaemonListeners } from "./daemon-listeners.js";
import { runSource } from "./source-runner.js";

export interface StartDaemonOptions {
	/** @default silentLogger */
	readonly logger?: Logger;
	/** Builds a source from its config. @default the syncs/ factory (createSyncSource) */
	readonly createSource?: (config: SourceConfig) => Promise<SyncSource>;
	/** Idle time before an EventStream `keep_alive`. @default 20_000 (flagd) */
	readonly keepAliveMs?: number;
	/** Clock for `$flagd.timestamp` in seconds. @default wall clock */
	readonly nowSeconds?: () => number;
	/** How long close() lets streams and requests drain before destroying connections. @default 1_000 */
	readonly drainMs?: number;
	/** Environment for the standard `OTEL_*` variables (telemetry/). @default process.env */
	readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Bound ports; `undefined` where a unix socket is used instead. */
export interface DaemonPorts {
	readonly evaluation: number | undefined;
	readonly management: number;
	readonly sync: number | undefined;
	readonly ofrep: number;
}

export interface RunningDaemon {
	readonly ports: DaemonPorts;
	/** Resolves once every source delivered its first valid payload; rejects when startup fails (exit mode). */
	readonly ready: Promise<void>;
	readonly store: FlagStore;
	/**
	 * HTTP requests the evaluation and OFREP ports answered since start (monotonic; a stream counts when it ends, so
	 * opening many streams is not request load). The `flagd` command reads its rate to size V8's young generation
	 * (young-generation-governor.ts).
	 */
	requestCount(): number;
	/** Sends provider_shutdown, drains streams, closes every listener and connection, stops every source. */
	close(): Promise<void>;
}

/** See the file comment. */
export async function startDaemon(
	config: DaemonConfig,
	options: StartDaemonOptions = {},
): Promise<RunningDaemon> {
	const logger = options.logger ?? silentLogger;
	const exitOnFailure = config.onSourceStartupFailure === "exit";
	const metrics = new DaemonMetrics();
	// Loads the OpenTelemetry SDK only when an OTLP endpoint is configured; otherwise undefined and free.
	const telemetry = await startTelemetry(config, {
		env: options.env ?? process.env,
		metrics,
		logger,
	});
	const requestTelemetry: RequestTelemetry = {
		tracing: telemetry?.tracing,
		requestLogger: config.debug
			? logger.child({ component: "requests" })
			: undefined,
	};
	let sources: SyncSource[];
	try {
		sources = await createSources(config, options, logger, exitOnFailure);
	} catch (e: unknown) {
		await telemetry?.shutdown();
		throw e;
	}
	const store = new FlagStore({
		sources: sources.map((s) => s.uri),
		logger: logger.child({ component: "store" }),
		strictValidation: config.strictValidation,
	});
	const shutdown = new AbortController();
	// Every open EventStream and SyncFlags stream listens on this one signal: thousands are normal, not a leak.
	setMaxListeners(0, shutdown.signal);
	const sourcesController = new AbortController();
	let listeners: DaemonListeners | undefined;
	const readiness = createReadiness(store);
	try {
		listeners = await bindListeners({
			config,
			store,
			metrics,
			logger,
			shutdownSignal: shutdown.signal,
			keepAliveMs: options.keepAliveMs ?? EVENT_STREAM_KEEP_ALIVE_MS,
			isReady: () => store.isReady(),
			nowSeconds: options.nowSeconds,
			telemetry: requestTelemetry,
		});
	} catch (e: unknown) {
		// Reported once by the caller (the CLI prints it and exits 1).
		await telemetry?.shutdown();
		throw e;
	}
	const bound = listeners;
	let closing: Promise<void> | undefined;
	// Declared before close() can run: a source may fail synchronously while the loops are being started.
	const loops: Promise<void>[] = [];
	const close = (): Promise<void> => {
		closing ??= closeDaemon({
			shutdown,
			sourcesController,
			listeners: bound,
			loops,
			logger,
			drainMs: options.drainMs ?? 1_000,
			telemetry,
		});
		return closing;
	};
	for (const source of sources) {
		loops.push(
			runSource(source, store, {
				signal: sourcesController.signal,
				logger,
				tracer: telemetry?.tracing.sync,
				handlers: {
					onFirstPayload: () => readiness.check(),
					onStartupFailure: (uri, error) => {
						// Exit mode: the caller of `ready` reports it (one line); continue mode: logged here, once.
						if (!exitOnFailure) {
							logger.error(
								{ source: uri },
								`sync source failed before its first sync: ${error.message}`,
							);
							return;
						}
						readiness.fail(error);
						void close();
					},
				},
			}),
		);
	}
	readiness.check();
	logger.debug(
		{
			evaluation: bound.evaluation.port ?? config.socketPath,
			management: bound.management.port,
			sync: bound.sync.port ?? config.syncSocketPath,
			ofrep: bound.ofrep.port,
		},
		"flagd listening",
	);
	return {
		ports: {
			evaluation: bound.evaluation.port,
			management: bound.management.port ?? 0,
			sync: bound.sync.port,
			ofrep: bound.ofrep.port ?? 0,
		},
		ready: readiness.promise,
		store,
		requestCount: () => metrics.requestCount(),
		close,
	};
}

async function createSources(
	config: DaemonConfig,
	options: StartDaemonOptions,
	logger: Logger,
	exitOnFailure: boolean,
): Promise<SyncSource[]> {
	const create = options.createSource ?? (await defaultSourceFactory(logger));
	const created: SyncSource[] = [];
	for (const sourceConfig of config.sources) {
		try {
			created.push(await create(sourceConfig));
		} catch (e: unknown) {
			const error = isDaemonError(e)
				? e
				: new DaemonError(
						"SOURCE_UNAVAILABLE",
						`cannot create sync source ${redactUri(sourceConfig.uri)}: ${redactUrisInText(e instanceof Error ? e.message : String(e))}`,
						{ cause: e },
					);
			// Exit mode: reported once by the caller (the CLI prints it and exits 1).
			if (exitOnFailure) throw error;
			logger.error(
				{ source: redactUri(sourceConfig.uri) },
				redactUrisInText(error.message),
			);
			created.push(failedSource(sourceConfig.uri, error));
		}
	}
	return created;
}

/** Stands in for a source that could not be created in `continue` mode: never ready, reported at start. */
function failedSource(uri: string, error: DaemonError): SyncSource {
	return {
		uri,
		init: () => Promise.reject(error),
		async *sync() {},
		resync: () => Promise.reject(error),
		isReady: () => false,
	};
}

async function defaultSourceFactory(
	logger: Logger,
): Promise<(config: SourceConfig) => Promise<SyncSource>> {
	// Loaded lazily: embedders passing `createSource` never load the source implementations.
	const module = await import("../syncs/create-sync-source.js");
	return (config) =>
		module.createSyncSource(config, {
			logger: logger.child({ source: redactUri(config.uri) }),
		});
}

interface Readiness {
	readonly promise: Promise<void>;
	check(): void;
	fail(error: DaemonError): void;
}

function createReadiness(store: FlagStore): Readiness {
	let resolve: () => void = () => {};
	let reject: (e: DaemonError) => void = () => {};
	let settled = false;
	const promise = new Promise<void>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	// Callers may never await `ready`; the failure is logged where it happens, so mark the promise handled.
	promise.catch(() => undefined);
	return {
		promise,
		check() {
			if (!settled && store.isReady()) {
				settled = true;
				resolve();
			}
		},
		fail(error) {
			if (settled) return;
			settled = true;
			reject(error);
		},
	};
}

async function closeDaemon(parts: {
	shutdown: AbortController;
	sourcesController: AbortController;
	listeners: DaemonListeners;
	loops: readonly Promise<void>[];
	logger: Logger;
	drainMs: number;
	telemetry: OtelSdk | undefined;
}): Promise<void> {
	const { listeners } = parts;
	// Streams see the shutdown signal first: EventStreams send provider_shutdown, SyncFlags streams end.
	parts.shutdown.abort();
	await Promise.all([
		listeners.evaluation.close(parts.drainMs),
		listeners.sync.close(parts.drainMs),
		listeners.ofrep.close(parts.drainMs),
		listeners.management.close(parts.drainMs),
	]);
	parts.sourcesController.abort();
	await Promise.all(parts.loops);
	// Last, so the spans of draining requests and the final metric values are exported too.
	await parts.telemetry?.shutdown();
	parts.logger.info({}, "flagd stopped");
}
