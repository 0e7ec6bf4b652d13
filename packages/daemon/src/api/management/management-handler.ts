/**
 * The management port (8014): `/healthz` (200 while the process serves), `/readyz` (200 once every source synced
 * once, else 412, as flagd) and `/metrics` (Prometheus text) over HTTP/1.1 and h2c, plus the gRPC health check
 * for HTTP/2 gRPC requests.
 */
import type { Logger } from "../../logging/logger.js";
import type { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import type { RequestHandler } from "../../transport/http-listener.js";
import { createGrpcHealthHandler, isGrpcHealthRequest } from "./grpc-health.js";

export interface ManagementHandlerOptions {
	readonly metrics: DaemonMetrics;
	/** Readiness: every source delivered its first payload and the services listen. */
	readonly isReady: () => boolean;
	/** Service names the gRPC health check knows besides the overall "". */
	readonly services: ReadonlySet<string>;
	/** Logs failed gRPC health responses. */
	readonly logger: Logger;
	/** Logs a failed metrics collection (never swallowed). */
	readonly onError: (error: unknown) => void;
}

/** See the file comment. */
export function createManagementHandler(
	options: ManagementHandlerOptions,
): RequestHandler {
	const grpcHealth = createGrpcHealthHandler(options);
	return (req, res) => {
		if (isGrpcHealthRequest(req)) {
			grpcHealth(req, res);
			return;
		}
		const path = (req.url ?? "/").split("?")[0];
		if (req.method !== "GET" && req.method !== "HEAD") {
			res.writeHead(405, { "Content-Type": "text/plain", Allow: "GET, HEAD" });
			res.end("method not allowed\n");
			return;
		}
		if (path === "/healthz") {
			res.writeHead(200, { "Content-Type": "text/plain" });
			res.end("OK\n");
			return;
		}
		if (path === "/readyz") {
			const ready = options.isReady();
			res.writeHead(ready ? 200 : 412, { "Content-Type": "text/plain" });
			res.end(
				ready
					? "OK\n"
					: "not ready: waiting for every sync source's first payload\n",
			);
			return;
		}
		if (path === "/metrics") {
			options.metrics.registry.metrics().then(
				(text) => {
					res.writeHead(200, {
						"Content-Type": options.metrics.registry.contentType,
					});
					res.end(text);
				},
				(e: unknown) => {
					options.onError(e);
					res.writeHead(500, { "Content-Type": "text/plain" });
					res.end("metrics collection failed\n");
				},
			);
			return;
		}
		res.writeHead(404, { "Content-Type": "text/plain" });
		res.end("not found\n");
	};
}
