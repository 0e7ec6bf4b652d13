/**
 * OFREP on its own port (8016): `POST /ofrep/v1/evaluate/flags/{key}` and bulk `POST /ofrep/v1/evaluate/flags`,
 * with flagd's status codes, the `Flagd-Selector` header, `-H` header mappings, a body limit (413), CORS, and an
 * ETag on bulk responses so `If-None-Match` gets 304 when nothing changed for that context (flagd#1854), and, when
 * an event stream is configured, `GET /ofrep/v1/sse` change notifications advertised in every bulk response
 * (ofrep-event-stream.ts). This file routes and reads requests; ofrep-answers.ts evaluates and encodes (and caches)
 * the answers, ofrep-request.ts parses requests, ofrep-response.ts writes responses.
 */
import type { Span } from "@opentelemetry/api";
import type { FlagResolver } from "../../resolver/flag-resolver.js";
import type { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import {
	NO_REQUEST_TELEMETRY,
	type RequestTelemetry,
	requestIdOf,
	SPAN_ATTRIBUTES,
	startRequestSpan,
} from "../../telemetry/request-telemetry.js";
import { SPAN_STATUS_ERROR } from "../../telemetry/span-codes.js";
import { CorsPolicy } from "../../transport/cors-policy.js";
import type {
	NodeRequest,
	NodeResponse,
	RequestHandler,
} from "../../transport/http-listener.js";
import { type Observed, OfrepAnswers } from "./ofrep-answers.js";
import { OFREP_SSE_PATH, type OfrepEventStream } from "./ofrep-event-stream.js";
import { BULK_PATH, header, readBody, routeOf } from "./ofrep-request.js";
import { sendJson, sendText } from "./ofrep-response.js";

export interface OfrepHandlerOptions {
	readonly resolver: FlagResolver;
	readonly corsOrigins: readonly string[];
	/** 0 = no limit. */
	readonly maxRequestBodyBytes: number;
	readonly metrics: DaemonMetrics;
	/** Logs unexpected failures (never swallowed). */
	readonly onError: (error: unknown, path: string) => void;
	/** Spans (tracer flagd.ofrep.v1) and debug request logs. @default off */
	readonly telemetry?: RequestTelemetry;
	/** Change notifications (ADR-0008); without it there is no `/ofrep/v1/sse` and bulk responses advertise none. */
	readonly eventStream?: OfrepEventStream | undefined;
}

const BULK_ROUTE = BULK_PATH;
const SINGLE_ROUTE = `${BULK_PATH}/{key}`;

/** See the file comment. */
export function createOfrepHandler(
	options: OfrepHandlerOptions,
): RequestHandler {
	const cors = new CorsPolicy(options.corsOrigins);
	const telemetry = options.telemetry ?? NO_REQUEST_TELEMETRY;
	const quiet =
		telemetry.tracing === undefined && telemetry.requestLogger === undefined;
	const answers = new OfrepAnswers({
		resolver: options.resolver,
		eventStream: options.eventStream,
		contextHeaders: options.resolver.contexts.headerNames,
	});
	const { metrics, maxRequestBodyBytes, onError } = options;
	return (req, res) => {
		if (cors.handle(req, res)) return;
		const url = req.url ?? "/";
		const query = url.indexOf("?");
		const path = query < 0 ? url : url.slice(0, query);
		if (path === OFREP_SSE_PATH && options.eventStream !== undefined) {
			serveEventStream(options.eventStream, req, res);
			return;
		}
		const route = routeOf(path);
		if (route === undefined) {
			sendText(res, 404, "404 page not found\n");
			return;
		}
		if (req.method !== "POST") {
			res.setHeader("Allow", "POST");
			sendText(res, 405, "method not allowed\n");
			return;
		}
		metrics.observeResponse(
			route.bulk ? BULK_ROUTE : SINGLE_ROUTE,
			"POST",
			"http",
			res,
		);
		const observed = quiet
			? undefined
			: observe(telemetry, req, res, route.bulk);
		readBody(req, maxRequestBodyBytes, (body) => {
			try {
				if (body === undefined)
					sendJson(res, 413, { errorDetails: "request body too large" });
				else if (route.bulk) answers.bulk(req, res, body, observed);
				else answers.single(req, res, body, route.key, observed);
			} catch (e: unknown) {
				onError(e, path);
				if (!res.headersSent) sendText(res, 500, "internal error\n");
			}
		});
	};
}

/** Starts the request's span (ended with the response) and picks its request id. */
function observe(
	telemetry: RequestTelemetry,
	req: NodeRequest,
	res: NodeResponse,
	bulk: boolean,
): Observed {
	const getHeader = (name: string) => header(req, name);
	const requestId = requestIdOf(getHeader);
	const { tracing } = telemetry;
	if (tracing === undefined) return { telemetry, span: undefined, requestId };
	const span: Span = startRequestSpan(
		tracing,
		tracing.ofrep,
		bulk ? "evaluateFlagsBulk" : "evaluateFlag",
		getHeader,
	);
	span.setAttribute(SPAN_ATTRIBUTES.requestId, requestId);
	res.once("close", () => {
		span.setAttribute("http.response.status_code", res.statusCode);
		if (res.statusCode >= 500 || !res.writableFinished) {
			span.setStatus({ code: SPAN_STATUS_ERROR });
		}
		span.end();
	});
	return { telemetry, span, requestId };
}

/** `GET /ofrep/v1/sse[?selector=<Flagd-Selector expression>]`; Go flagd's `?channels=<flagSetId>` is read too. */
function serveEventStream(
	eventStream: OfrepEventStream,
	req: NodeRequest,
	res: NodeResponse,
): void {
	if (req.method !== "GET") {
		res.setHeader("Allow", "GET");
		sendText(res, 405, "method not allowed\n");
		return;
	}
	const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
	const channel = query.get("channels");
	const selector =
		query.get("selector") ??
		(channel === null || channel === "" ? undefined : `flagSetId=${channel}`) ??
		header(req, "flagd-selector");
	eventStream.handle(req, res, selector);
}
