/**
 * Resolves what the daemon exports over OTLP from DaemonConfig and the standard `OTEL_*` environment. Pure: the
 * environment comes in as a plain object (C24). `undefined` means telemetry is off: nothing is loaded or exported.
 *
 * Go flagd's `--otel-collector-uri` is an OTLP/gRPC target (`host:4317`). This daemon speaks OTLP/HTTP (JSON), so
 * the URI is an `http(s)://host:4318` base URL; a bare `host:port` is mapped to `http://host:port` with a warning.
 */
import type { DaemonConfig } from "../config/daemon-config.js";
import { DaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";

/** The resolved OTLP export settings. */
export interface TelemetryConfig {
	/** Full OTLP/HTTP traces URL (`…/v1/traces`). */
	readonly tracesUrl: string;
	/** Full OTLP/HTTP metrics URL (`…/v1/metrics`); undefined unless metricsExporter is "otel". */
	readonly metricsUrl: string | undefined;
	/** `service.name` resource attribute. @default "flagd" */
	readonly serviceName: string;
	/** Extra resource attributes from OTEL_RESOURCE_ATTRIBUTES. */
	readonly resourceAttributes: Readonly<Record<string, string>>;
	/** Metrics push interval (OTEL_METRIC_EXPORT_INTERVAL). @default 60_000 */
	readonly metricExportIntervalMs: number;
	/** Delay between span batch exports (OTEL_BSP_SCHEDULE_DELAY). @default 5_000 */
	readonly spanExportDelayMs: number;
	/** PEM files for TLS to the collector (read at start, then every `tlsReloadIntervalMs`). */
	readonly caPath: string | undefined;
	readonly certPath: string | undefined;
	readonly keyPath: string | undefined;
	/** How often the TLS files are re-read (`--otel-reload-interval`); 0 = never. @default 3_600_000 */
	readonly tlsReloadIntervalMs: number;
}

export type TelemetryEnv = Readonly<Record<string, string | undefined>>;

const DEFAULT_SERVICE_NAME = "flagd";
const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;
const DEFAULT_SPAN_EXPORT_DELAY_MS = 5_000;
const DEFAULT_TLS_RELOAD_INTERVAL_MS = 3_600_000;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** See the file comment. Throws DaemonError CONFIG_INVALID for an unusable URI or TLS half-configuration. */
export function resolveTelemetryConfig(
	config: DaemonConfig,
	env: TelemetryEnv,
	logger: Logger,
): TelemetryConfig | undefined {
	if (isTrue(env.OTEL_SDK_DISABLED)) return undefined;
	const base =
		nonEmpty(config.otelCollectorUri) ??
		nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
	const tracesOverride = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
	const metricsOverride = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
	if (base === undefined && tracesOverride === undefined) {
		if (config.metricsExporter === "otel") {
			logger.warn(
				{},
				"metrics-exporter is otel but no OTLP endpoint is set (--otel-collector-uri or OTEL_EXPORTER_OTLP_ENDPOINT); nothing is pushed, /metrics still serves Prometheus",
			);
		}
		return undefined;
	}
	const baseUrl =
		base === undefined ? undefined : normaliseBaseUrl(base, logger);
	const tracesUrl =
		tracesOverride === undefined
			? `${baseUrl}/v1/traces`
			: normaliseBaseUrl(tracesOverride, logger);
	let metricsUrl: string | undefined;
	if (config.metricsExporter === "otel") {
		if (metricsOverride !== undefined) {
			metricsUrl = normaliseBaseUrl(metricsOverride, logger);
		} else if (baseUrl !== undefined) {
			metricsUrl = `${baseUrl}/v1/metrics`;
		} else {
			logger.warn(
				{},
				"metrics-exporter is otel but only OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; metrics are not pushed",
			);
		}
	}
	if (
		(config.otelCertPath === undefined) !==
		(config.otelKeyPath === undefined)
	) {
		throw new DaemonError(
			"CONFIG_INVALID",
			"--otel-cert-path and --otel-key-path must be set together",
		);
	}
	return {
		tracesUrl,
		metricsUrl,
		serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? DEFAULT_SERVICE_NAME,
		resourceAttributes: parseResourceAttributes(
			env.OTEL_RESOURCE_ATTRIBUTES ?? "",
			logger,
		),
		metricExportIntervalMs: positiveMs(
			"OTEL_METRIC_EXPORT_INTERVAL",
			env.OTEL_METRIC_EXPORT_INTERVAL,
			DEFAULT_METRIC_EXPORT_INTERVAL_MS,
			logger,
		),
		spanExportDelayMs: positiveMs(
			"OTEL_BSP_SCHEDULE_DELAY",
			env.OTEL_BSP_SCHEDULE_DELAY,
			DEFAULT_SPAN_EXPORT_DELAY_MS,
			logger,
		),
		caPath: config.otelCaPath,
		certPath: config.otelCertPath,
		keyPath: config.otelKeyPath,
		tlsReloadIntervalMs:
			config.otelReloadIntervalMs ?? DEFAULT_TLS_RELOAD_INTERVAL_MS,
	};
}

function normaliseBaseUrl(raw: string, logger: Logger): string {
	let text = raw;
	const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
	if (scheme === undefined) {
		text = `http://${raw}`;
		logger.warn(
			{ uri: raw },
			`OTLP collector URI "${raw}" has no scheme; using ${text} (this daemon speaks OTLP/HTTP, usually port 4318, not Go flagd's OTLP/gRPC on 4317)`,
		);
	} else if (scheme !== "http" && scheme !== "https") {
		throw new DaemonError(
			"CONFIG_INVALID",
			`OTLP collector URI "${raw}": only http:// and https:// (OTLP/HTTP) are supported, not ${scheme}://`,
		);
	}
	let url: URL;
	try {
		url = new URL(text);
	} catch (e: unknown) {
		throw new DaemonError(
			"CONFIG_INVALID",
			`OTLP collector URI "${raw}" is not a valid URL`,
			{
				cause: e,
			},
		);
	}
	if (url.port === "4317") {
		logger.warn(
			{ uri: raw },
			"OTLP collector URI uses port 4317 (OTLP/gRPC); this daemon sends OTLP/HTTP, which collectors serve on 4318",
		);
	}
	return url.href.replace(/\/+$/, "");
}

/**
 * `key1=value1,key2=value2` with percent-encoded keys and values (OTel resource SDK spec). A malformed entry is
 * skipped with a warning naming it; keys that would touch Object.prototype are ignored (the result has no prototype).
 */
export function parseResourceAttributes(
	raw: string,
	logger: Logger,
): Readonly<Record<string, string>> {
	const attributes: Record<string, string> = Object.create(null);
	for (const entry of raw.split(",")) {
		if (entry.trim() === "") continue;
		const eq = entry.indexOf("=");
		let key: string;
		let value: string;
		try {
			key = decodeURIComponent(entry.slice(0, eq).trim());
			value = decodeURIComponent(entry.slice(eq + 1).trim());
		} catch {
			key = "";
			value = "";
		}
		if (eq <= 0 || key === "") {
			logger.warn(
				{ entry },
				`OTEL_RESOURCE_ATTRIBUTES: ignoring malformed entry "${entry}"`,
			);
			continue;
		}
		attributes[key] = value;
	}
	return attributes;
}

function positiveMs(
	name: string,
	raw: string | undefined,
	fallback: number,
	logger: Logger,
): number {
	if (raw === undefined || raw.trim() === "") return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value <= 0) {
		logger.warn(
			{ variable: name, value: raw },
			`${name} "${raw}" is not a positive integer of milliseconds; using ${fallback}`,
		);
		return fallback;
	}
	return value;
}

function nonEmpty(value: string | undefined): string | undefined {
	return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function isTrue(value: string | undefined): boolean {
	return value?.trim().toLowerCase() === "true";
}
