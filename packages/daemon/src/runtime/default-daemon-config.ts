/**
 * A complete DaemonConfig from flagd's defaults plus overrides, for tests and for embedding the daemon without the
 * CLI. Defaults come from config/defaults.ts, so they match `flagd start`.
 */
import type { DaemonConfig } from "../config/daemon-config.js";
import { DEFAULTS } from "../config/defaults.js";

export function defaultDaemonConfig(
	overrides: Partial<DaemonConfig> = {},
): DaemonConfig {
	return {
		...overrides,
		port: overrides.port ?? DEFAULTS.port,
		managementPort: overrides.managementPort ?? DEFAULTS.managementPort,
		syncPort: overrides.syncPort ?? DEFAULTS.syncPort,
		ofrepPort: overrides.ofrepPort ?? DEFAULTS.ofrepPort,
		bindAddress: overrides.bindAddress ?? DEFAULTS.bindAddress,
		socketPath: overrides.socketPath ?? DEFAULTS.socketPath,
		syncSocketPath: overrides.syncSocketPath ?? DEFAULTS.syncSocketPath,
		tls: overrides.tls ?? DEFAULTS.tls,
		sources: overrides.sources ?? [],
		corsOrigins: overrides.corsOrigins ?? [],
		staticContext: overrides.staticContext ?? {},
		headerContext: overrides.headerContext ?? {},
		streamDeadlineMs: overrides.streamDeadlineMs ?? DEFAULTS.streamDeadlineMs,
		disableSyncMetadata:
			overrides.disableSyncMetadata ?? DEFAULTS.disableSyncMetadata,
		maxRequestBodyBytes:
			overrides.maxRequestBodyBytes ?? DEFAULTS.maxRequestBodyBytes,
		maxRequestHeaderBytes:
			overrides.maxRequestHeaderBytes ?? DEFAULTS.maxRequestHeaderBytes,
		keepAliveMinTimeMs:
			overrides.keepAliveMinTimeMs ?? DEFAULTS.keepAliveMinTimeMs,
		keepAlivePermitWithoutStream:
			overrides.keepAlivePermitWithoutStream ??
			DEFAULTS.keepAlivePermitWithoutStream,
		logFormat: overrides.logFormat ?? DEFAULTS.logFormat,
		debug: overrides.debug ?? DEFAULTS.debug,
		strictValidation: overrides.strictValidation ?? DEFAULTS.strictValidation,
		onSourceStartupFailure:
			overrides.onSourceStartupFailure ?? DEFAULTS.onSourceStartupFailure,
		metricsExporter: overrides.metricsExporter ?? DEFAULTS.metricsExporter,
		otelCollectorUri: overrides.otelCollectorUri ?? DEFAULTS.otelCollectorUri,
	};
}
