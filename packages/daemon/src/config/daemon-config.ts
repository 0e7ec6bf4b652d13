/**
 * The resolved daemon configuration: CLI flags, `FLAGD_*` env vars and the `--config` file all normalise into this
 * one object (C26). Units are in the names; flagd's second-based flags are converted once, in config/.
 * This type is the contract between config/ (which fills it) and runtime/ (which starts the daemon from it).
 */
import type { SourceConfig } from "../syncs/source-config.js";

export interface TlsConfig {
	readonly certPath: string;
	readonly keyPath: string;
}

export interface DaemonConfig {
	/** Evaluation service (flagd.evaluation.v1/v2 over gRPC, gRPC-web, Connect). 0 = any free port. @default 8013 */
	readonly port: number;
	/** Management (/healthz, /readyz, /metrics). @default 8014 */
	readonly managementPort: number;
	/** flagd.sync.v1 gRPC service. @default 8015 */
	readonly syncPort: number;
	/** OFREP. @default 8016 */
	readonly ofrepPort: number;
	/** Host/address every listener binds to. @default "0.0.0.0" (flagd binds all interfaces) */
	readonly bindAddress: string;
	/** Unix socket for the evaluation service instead of `port`. @default undefined */
	readonly socketPath: string | undefined;
	/** Unix socket for the sync service instead of `syncPort`. @default undefined */
	readonly syncSocketPath: string | undefined;
	/** TLS for every TCP listener and both unix sockets (both paths set). @default undefined */
	readonly tls: TlsConfig | undefined;
	/** Sync sources in priority order: later wins. */
	readonly sources: readonly SourceConfig[];
	/** Allowed CORS origins; empty = all origins (flagd/rs-cors behaviour). */
	readonly corsOrigins: readonly string[];
	/** Static context (`-X key=value`), values are strings. */
	readonly staticContext: Readonly<Record<string, string>>;
	/** Header → context key mappings (`-H Header=contextKey`); header names lower-cased. */
	readonly headerContext: Readonly<Record<string, string>>;
	/** Server-side deadline for EventStream and SyncFlags; 0 = none. @default 0 */
	readonly streamDeadlineMs: number;
	/** GetMetadata answers UNIMPLEMENTED. @default false */
	readonly disableSyncMetadata: boolean;
	/** Request body limit on 8013/8016; 0 disables. @default 1_000_000 */
	readonly maxRequestBodyBytes: number;
	/** Request header limit; 0 = Node default. @default 1_000_000 */
	readonly maxRequestHeaderBytes: number;
	/** Minimum client keepalive ping interval the sync server accepts. @default 30_000 */
	readonly keepAliveMinTimeMs: number;
	/** Whether keepalive pings without an active stream are accepted. @default true */
	readonly keepAlivePermitWithoutStream: boolean;
	/** Log output. @default "console" */
	readonly logFormat: "console" | "json";
	/** Debug logging (`-x/--debug`). @default false */
	readonly debug: boolean;
	/** Validation of flag documents: flagd's default only warns; strict rejects invalid documents. @default false */
	readonly strictValidation: boolean;
	/**
	 * When a source fails before its first payload: `exit` stops the daemon (flagd's behaviour); `continue` keeps
	 * serving the other sources and reports the failed one as not ready. @default "exit"
	 */
	readonly onSourceStartupFailure: "exit" | "continue";
	/** Metrics exporter: Prometheus on /metrics (default) or OTLP push. @default "prometheus" */
	readonly metricsExporter: "prometheus" | "otel";
	/** OTLP collector URI; enables trace export. @default undefined */
	readonly otelCollectorUri: string | undefined;
	// The otel* TLS fields below were added after the first contract; they are optional so config literals written
	// against it stay valid. resolveDaemonConfig always fills them.
	/** Client certificate for mTLS to the OTLP collector (`--otel-cert-path`). @default undefined */
	readonly otelCertPath?: string | undefined;
	/** Client key for mTLS to the OTLP collector (`--otel-key-path`). @default undefined */
	readonly otelKeyPath?: string | undefined;
	/** CA certificate for the OTLP collector (`--otel-ca-path`). @default undefined */
	readonly otelCaPath?: string | undefined;
	/** How often the OTLP TLS files are re-read (`--otel-reload-interval`). @default 3_600_000 (1 h) */
	readonly otelReloadIntervalMs?: number;
	// The ofrepSse* fields are optional for the same reason.
	/** `GET /ofrep/v1/sse` change notifications, advertised in OFREP bulk responses. @default true */
	readonly ofrepSseEnabled?: boolean;
	/** Advertised `inactivityDelaySec`; also how long an SSE client may leave sent bytes unread. 0 = none. @default 120 */
	readonly ofrepSseInactivityDelaySec?: number;
	/** Origin (`https://flags.example.com`) put in advertised SSE URLs; otherwise the request's. @default undefined */
	readonly ofrepSsePublicUrl?: string | undefined;
	/** Concurrent SSE streams; beyond it a new one gets 503. 0 = no limit. @default 10_000 */
	readonly ofrepSseMaxConnections?: number;
	// The connection limits below were added later too; optional for the same reason (DEFAULTS fills them in).
	/**
	 * First bytes, TLS handshake, a whole HTTP/1.1 request header and an HTTP/2 connection's first request must
	 * arrive within this (`--header-timeout`); 0 disables. @default 5_000
	 */
	readonly headerTimeoutMs?: number;
	/** A connection with no request or stream in flight is closed after this (`--idle-timeout`); 0 disables. @default 60_000 */
	readonly idleTimeoutMs?: number;
	/** A whole request, header and body, must arrive within this (`--request-timeout`); 0 disables. @default 60_000 */
	readonly requestTimeoutMs?: number;
	/** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection (`--max-concurrent-streams`). @default 250 */
	readonly maxConcurrentStreams?: number;
	/** Open EventStreams (v1 and v2 together) the evaluation service accepts (`--max-event-streams`). @default 1_000 */
	readonly maxEventStreams?: number;
	/** Open SyncFlags streams the sync service accepts (`--max-sync-streams`). @default 1_000 */
	readonly maxSyncStreams?: number;
	/** CA whose client certificates the sync service requires (mutual TLS; `--sync-client-ca-path`). @default undefined */
	readonly syncClientCaPath?: string | undefined;
}
