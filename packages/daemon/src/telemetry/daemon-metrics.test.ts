import { describe, expect, it } from "@jest/globals";
import * as promClient from "prom-client";
import Counter from "prom-client/lib/counter.js";
import Gauge from "prom-client/lib/gauge.js";
import Histogram from "prom-client/lib/histogram.js";
import Registry from "prom-client/lib/registry.js";
import { DaemonMetrics } from "./daemon-metrics.js";

describe("DaemonMetrics", () => {
	it("uses prom-client's own classes, imported from their modules", () => {
		// An upgrade that moves these files or changes what they export fails here, not in production.
		expect(Counter).toBe(promClient.Counter);
		expect(Gauge).toBe(promClient.Gauge);
		expect(Histogram).toBe(promClient.Histogram);
		expect(Registry).toBe(promClient.Registry);
		expect(new DaemonMetrics().registry).toBeInstanceOf(promClient.Registry);
	});

	it("serves its series in the Prometheus text format", async () => {
		const metrics = new DaemonMetrics();
		metrics.recordEvaluation("show-banner", "STATIC", "on", undefined);
		metrics.startRequest(
			"/flagd.evaluation.v1.Service/ResolveBoolean",
			"POST",
			"http",
		)(200);
		const text = await metrics.registry.metrics();
		expect(metrics.registry.contentType).toBe(
			promClient.Registry.PROMETHEUS_CONTENT_TYPE,
		);
		expect(text).toContain(
			'feature_flag_flagd_impression_total{feature_flag_key="show-banner",feature_flag_result_variant="on",feature_flag_provider_name="flagd",feature_flag_reason="STATIC"} 1',
		);
		expect(text).toContain(
			'http_server_request_duration_seconds_count{service_name="flagd",http_route="/flagd.evaluation.v1.Service/ResolveBoolean",http_request_method="POST",url_scheme="http",http_response_status_code="200"} 1',
		);
	});
});
