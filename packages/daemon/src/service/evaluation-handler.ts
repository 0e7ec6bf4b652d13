/**
 * The request handler of the evaluation port (8013): CORS, then one connect-node adapter serving
 * flagd.evaluation.v1 and v2 over gRPC, gRPC-web and Connect. JSON output follows Go protojson with
 * EmitUnpopulated (zero values present, int64 as strings); unknown input fields are ignored (DiscardUnknown).
 */
import { EvaluationServiceV1, EvaluationServiceV2 } from "@flagd-ts/protocol";
import type { Logger } from "../logger.js";
import type { RequestTelemetry } from "../telemetry/request-telemetry.js";
import { createConnectHandler, serviceRoute } from "./connect-handler.js";
import { CorsPolicy } from "./cors-policy.js";
import type { DaemonMetrics } from "./daemon-metrics.js";
import {
	createEvaluationServiceV1,
	type EventStreamSettings,
} from "./evaluation-service-v1.js";
import { createEvaluationServiceV2 } from "./evaluation-service-v2.js";
import type { FlagResolver } from "./flag-resolver.js";
import type { RequestHandler } from "./http-listener.js";
import type { StreamLimiter } from "./stream-limiter.js";

export interface EvaluationHandlerOptions {
	readonly resolver: FlagResolver;
	readonly streams: EventStreamSettings;
	readonly corsOrigins: readonly string[];
	/** Larger bodies fail with resource_exhausted; 0 = no limit. */
	readonly maxRequestBodyBytes: number;
	readonly metrics: DaemonMetrics;
	readonly scheme: "http" | "https";
	readonly logger: Logger;
	/** Spans and debug request logs. @default off */
	readonly telemetry?: RequestTelemetry;
	/** Caps the open EventStreams (v1 and v2 together). @default no cap */
	readonly eventStreamLimiter?: StreamLimiter;
}

/** See the file comment. */
export function createEvaluationHandler(
	options: EvaluationHandlerOptions,
): RequestHandler {
	const adapter = createConnectHandler({
		logger: options.logger,
		services: [
			serviceRoute(
				EvaluationServiceV1,
				createEvaluationServiceV1(
					options.resolver,
					options.streams,
					options.telemetry,
				),
			),
			serviceRoute(
				EvaluationServiceV2,
				createEvaluationServiceV2(
					options.resolver,
					options.streams,
					options.telemetry,
				),
			),
		],
		readMaxBytes:
			options.maxRequestBodyBytes > 0
				? options.maxRequestBodyBytes
				: 0xffffffff,
		jsonOptions: { alwaysEmitImplicit: true, ignoreUnknownFields: true },
		streamLimiter: options.eventStreamLimiter,
	});
	const cors = new CorsPolicy(options.corsOrigins);
	const { metrics, scheme } = options;
	return (req, res) => {
		if (cors.handle(req, res)) return;
		const url = req.url ?? "/";
		const route = url.startsWith("/flagd.") ? routeOf(url) : "other";
		const done = metrics.startRequest(route, req.method ?? "", scheme);
		res.once("close", () => done(res.statusCode));
		adapter(req, res);
	};
}

function routeOf(url: string): string {
	const query = url.indexOf("?");
	return query < 0 ? url : url.slice(0, query);
}
