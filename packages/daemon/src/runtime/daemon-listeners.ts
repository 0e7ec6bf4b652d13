/**
 * Binds the daemon's four listeners (evaluation 8013, management 8014, sync 8015, OFREP 8016) around one store.
 * Every listener gets the same connection limits, body limit and (with `-c/-k`) TLS; the sync listener also
 * requires client certificates when `--sync-client-ca-path` is set.
 * If any bind fails, the ones already bound are closed before the error propagates.
 */
import { createEvaluationHandler } from "../api/evaluation/evaluation-handler.js";
import { createManagementHandler } from "../api/management/management-handler.js";
import { OfrepEventStream } from "../api/ofrep/ofrep-event-stream.js";
import { createOfrepHandler } from "../api/ofrep/ofrep-handler.js";
import { syncServiceRoute } from "../api/sync/sync-service-route.js";
import type { DaemonConfig } from "../config/daemon-config.js";
import { DEFAULTS } from "../config/defaults.js";
import type { Logger } from "../logging/logger.js";
import { ContextBuilder } from "../resolver/context-builder.js";
import { FlagResolver } from "../resolver/flag-resolver.js";
import type { FlagStore } from "../store/flag-store.js";
import { SelectorCache } from "../store/selector-cache.js";
import type { DaemonMetrics } from "../telemetry/daemon-metrics.js";
import type { RequestTelemetry } from "../telemetry/request-telemetry.js";
import { createConnectHandler } from "../transport/connect-handler.js";
import {
	listenHttp1,
	listenMultiProtocol,
	type RunningListener,
} from "../transport/http-listener.js";
import { StreamLimiter } from "../transport/stream-limiter.js";

export interface DaemonListenersOptions {
	readonly config: DaemonConfig;
	readonly store: FlagStore;
	readonly metrics: DaemonMetrics;
	readonly logger: Logger;
	readonly shutdownSignal: AbortSignal;
	readonly keepAliveMs: number;
	readonly isReady: () => boolean;
	readonly nowSeconds?: (() => number) | undefined;
	/** Spans and debug request logs for 8013 and 8016. */
	readonly telemetry: RequestTelemetry;
}

/** Names the gRPC health check answers for (besides the overall ""). */
const HEALTH_SERVICES: ReadonlySet<string> = new Set([
	"flagd.evaluation.v1.Service",
	"flagd.evaluation.v2.Service",
	"flagd.sync.v1.FlagSyncService",
]);

export interface DaemonListeners {
	readonly evaluation: RunningListener;
	readonly management: RunningListener;
	readonly sync: RunningListener;
	readonly ofrep: RunningListener;
}

/** The OFREP change notification stream, unless `--ofrep-sse-enabled=false`. */
function ofrepEventStream(
	options: DaemonListenersOptions,
	resolver: FlagResolver,
): OfrepEventStream | undefined {
	const { config } = options;
	if (config.ofrepSseEnabled === false) return undefined;
	return new OfrepEventStream({
		store: options.store,
		selector: (expression) => resolver.selector(expression),
		inactivityDelaySec:
			config.ofrepSseInactivityDelaySec ?? DEFAULTS.ofrepSseInactivityDelaySec,
		maxConnections:
			config.ofrepSseMaxConnections ?? DEFAULTS.ofrepSseMaxConnections,
		publicUrl: config.ofrepSsePublicUrl,
		shutdownSignal: options.shutdownSignal,
	});
}

