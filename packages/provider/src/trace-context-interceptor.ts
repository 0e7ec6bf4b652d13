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

const RECORD_SETTER: TextMapSetter<Record<string, string>> = {
	set(carrier, key, value) {
		carrier[key.toLowerCase()] = value;
	},
};

/** See the file comment. */
export const traceContextInterceptor: Interceptor = (next) => (request) => {
	injectTraceContext(request.header);
	return next(request);
};

/** Writes the active OTel context into `headers` (exported for transports built outside this package). */
export function injectTraceContext(headers: Headers): void {
	inject(headers, HEADER_SETTER, (key) => headers.has(key));
}

/** {@link injectTraceContext} for a plain header record with lower-case keys (the lean unary gRPC transport). */
export function injectTraceContextInto(headers: Record<string, string>): void {
	inject(headers, RECORD_SETTER, (key) => headers[key] !== undefined);
}

function inject<C>(
	carrier: C,
	setter: TextMapSetter<C>,
	has: (key: string) => boolean,
): void {
	const active = context.active();
	propagation.inject(active, carrier, setter);
	if (has("traceparent")) return;
	const spanContext = trace.getSpanContext(active);
	if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
	const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
	setter.set(
		carrier,
		"traceparent",
		`00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
	);
	const state = spanContext.traceState?.serialize();
	if (state !== undefined && state !== "")
		setter.set(carrier, "tracestate", state);
}
