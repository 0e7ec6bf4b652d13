/**
 * A Connect interceptor that propagates the caller's OpenTelemetry context to the daemon, so the daemon's RPC span
 * becomes a child of the application span that evaluated the flag.
 *
 * It first runs the globally registered propagator (`propagation.inject`), which carries whatever the application
 * configured (W3C trace context, baggage, B3, …). When that wrote no `traceparent` (no propagator registered: the
 * API's default is a no-op) and a valid span is active, it writes the W3C `traceparent`/`tracestate` headers
 * itself, because that is what the daemon reads. With no active span it adds nothing. When `@opentelemetry/api`
 * has no SDK registered, `context.active()` is the root context and the cost is a few no-op calls.
 */
import type { Interceptor } from "@connectrpc/connect";
import {
	context,
	isSpanContextValid,
	propagation,
	type TextMapSetter,
	trace,
} from "@opentelemetry/api";

const HEADER_SETTER: TextMapSetter<Headers> = {
	set(carrier, key, value) {
		carrier.set(key, value);
	},
};

/** See the file comment. */
export const traceContextInterceptor: Interceptor = (next) => (request) => {
	injectTraceContext(request.header);
	return next(request);
};

/** Writes the active OTel context into `headers` (exported for transports built outside this package). */
export function injectTraceContext(headers: Headers): void {
	const active = context.active();
	propagation.inject(active, headers, HEADER_SETTER);
	if (headers.has("traceparent")) return;
	const spanContext = trace.getSpanContext(active);
	if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
	const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
	headers.set(
		"traceparent",
		`00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
	);
	const state = spanContext.traceState?.serialize();
	if (state !== undefined && state !== "") headers.set("tracestate", state);
}
