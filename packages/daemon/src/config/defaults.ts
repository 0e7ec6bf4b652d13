/**
 * Every default of the daemon in one place (C22), in DaemonConfig's own units. The flag table, the help text and
 * docs/configuration.md are all derived from (or checked against) these values, so they cannot drift apart.
 */
import type { DaemonConfig } from "./daemon-config.js";

type DefaultedFields = Omit<
	DaemonConfig,
	"sources" | "corsOrigins" | "staticContext" | "headerContext"
>;

export const DEFAULTS = {
	port: 8013,
	managementPort: 8014,
	syncPort: 8015,
	ofrepPort: 8016,
	bindAddress: "0.0.0.0",
	socketPath: undefined,
	syncSocketPath: undefined,
	tls: undefined,
	streamDeadlineMs: 0,
	disableSyncMetadata: false,
	maxRequestBodyBytes: 1_000_000,
	maxRequestHeaderBytes: 1_000_000,
	keepAliveMinTimeMs: 30_000,
	keepAlivePermitWithoutStream: true,
	logFormat: "console",
	debug: false,
	strictValidation: false,
	onSourceStartupFailure: "exit",
	metricsExporter: "prometheus",
	otelCollectorUri: undefined,
	otelCertPath: undefined,
	otelKeyPath: undefined,
	otelCaPath: undefined,
	otelReloadIntervalMs: 3_600_000,
	ofrepSseEnabled: true,
	ofrepSseInactivityDelaySec: 120,
	ofrepSsePublicUrl: undefined,
	ofrepSseMaxConnections: 10_000,
	headerTimeoutMs: 5_000,
	idleTimeoutMs: 60_000,
	requestTimeoutMs: 60_000,
	maxConcurrentStreams: 250,
	maxEventStreams: 1_000,
	maxSyncStreams: 1_000,
	syncClientCaPath: undefined,
} as const satisfies {
	// Every field present (even the optional ones), each with its declared type, undefined included.
	readonly [K in keyof Required<DefaultedFields>]: DefaultedFields[K];
};
