/**
 * Per-request observability shared by the evaluation APIs (gRPC/Connect on 8013, OFREP on 8016): an RPC span that
 * is a child of the caller's W3C context, the evaluation outcome as span attributes, and a debug log line carrying
 * flag key and request id. Everything is skipped when tracing is off and debug logging is off.
 */
import { randomUUID } from "node:crypto";
import type { EvaluationResult } from "@flagd-ts/evaluator";
import type { Span, Tracer } from "@opentelemetry/api";
import type { Logger } from "../logging/logger.js";
import type { DaemonTracing } from "./daemon-tracing.js";
import { SPAN_KIND_SERVER, SPAN_STATUS_ERROR } from "./span-codes.js";

/** What the services take; both fields undefined = no per-request work at all. */
export interface RequestTelemetry {
	readonly tracing: DaemonTracing | undefined;
	/** Receives one debug line per evaluation; set only when debug logging is on, so normal logs stay quiet. */
	readonly requestLogger: Logger | undefined;
}

/** Telemetry off: what tests and embedders without tracing get. */
export const NO_REQUEST_TELEMETRY: RequestTelemetry = {
	tracing: undefined,
	requestLogger: undefined,
};

/** Span attribute names (OTel feature-flag semantic conventions, as Go flagd sets them). */
export const SPAN_ATTRIBUTES = {
	flagKey: "feature_flag.key",
	providerName: "feature_flag.provider.name",
	reason: "feature_flag.result.reason",
	variant: "feature_flag.result.variant",
	errorType: "error.type",
	requestId: "flagd.request_id",
	flagCount: "feature_flag.flagd.flag_count",
} as const;

/** The request id: `x-request-id` when the caller sent one, else a new UUID. */
export function requestIdOf(
	getHeader: (name: string) => string | undefined,
): string {
	const sent = getHeader("x-request-id");
	return sent === undefined || sent === "" ? randomUUID() : sent.slice(0, 128);
}

/** Starts a server span for one RPC, parented on the caller's trace context. */
export function startRequestSpan(
	tracing: DaemonTracing,
	tracer: Tracer,
	name: string,
	getHeader: (name: string) => string | undefined,
): Span {
	return tracer.startSpan(
		name,
		{
			kind: SPAN_KIND_SERVER,
			attributes: { [SPAN_ATTRIBUTES.providerName]: "flagd" },
		},
		tracing.extract(getHeader),
	);
}

/** Records one evaluation outcome on the span (if any) and in the debug log (if on). */
export function observeEvaluation(
	telemetry: RequestTelemetry,
	span: Span | undefined,
	request: {
		readonly api: string;
		readonly requestId: string | undefined;
		readonly key: string;
	},
	result: EvaluationResult,
): void {
	if (span !== undefined) {
		span.setAttribute(SPAN_ATTRIBUTES.flagKey, request.key);
		span.setAttribute(SPAN_ATTRIBUTES.reason, result.reason);
		if (result.variant !== undefined)
			span.setAttribute(SPAN_ATTRIBUTES.variant, result.variant);
		if (result.errorCode !== undefined) {
			span.setAttribute(SPAN_ATTRIBUTES.errorType, result.errorCode);
			span.setStatus({ code: SPAN_STATUS_ERROR, message: result.errorCode });
		}
	}
	telemetry.requestLogger?.debug(
		{
			api: request.api,
			requestId: request.requestId,
			flagKey: request.key,
			reason: result.reason,
			variant: result.variant,
			errorCode: result.errorCode,
		},
		"flag evaluated",
	);
}

/** Ends a request span, marking a thrown request error (bad selector, bad context) on it. */
export function endRequestSpan(span: Span, error: unknown): void {
	if (error !== undefined) {
		span.setStatus({
			code: SPAN_STATUS_ERROR,
			message: error instanceof Error ? error.message : String(error),
		});
		if (error instanceof Error) span.recordException(error);
	}
	span.end();
}

/**
 * Runs one unary evaluation inside a span when tracing is on; otherwise calls `run` directly (no span, no
 * closure beyond the caller's). The request id is generated only when something will use it.
 */
export function traceRequest<T>(
	telemetry: RequestTelemetry,
	tracer: Tracer | undefined,
	name: string,
	headers: Headers,
	run: (span: Span | undefined, requestId: string | undefined) => T,
): T {
	const { tracing } = telemetry;
	if (tracing === undefined || tracer === undefined) {
		const requestId =
			telemetry.requestLogger === undefined
				? undefined
				: requestIdOf(headerGetter(headers));
		return run(undefined, requestId);
	}
	const getHeader = headerGetter(headers);
	const span = startRequestSpan(tracing, tracer, name, getHeader);
	const requestId = requestIdOf(getHeader);
	span.setAttribute(SPAN_ATTRIBUTES.requestId, requestId);
	let failure: unknown;
	try {
		return run(span, requestId);
	} catch (e: unknown) {
		failure = e;
		throw e;
	} finally {
		endRequestSpan(span, failure);
	}
}

function headerGetter(headers: Headers): (name: string) => string | undefined {
	return (name) => headers.get(name) ?? undefined;
}