/** See the file comment. */
export async function bindListeners(
	options: DaemonListenersOptions,
): Promise<DaemonListeners> {
	const { config, store, metrics, logger } = options;
	const selectors = new SelectorCache();
	const contexts = new ContextBuilder({
		staticContext: config.staticContext,
		headerContext: config.headerContext,
	});
	const resolver = new FlagResolver({
		store,
		selectors,
		contexts,
		metrics,
		...(options.nowSeconds === undefined
			? {}
			: { nowSeconds: options.nowSeconds }),
	});
	const base = {
		host: config.bindAddress,
		maxHeaderBytes: config.maxRequestHeaderBytes,
		limits: {
			headerTimeoutMs: config.headerTimeoutMs ?? DEFAULTS.headerTimeoutMs,
			idleTimeoutMs: config.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
			requestTimeoutMs: config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
			maxConcurrentStreams:
				config.maxConcurrentStreams ?? DEFAULTS.maxConcurrentStreams,
		},
		tls: config.tls,
	};
	const readMaxBytes =
		config.maxRequestBodyBytes > 0 ? config.maxRequestBodyBytes : 0xffffffff;
	const syncClientCaPath = config.syncClientCaPath ?? DEFAULTS.syncClientCaPath;
	const bound: RunningListener[] = [];
	const track = async (listener: Promise<RunningListener>) => {
		const running = await listener;
		bound.push(running);
		return running;
	};
	try {
		const evaluation = await track(
			listenMultiProtocol(
				createEvaluationHandler({
					resolver,
					streams: {
						shutdownSignal: options.shutdownSignal,
						keepAliveMs: options.keepAliveMs,
						deadlineMs: config.streamDeadlineMs,
					},
					corsOrigins: config.corsOrigins,
					maxRequestBodyBytes: config.maxRequestBodyBytes,
					metrics,
					scheme: config.tls === undefined ? "http" : "https",
					logger,
					telemetry: options.telemetry,
					eventStreamLimiter: new StreamLimiter({
						max: config.maxEventStreams ?? DEFAULTS.maxEventStreams,
						what: "event streams",
						option: "--max-event-streams",
					}),
				}),
				{
					...base,
					name: "evaluation",
					port: config.port,
					socketPath: config.socketPath,
				},
			),
		);
		// gRPC as flagd serves it, plus the Connect protocol (HTTP/1.1 or h2) for fetch-based clients (the provider
		// on Deno, Bun, workerd and Vercel Edge, whose fetch cannot speak gRPC).
		const sync = await track(
			listenMultiProtocol(
				createConnectHandler({
					logger,
					services: [
						syncServiceRoute({
							store,
							selectors,
							metrics,
							staticContext: contexts.staticContext(),
							disableSyncMetadata: config.disableSyncMetadata,
							shutdownSignal: options.shutdownSignal,
							deadlineMs: config.streamDeadlineMs,
						}),
					],
					grpc: true,
					grpcWeb: false,
					connect: true,
					readMaxBytes,
					streamLimiter: new StreamLimiter({
						max: config.maxSyncStreams ?? DEFAULTS.maxSyncStreams,
						what: "sync streams",
						option: "--max-sync-streams",
					}),
				}),
				{
					...base,
					name: "sync",
					limits: {
						...base.limits,
						// flagd's gRPC sync server enforces grpc-go's keepalive policy with these options.
						pingPolicy: {
							minTimeMs: config.keepAliveMinTimeMs,
							permitWithoutStream: config.keepAlivePermitWithoutStream,
						},
					},
					port: config.syncPort,
					socketPath: config.syncSocketPath,
					tls:
						config.tls === undefined || syncClientCaPath === undefined
							? config.tls
							: { ...config.tls, clientCaPath: syncClientCaPath },
				},
			),
		);
		const ofrep = await track(
			listenHttp1(
				createOfrepHandler({
					resolver,
					eventStream: ofrepEventStream(options, resolver),
					corsOrigins: config.corsOrigins,
					maxRequestBodyBytes: config.maxRequestBodyBytes,
					metrics,
					telemetry: options.telemetry,
					onError: (e, path) =>
						logger.error(
							{ err: e, path },
							`OFREP request failed: ${String(e)}`,
						),
				}),
				{ ...base, name: "ofrep", port: config.ofrepPort },
			),
		);
		const management = await track(
			listenMultiProtocol(
				createManagementHandler({
					metrics,
					isReady: options.isReady,
					services: HEALTH_SERVICES,
					logger,
					onError: (e) =>
						logger.error({ err: e }, `metrics collection failed: ${String(e)}`),
				}),
				{ ...base, name: "management", port: config.managementPort },
			),
		);
		return { evaluation, management, sync, ofrep };
	} catch (e: unknown) {
		await Promise.all(bound.map((listener) => listener.close(0)));
		throw e;
	}
}
