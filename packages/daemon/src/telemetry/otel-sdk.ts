/**
 * The OpenTelemetry SDK wiring, loaded with `await import()` only when an OTLP endpoint is configured: a tracer
 * provider (BatchSpanProcessor → OTLP/HTTP JSON) and, for metricsExporter "otel", a periodic OTLP/HTTP metrics
 * push of flagd's instruments. Nothing is registered globally, so an embedding application's own OTel setup and
 * several daemons in one process do not interfere.
 */
import {
	type Attributes,
	type Context,
	ROOT_CONTEXT,
	type TextMapGetter,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
	MeterProvider,
	PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
	BasicTracerProvider,
	BatchSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import type { Logger } from "../logging/logger.js";
import { CollectorTlsFiles } from "./collector-tls-files.js";
import type { DaemonMetrics } from "./daemon-metrics.js";
import { type DaemonTracing, TRACER_NAMES } from "./daemon-tracing.js";
import {
	type CollectorTls,
	OtlpHttpMetricExporter,
	OtlpHttpSpanExporter,
} from "./otlp-http-exporters.js";
import type { TelemetryConfig } from "./telemetry-config.js";

/** A running SDK: tracing for the services and a flushing shutdown. */
export interface OtelSdk {
	readonly tracing: DaemonTracing;
	/** Flushes pending spans and metrics, then stops the exporters. Never rejects (failures are logged). */
	shutdown(): Promise<void>;
}

const HEADER_GETTER: TextMapGetter<(name: string) => string | undefined> = {
	get: (getHeader, key) => getHeader(key),
	keys: () => ["traceparent", "tracestate"],
};

/** See the file comment. */
export function startOtelSdk(
	config: TelemetryConfig,
	metrics: DaemonMetrics,
	logger: Logger,
): OtelSdk {
	const tlsFiles = new CollectorTlsFiles({
		caPath: config.caPath,
		certPath: config.certPath,
		keyPath: config.keyPath,
		reloadIntervalMs: config.tlsReloadIntervalMs,
		logger,
	});
	tlsFiles.start();
	const agentOptions = (): CollectorTls => tlsFiles.current;
	const resource = resourceFromAttributes({
		...config.resourceAttributes,
		"service.name": config.serviceName,
	});
	const spanExporter = new OtlpHttpSpanExporter({
		url: config.tracesUrl,
		tls: agentOptions,
		logger,
	});
	const tracerProvider = new BasicTracerProvider({
		resource,
		spanProcessors: [
			new BatchSpanProcessor(spanExporter, {
				scheduledDelayMillis: config.spanExportDelayMs,
			}),
		],
	});
	const propagator = new W3CTraceContextPropagator();
	const tracing: DaemonTracing = {
		evaluationV1: tracerProvider.getTracer(TRACER_NAMES.evaluationV1),
		evaluationV2: tracerProvider.getTracer(TRACER_NAMES.evaluationV2),
		ofrep: tracerProvider.getTracer(TRACER_NAMES.ofrep),
		sync: tracerProvider.getTracer(TRACER_NAMES.sync),
		extract: (getHeader): Context =>
			propagator.extract(ROOT_CONTEXT, getHeader, HEADER_GETTER),
	};
	const meterProvider =
		config.metricsUrl === undefined
			? undefined
			: startMetricsPush({
					config,
					url: config.metricsUrl,
					metrics,
					logger,
					agentOptions,
					resource,
				});
	logger.info(
		{ traces: config.tracesUrl, metrics: config.metricsUrl },
		"OpenTelemetry export enabled (OTLP/HTTP JSON)",
	);
	return {
		tracing,
		async shutdown() {
			tlsFiles.stop();
			metrics.setObserver(undefined);
			const results = await Promise.allSettled([
				tracerProvider.shutdown(),
				meterProvider?.shutdown() ?? Promise.resolve(),
			]);
			for (const result of results) {
				if (result.status === "rejected") {
					logger.warn(
						{ err: result.reason },
						`OpenTelemetry shutdown failed: ${String(result.reason)}`,
					);
				}
			}
		},
	};
}

function startMetricsPush(parts: {
	config: TelemetryConfig;
	url: string;
	metrics: DaemonMetrics;
	logger: Logger;
	agentOptions: () => CollectorTls;
	resource: ReturnType<typeof resourceFromAttributes>;
}): MeterProvider {
	const { metrics, config } = parts;
	const exporter = new OtlpHttpMetricExporter({
		url: parts.url,
		tls: parts.agentOptions,
		logger: parts.logger,
	});
	const provider = new MeterProvider({
		resource: parts.resource,
		readers: [
			new PeriodicExportingMetricReader({
				exporter,
				exportIntervalMillis: config.metricExportIntervalMs,
				exportTimeoutMillis: Math.min(30_000, config.metricExportIntervalMs),
			}),
		],
	});
	const meter = provider.getMeter("flagd");
	const requestDuration = meter.createHistogram(
		"http.server.request.duration",
		{
			unit: "s",
			description: "Duration of HTTP server requests.",
		},
	);
	const syncStreamDuration = meter.createHistogram(
		"feature_flag.flagd.sync.stream.duration",
		{
			unit: "s",
			description: "Duration of sync streams.",
			advice: {
				explicitBucketBoundaries: [30, 60, 300, 900, 1800, 3600, 10800],
			},
		},
	);
	meter
		.createObservableUpDownCounter("http.server.active_requests", {
			unit: "{request}",
			description: "Number of active HTTP server requests.",
		})
		.addCallback((result) =>
			metrics.forEachActiveRequests((labels, active) =>
				result.observe(active, dotted(labels)),
			),
		);
	meter
		.createObservableCounter("feature_flag.flagd.impression", {
			unit: "{impression}",
			description: "The number of evaluations for a given flag.",
		})
		.addCallback((result) =>
			metrics.forEachEvaluation((series) => {
				if (series.errorCode !== undefined) return;
				result.observe(series.count, {
					"feature_flag.key": series.key,
					"feature_flag.result.variant": series.variant ?? "",
					"feature_flag.provider.name": "flagd",
					"feature_flag.reason": series.reason,
				});
			}),
		);
	meter
		.createObservableCounter("feature_flag.flagd.result.reason", {
			unit: "{reason}",
			description: "The number of evaluations for a given reason.",
		})
		.addCallback((result) => {
			// One series per (reason, key-or-error): the per-variant split of the impression counter is summed here.
			const sums = new Map<string, { attributes: Attributes; count: number }>();
			metrics.forEachEvaluation((series) => {
				const attributes: Attributes =
					series.errorCode === undefined
						? {
								"feature_flag.provider.name": "flagd",
								"feature_flag.reason": series.reason,
								"feature_flag.key": series.key,
							}
						: {
								"feature_flag.provider.name": "flagd",
								"feature_flag.reason": series.reason,
								"exception.type": series.errorCode,
							};
				const id = JSON.stringify(attributes);
				const sum = sums.get(id);
				if (sum === undefined)
					sums.set(id, { attributes, count: series.count });
				else sum.count += series.count;
			});
			for (const { attributes, count } of sums.values())
				result.observe(count, attributes);
		});
	meter
		.createObservableUpDownCounter("feature_flag.flagd.sync.active_streams", {
			unit: "{stream}",
			description: "The number of active sync streams.",
		})
		.addCallback((result) =>
			metrics.forEachActiveSyncStreams((selector, providerId, active) =>
				result.observe(active, { selector, provider_id: providerId }),
			),
		);
	metrics.setObserver({
		requestEnded(labels, statusCode, seconds) {
			requestDuration.record(seconds, {
				...dotted(labels),
				"http.response.status_code": statusCode,
			});
		},
		syncStreamEnded(labels, seconds) {
			syncStreamDuration.record(seconds, {
				selector: labels.selector,
				provider_id: labels.providerId,
				reason: labels.reason,
			});
		},
	});
	return provider;
}

/** Prometheus label names (`http_route`) back to the OTel attribute names (`http.route`). */
function dotted(labels: Readonly<Record<string, string>>): Attributes {
	const attributes: Attributes = {};
	for (const [name, value] of Object.entries(labels)) {
		attributes[
			name.replaceAll("_", ".").replace("status.code", "status_code")
		] = value;
	}
	return attributes;
}
