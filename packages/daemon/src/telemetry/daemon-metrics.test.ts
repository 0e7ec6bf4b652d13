import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { DaemonMetrics } from "./daemon-metrics.js";

describe("DaemonMetrics request metrics", () => {
	it("observeResponse counts a request in flight until its response closes, then its duration under the status code", async () => {
		const metrics = new DaemonMetrics();
		let inFlight = "";
		const closed: Promise<void>[] = [];
		const server = http.createServer((req, res) => {
			metrics.observeResponse("/svc/Method", req.method ?? "", "http", res);
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
