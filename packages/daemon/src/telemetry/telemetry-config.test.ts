import { describe, expect, it } from "@jest/globals";
import type { DaemonConfig } from "../config/daemon-config.js";
import type { Logger } from "../logging/logger.js";
import { defaultDaemonConfig } from "../runtime/default-daemon-config.js";
import {
	parseResourceAttributes,
	resolveTelemetryConfig,
} from "./telemetry-config.js";

function recorder(): { logger: Logger; warnings: string[] } {
	const warnings: string[] = [];
	const logger: Logger = {
		debug() {},
		info() {},
		warn: (_fields, message) => warnings.push(message),
		error: (_fields, message) => warnings.push(message),
		child: () => logger,
	};
	return { logger, warnings };
}

function config(overrides: Partial<DaemonConfig> = {}): DaemonConfig {
	return defaultDaemonConfig({ sources: [], ...overrides });
}

describe("resolveTelemetryConfig", () => {
	it("is off without a collector URI or OTLP endpoint", () => {
		const { logger, warnings } = recorder();
		expect(resolveTelemetryConfig(config(), {}, logger)).toBeUndefined();
		expect(warnings).toEqual([]);
	});

	it("warns when metricsExporter is otel but there is nowhere to push", () => {
		const { logger, warnings } = recorder();
		expect(
			resolveTelemetryConfig(config({ metricsExporter: "otel" }), {}, logger),
		).toBeUndefined();
		expect(warnings[0]).toContain("no OTLP endpoint");
	});

	it("builds signal URLs from --otel-collector-uri and fills the defaults", () => {
		const { logger, warnings } = recorder();
		expect(
			resolveTelemetryConfig(
				config({
					otelCollectorUri: "https://collector.example:4318/",
					metricsExporter: "otel",
				}),
				{},
				logger,
			),
		).toEqual({
			tracesUrl: "https://collector.example:4318/v1/traces",
			metricsUrl: "https://collector.example:4318/v1/metrics",
			serviceName: "flagd",
			resourceAttributes: {},
			metricExportIntervalMs: 60_000,
			spanExportDelayMs: 5_000,
			caPath: undefined,
			certPath: undefined,
			keyPath: undefined,
			tlsReloadIntervalMs: 3_600_000,
		});
		expect(warnings).toEqual([]);
	});

	it("prefers --otel-collector-uri over OTEL_EXPORTER_OTLP_ENDPOINT, and pushes no metrics for prometheus", () => {
		const { logger } = recorder();
		const resolved = resolveTelemetryConfig(
			config({ otelCollectorUri: "http://flag:4318" }),
			{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318" },
			logger,
		);
		expect(resolved?.tracesUrl).toBe("http://flag:4318/v1/traces");
		expect(resolved?.metricsUrl).toBeUndefined();
	});

	it("honours the signal-specific endpoint variables as full URLs", () => {
		const { logger } = recorder();
		const resolved = resolveTelemetryConfig(
			config({ metricsExporter: "otel" }),
			{
				OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom/traces",
				OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://m:4318/custom/metrics",
			},
			logger,
		);
		expect(resolved?.tracesUrl).toBe("http://t:4318/custom/traces");
		expect(resolved?.metricsUrl).toBe("http://m:4318/custom/metrics");
	});

	it("maps a bare host:port (Go flagd's gRPC target form) to http:// with a warning, and flags port 4317", () => {
		const { logger, warnings } = recorder();
		const resolved = resolveTelemetryConfig(
			config({ otelCollectorUri: "otel-collector:4317" }),
			{},
			logger,
		);
		expect(resolved?.tracesUrl).toBe("http://otel-collector:4317/v1/traces");
		expect(warnings).toHaveLength(2);
		expect(warnings[0]).toContain("has no scheme");
		expect(warnings[1]).toContain("4317 (OTLP/gRPC)");
	});

	it("rejects other schemes with CONFIG_INVALID", () => {
		const { logger } = recorder();
		expect(() =>
			resolveTelemetryConfig(
				config({ otelCollectorUri: "dns:///collector:4317" }),
				{},
				logger,
			),
		).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
		expect(() =>
			resolveTelemetryConfig(
				config({ otelCollectorUri: "http://[bad" }),
				{},
				logger,
			),
		).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
	});

	it("requires the client certificate and key together", () => {
		const { logger } = recorder();
		expect(() =>
			resolveTelemetryConfig(
				config({
					otelCollectorUri: "https://c:4318",
					otelCertPath: "/tmp/cert.pem",
				}),
				{},
				logger,
			),
		).toThrow(/must be set together/);
	});

	it("reads service name, intervals and OTEL_SDK_DISABLED from the environment", () => {
		const { logger, warnings } = recorder();
		const resolved = resolveTelemetryConfig(
			config({ otelCollectorUri: "http://c:4318" }),
			{
				OTEL_SERVICE_NAME: "edge-flagd",
				OTEL_METRIC_EXPORT_INTERVAL: "15000",
				OTEL_BSP_SCHEDULE_DELAY: "soon",
			},
			logger,
		);
		expect(resolved?.serviceName).toBe("edge-flagd");
		expect(resolved?.metricExportIntervalMs).toBe(15_000);
		expect(resolved?.spanExportDelayMs).toBe(5_000);
		expect(warnings[0]).toContain('OTEL_BSP_SCHEDULE_DELAY "soon"');
		expect(
			resolveTelemetryConfig(
				config({ otelCollectorUri: "http://c:4318" }),
				{ OTEL_SDK_DISABLED: "true" },
				logger,
			),
		).toBeUndefined();
	});
});

describe("parseResourceAttributes", () => {
	it("parses percent-encoded pairs and skips malformed entries with a warning", () => {
		const { logger, warnings } = recorder();
		const attributes = parseResourceAttributes(
			"deployment.environment=prod, team=flags%20team,broken,=x,bad=%E0%A4%A",
			logger,
		);
		expect({ ...attributes }).toEqual({
			"deployment.environment": "prod",
			team: "flags team",
		});
		expect(warnings).toHaveLength(3);
	});

	it("keeps __proto__ as a plain key without touching Object.prototype", () => {
		const { logger } = recorder();
		const attributes = parseResourceAttributes(
			"__proto__=polluted,constructor=x",
			logger,
		);
		expect(Object.keys(attributes)).toEqual(["__proto__", "constructor"]);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.getPrototypeOf(attributes)).toBeNull();
	});
});
