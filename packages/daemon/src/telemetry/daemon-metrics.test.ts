import http from "node:http";
import type { AddressInfo } from "node:net";
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

	it("observeResponse counts a request in flight until its response closes, then its duration under the status code", async () => {
		const metrics = new DaemonMetrics();
		let inFlight = "";
		const closed: Promise<void>[] = [];
		const countsInFlight: number[] = [];
		const server = http.createServer((req, res) => {
			metrics.observeResponse("/svc/Method", req.method ?? "", "http", res);
			countsInFlight.push(metrics.requestCount());
			closed.push(new Promise((resolve) => res.on("close", resolve)));
			void metrics.registry.metrics().then((text) => {
				inFlight = text;
				res.writeHead(req.url === "/missing" ? 404 : 201);
				res.end();
			});
		});
		await new Promise<void>((resolve) =>
			server.listen(0, "127.0.0.1", resolve),
		);
		try {
			const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
			expect((await fetch(`${base}/a`, { method: "POST" })).status).toBe(201);
			expect((await fetch(`${base}/b`, { method: "POST" })).status).toBe(201);
			expect((await fetch(`${base}/missing`)).status).toBe(404);
			await Promise.all(closed);
			// requestCount() counts answered requests: none while the first is in flight, all three after.
			expect(countsInFlight).toEqual([0, 1, 2]);
			expect(metrics.requestCount()).toBe(3);
			const labels =
				'service_name="flagd",http_route="/svc/Method",http_request_method';
			expect(inFlight).toContain(
				`http_server_active_requests{${labels}="GET",url_scheme="http"} 1`,
			);
			const text = await metrics.registry.metrics();
			expect(text).toContain(
				`http_server_request_duration_seconds_count{${labels}="POST",url_scheme="http",http_response_status_code="201"} 2`,
			);
			expect(text).toContain(
				`http_server_request_duration_seconds_bucket{le="+Inf",${labels}="GET",url_scheme="http",http_response_status_code="404"} 1`,
			);
			expect(text).toContain(
				`http_server_active_requests{${labels}="POST",url_scheme="http"} 0`,
			);
			expect(text).toContain(
				`http_server_active_requests{${labels}="GET",url_scheme="http"} 0`,
			);
		} finally {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		}
	});
});
