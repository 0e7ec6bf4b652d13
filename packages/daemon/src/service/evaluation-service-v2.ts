/**
 * flagd.evaluation.v2.Service: like v1 without ResolveAll, but `value` and `variant` are optional on the wire:
 * DISABLED and the code default (reason DEFAULT) come back without them instead of as zero values / NOT_FOUND.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { FlagValueType, JsonObject, JsonValue } from "@flagd-ts/evaluator";
import type { EvaluationServiceV2 } from "@flagd-ts/protocol";
import type { Span } from "@opentelemetry/api";
import {
	NO_REQUEST_TELEMETRY,
	observeEvaluation,
	type RequestTelemetry,
	traceRequest,
} from "../telemetry/request-telemetry.js";
import { evaluationError, toConnectError } from "./connect-errors.js";
import {
	type EventStreamSettings,
	eventStream,
	toInt64,
} from "./evaluation-service-v1.js";
import {
	type FlagResolver,
	readRequest,
	responseMetadata,
} from "./flag-resolver.js";

interface ResolvedV2<T> {
	value?: T;
	reason: string;
	variant?: string;
	metadata: JsonObject;
}

const API = "flagd.evaluation.v2";
const asBoolean = (v: JsonValue) => v as boolean;
const asString = (v: JsonValue) => v as string;
const asNumber = (v: JsonValue) => v as number;
const asObject = (v: JsonValue) => v as JsonObject;

/** The per-call inputs of one resolve (one object, so the traced path adds a single closure). */
interface ResolveCall<T> {
	readonly method: string;
	readonly req: { flagKey: string; context?: JsonObject | undefined };
	readonly ctx: HandlerContext;
	readonly type: FlagValueType;
	readonly convert: (value: JsonValue) => T;
}

/** Builds the v2 service implementation; `telemetry` adds spans and debug request logs when enabled. */
export function createEvaluationServiceV2(
	resolver: FlagResolver,
	streams: EventStreamSettings,
	telemetry: RequestTelemetry = NO_REQUEST_TELEMETRY,
): ServiceImpl<typeof EvaluationServiceV2> {
	const quiet =
		telemetry.tracing === undefined && telemetry.requestLogger === undefined;
	const resolve = <T>(call: ResolveCall<T>): ResolvedV2<T> =>
		quiet
			? resolveV2(resolver, call, telemetry, undefined, undefined)
			: traceRequest(
					telemetry,
					telemetry.tracing?.evaluationV2,
					call.method,
					call.ctx.requestHeader,
					(span, requestId) =>
						resolveV2(resolver, call, telemetry, span, requestId),
				);
	return {
		resolveBoolean: (req, ctx) =>
			resolve({
				method: "resolveBoolean",
				req,
				ctx,
				type: "boolean",
				convert: asBoolean,
			}),
		resolveString: (req, ctx) =>
			resolve({
				method: "resolveString",
				req,
				ctx,
				type: "string",
				convert: asString,
			}),
		resolveFloat: (req, ctx) =>
			resolve({
				method: "resolveFloat",
				req,
				ctx,
				type: "number",
				convert: asNumber,
			}),
		resolveInt: (req, ctx) =>
			resolve({
				method: "resolveInt",
				req,
				ctx,
				type: "integer",
				convert: toInt64,
			}),
		resolveObject: (req, ctx) =>
			resolve({
				method: "resolveObject",
				req,
				ctx,
				type: "object",
				convert: asObject,
			}),
		eventStream: (_req, ctx) => eventStream(resolver, ctx, streams),
	};
}

function resolveV2<T>(
	resolver: FlagResolver,
	call: ResolveCall<T>,
	telemetry: RequestTelemetry,
	span: Span | undefined,
	requestId: string | undefined,
): ResolvedV2<T> {
	const { req, ctx, type, convert } = call;
	let request: ReturnType<typeof readRequest>;
	try {
		request = readRequest(resolver, req.context, ctx.requestHeader);
	} catch (e: unknown) {
		throw toConnectError(e);
	}
	const result = resolver.resolve(
		req.flagKey,
		type,
		request.selector,
		request.context,
	);
	if (span !== undefined || requestId !== undefined) {
		observeEvaluation(
			telemetry,
			span,
			{ api: API, requestId, key: req.flagKey },
			result,
		);
	}
	if (result.errorCode !== undefined) throw evaluationError(result.errorCode);
	const metadata = responseMetadata(
		request.selector,
		result.metadata,
	) as JsonObject;
	if (result.value === undefined || result.variant === undefined) {
		return { reason: result.reason, metadata };
	}
	return {
		value: convert(result.value),
		reason: result.reason,
		variant: result.variant,
		metadata,
	};
}
