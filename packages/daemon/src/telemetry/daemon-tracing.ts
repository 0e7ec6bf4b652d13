/**
 * What the services see of tracing: one tracer per flagd API (named as Go flagd names them) and the W3C
 * `traceparent`/`tracestate` extraction. When telemetry is off the services get `undefined` and skip every call,
 * so the evaluation hot path pays one `=== undefined` check and allocates nothing.
 */
import type { Context, Tracer } from "@opentelemetry/api";

/** See the file comment. */
export interface DaemonTracing {
	/** Tracer "flagd.evaluation.v1". */
	readonly evaluationV1: Tracer;
	/** Tracer "flagd.evaluation.v2". */
	readonly evaluationV2: Tracer;
	/** Tracer "flagd.ofrep.v1". */
	readonly ofrep: Tracer;
	/** Tracer "flagd.sync" (the `flagSync` span per applied payload). */
	readonly sync: Tracer;
	/** The caller's context from W3C trace-context headers; the root context when there are none. */
	extract(getHeader: (name: string) => string | undefined): Context;
}

/** Tracer names, as Go flagd uses them. */
export const TRACER_NAMES = {
	evaluationV1: "flagd.evaluation.v1",
	evaluationV2: "flagd.evaluation.v2",
	ofrep: "flagd.ofrep.v1",
	sync: "flagd.sync",
} as const;
