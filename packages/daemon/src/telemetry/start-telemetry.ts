/**
 * Entry point of telemetry/: resolves the OTLP settings and, only when an endpoint is configured, loads the
 * OpenTelemetry SDK (`await import`) and starts it. Without one it returns `undefined` and nothing beyond
 * `@opentelemetry/api`'s types is ever loaded.
 */
import type { DaemonConfig } from "../config/daemon-config.js";
import type { Logger } from "../logging/logger.js";
import type { DaemonMetrics } from "./daemon-metrics.js";
import type { OtelSdk } from "./otel-sdk.js";
import {
	resolveTelemetryConfig,
	type TelemetryEnv,
} from "./telemetry-config.js";

/** See the file comment. Throws DaemonError CONFIG_INVALID for an unusable collector URI or TLS file. */
export async function startTelemetry(
	config: DaemonConfig,
	parts: {
		readonly env: TelemetryEnv;
		readonly metrics: DaemonMetrics;
		readonly logger: Logger;
	},
): Promise<OtelSdk | undefined> {
	const logger = parts.logger.child({ component: "telemetry" });
	const telemetryConfig = resolveTelemetryConfig(config, parts.env, logger);
	if (telemetryConfig === undefined) return undefined;
	const sdk = await import("./otel-sdk.js");
	return sdk.startOtelSdk(telemetryConfig, parts.metrics, logger);
}
