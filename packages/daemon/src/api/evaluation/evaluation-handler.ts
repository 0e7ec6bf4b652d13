/**
 * The request handler of the evaluation port (8013): CORS, then one connect-node adapter serving
 * flagd.evaluation.v1 and v2 (and the deprecated schema.v1) over gRPC, gRPC-web and Connect. JSON output follows Go protojson with
 * EmitUnpopulated (zero values present, int64 as strings); unknown input fields are ignored (DiscardUnknown).
 */
import {
	EvaluationServiceV1,
	EvaluationServiceV2,
	SchemaServiceV1,
} from "@flagd-ts/protocol";
import type { Logger } from "../../logging/logger.js";
import type { FlagResolver } from "../../resolver/flag-resolver.js";
import type { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import type { RequestTelemetry } from "../../telemetry/request-telemetry.js";
import {
	createConnectHandler,
	type ServiceRoute,
	serviceRoute,
} from "../../transport/connect-handler.js";
import { CorsPolicy } from "../../transport/cors-policy.js";
import type {
	NodeRequest,
	NodeResponse,
	RequestHandler,
} from "../../transport/http-listener.js";
import type { StreamLimiter } from "../../transport/stream-limiter.js";
import type { StreamRequest } from "../../transport/stream-request.js";
import {
	createEvaluationServiceV1,
	type EventStreamSettings,
} from "./evaluation-service-v1.js";
import { createEvaluationServiceV2 } from "./evaluation-service-v2.js";
import { directEventStream, EventStreamHub } from "./event-stream-hub.js";
import { createSchemaServiceV1 } from "./schema-service-v1.js";
import { TYPED_METHOD_NAMES } from "./typed-resolve.js";
import { UnaryAnswerCache } from "./unary-answer-cache.js";

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

/**
 * flagd.evaluation.v1 and v2 as the evaluation port registers them. Every unary method evaluates and returns at
 * once, so each is declared synchronous and the direct unary paths serve it; EventStream takes the direct streaming
 * path (event-stream-hub.ts), and connect serves the calls that path does not take.
 */
export function evaluationRoutes(
	resolver: FlagResolver,
	streams: EventStreamSettings,
	telemetry?: RequestTelemetry,
): ServiceRoute[] {
	// Plain EventStream calls (v1 and v2 alike) take the direct streaming path: one hub, one encoding per change.
	const eventStream = directEventStream(
		resolver,
		new EventStreamHub({ store: resolver.store, ...streams }),
	);
	return [
		serviceRoute(
			EvaluationServiceV1,
			createEvaluationServiceV1(resolver, streams, telemetry),
			{
				synchronous: [...TYPED_METHOD_NAMES, "resolveAll"],
				directStreams: { eventStream },
			},
		),
		serviceRoute(
			EvaluationServiceV2,
			createEvaluationServiceV2(resolver, streams, telemetry),
			{ synchronous: TYPED_METHOD_NAMES, directStreams: { eventStream } },
		),
		// Deprecated, still served by flagd; ResolveAll reshapes the (synchronous) v1 answer synchronously, and its
		// EventStream (no server-side deadline) takes the direct streaming path from a hub of its own.
		serviceRoute(
			SchemaServiceV1,
			createSchemaServiceV1(resolver, streams, telemetry),
			{
				synchronous: [...TYPED_METHOD_NAMES, "resolveAll"],
				directStreams: {
					eventStream: directEventStream(
						resolver,
						new EventStreamHub({
							store: resolver.store,
							...streams,
							deadlineMs: 0,
						}),
					),
				},
			},
		),
	];
}

/** See the file comment. */
export function createEvaluationHandler(
	options: EvaluationHandlerOptions,
): RequestHandler {
	const adapter = createConnectHandler({
		logger: options.logger,
		services: evaluationRoutes(
			options.resolver,
			{ logger: options.logger, ...options.streams },
			options.telemetry,
		),
		readMaxBytes:
			options.maxRequestBodyBytes > 0
				? options.maxRequestBodyBytes
				: 0xffffffff,
		jsonOptions: { alwaysEmitImplicit: true, ignoreUnknownFields: true },
		streamLimiter: options.eventStreamLimiter,
		// With spans or request logs on every call is computed: each has its own span and request id.
		answerCache: quiet(options.telemetry)
			? new UnaryAnswerCache(options.resolver)
			: undefined,
	});
	const cors = new CorsPolicy(options.corsOrigins);
	const { metrics, scheme } = options;
	const handle = (req: NodeRequest, res: NodeResponse): void => {
		if (cors.handle(req, res)) return;
		metrics.observeResponse(routeLabel(req.url), req.method ?? "", scheme, res);
		adapter(req, res);
	};
	const streamPath = adapter.http2Stream;
	if (streamPath === undefined) return handle;
	// A browser's request (with an Origin) goes on to CORS above; only what the adapter takes from the stream is
	// counted here, the rest is counted once it reaches `handle`.
	const http2Stream = (req: StreamRequest): boolean => {
		if (req.headers.origin !== undefined || !streamPath(req)) return false;
		metrics.observeResponse(
			routeLabel(req.url),
			req.method ?? "",
			scheme,
			req.response,
		);
		return true;
	};
	return Object.assign(handle, { http2Stream });
}

/** The route label of a request: its path for the evaluation services, `other` for anything else. */
function routeLabel(url: string | undefined): string {
	const u = url ?? "/";
	return u.startsWith("/flagd.") || u.startsWith("/schema.v1.")
		? routeOf(u)
		: "other";
}

function quiet(telemetry: RequestTelemetry | undefined): boolean {
	return (
		telemetry === undefined ||
		(telemetry.tracing === undefined && telemetry.requestLogger === undefined)
	);
}

function routeOf(url: string): string {
	const query = url.indexOf("?");
	return query < 0 ? url : url.slice(0, query);
}
