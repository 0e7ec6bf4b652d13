/**
 * flagd.evaluation.v1.Service: single-flag resolves, ResolveAll and EventStream, rendered as flagd renders v1
 * (flagd-protocol.md §6): DISABLED is a success with the zero value and variant "", and a flag without a usable
 * default variant is NOT_FOUND (legacy behaviour kept for v1).
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type {
	EvaluationResult,
	JsonObject,
	JsonValue,
} from "@flagd-ts/evaluator";
import type { EvaluationServiceV1 } from "@flagd-ts/protocol";
import type { Logger } from "../../logging/logger.js";
import type { FlagResolver } from "../../resolver/flag-resolver.js";
import {
	NO_REQUEST_TELEMETRY,
	type RequestTelemetry,
	traceRequest,
} from "../../telemetry/request-telemetry.js";
import { evaluationError, toConnectError } from "../connect-errors.js";
import { type FlagEvent, flagEventStream } from "./flag-event-stream.js";
import { eventStreamMessage } from "./prototype-safe-messages.js";
import { resolveAll } from "./resolve-all.js";
import {
	createTypedResolve,
	type TypedMethodName,
	type TypedResolveCall,
	typedResolveMethods,
} from "./typed-resolve.js";

/** Stream settings shared by both evaluation services. */
export interface EventStreamSettings {
	readonly shutdownSignal: AbortSignal;
	readonly keepAliveMs: number;
	readonly deadlineMs: number;
	/** Where dropped slow streams are reported. @default none */
	readonly logger?: Logger | undefined;
}

interface Resolved<T> {
	value: T;
	reason: string;
	variant: string;
	metadata: JsonObject;
}

const API = "flagd.evaluation.v1";

/** Builds the v1 service implementation; `telemetry` adds spans and debug request logs when enabled. */
export function createEvaluationServiceV1(
	resolver: FlagResolver,
	streams: EventStreamSettings,
	telemetry: RequestTelemetry = NO_REQUEST_TELEMETRY,
	/**
	 * ResolveAll answers with a full message whatever the encoding, for a caller that reshapes it (schema.v1);
	 * otherwise binary answers carry pre-encoded entries (resolve-all.ts). @default false
	 */
	fullResolveAll = false,
): ServiceImpl<typeof EvaluationServiceV1> {
	const quiet =
		telemetry.tracing === undefined && telemetry.requestLogger === undefined;
	const tracer = telemetry.tracing?.evaluationV1;
	const resolveAny = createTypedResolve(
		resolver,
		telemetry,
		tracer,
		API,
		(call: TypedResolveCall, result, metadata) =>
			renderV1(result, call.convert, call.zero, metadata),
	);
	return {
		// The renderer gives each method its own response shape; the table is typed per API, not per method.
		...(typedResolveMethods(resolveAny) as unknown as Pick<
			ServiceImpl<typeof EvaluationServiceV1>,
			TypedMethodName
		>),
		resolveAll: (req, ctx) =>
			quiet
				? resolveAll(resolver, req.context, ctx, undefined, fullResolveAll)
						.response
				: traceRequest(
						telemetry,
						tracer,
						"resolveAll",
						ctx.requestHeader,
						(span, requestId) => {
							const all = resolveAll(
								resolver,
								req.context,
								ctx,
								span,
								fullResolveAll,
							);
							telemetry.requestLogger?.debug(
								{
									api: API,
									requestId,
									flagCount: all.flagCount,
								},
								"flags evaluated (resolveAll)",
							);
							return all.response;
						},
					),
		eventStream: (_req, ctx) => eventStream(resolver, ctx, streams),
	};
}

function renderV1<T>(
	result: EvaluationResult,
	convert: (value: JsonValue) => T,
	zero: T,
	metadata: JsonObject,
): Resolved<T> {
	if (result.errorCode !== undefined) throw evaluationError(result.errorCode);
	if (result.reason === "DISABLED") {
		return { value: zero, reason: "DISABLED", variant: "", metadata };
	}
	if (result.value === undefined || result.variant === undefined) {
		// Code default (no usable default variant): v1 keeps flagd's legacy NOT_FOUND.
		throw evaluationError("FLAG_NOT_FOUND");
	}
	return {
		value: convert(result.value),
		reason: result.reason,
		variant: result.variant,
		metadata,
	};
}

/** Shared by v1 and v2: their EventStream messages have the same shape. */
export async function* eventStream(
	resolver: FlagResolver,
	ctx: HandlerContext,
	streams: EventStreamSettings,
): AsyncGenerator<FlagEvent> {
	let selector: ReturnType<FlagResolver["selector"]>;
	try {
		selector = resolver.selector(ctx.requestHeader.get("flagd-selector"));
	} catch (e: unknown) {
		throw toConnectError(e);
	}
	const events = flagEventStream({
		store: resolver.store,
		selector,
		signal: ctx.signal,
		shutdownSignal: streams.shutdownSignal,
		keepAliveMs: streams.keepAliveMs,
		deadlineMs: streams.deadlineMs,
	});
	for await (const event of events)
		yield eventStreamMessage(ctx.method.output, event) as FlagEvent;
}
