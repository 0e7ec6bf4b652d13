/**
 * The two OpenTelemetry enum members the daemon's spans use, as constants. `@opentelemetry/api` is imported for its
 * types only: its module (global API registry, no-op tracer and meter, diagnostics) then loads only with the
 * OpenTelemetry SDK, when an OTLP endpoint is configured (start-telemetry.ts), not in every daemon. The values are
 * the API's stable enum values (checked against the API in span-codes.test.ts).
 */
import type { SpanKind, SpanStatusCode } from "@opentelemetry/api";

/** SpanKind.SERVER */
export const SPAN_KIND_SERVER = 1 as SpanKind.SERVER;

/** SpanStatusCode.ERROR */
export const SPAN_STATUS_ERROR = 2 as SpanStatusCode.ERROR;
