/**
 * flagd.evaluation.v1.Service: single-flag resolves, ResolveAll and EventStream, rendered as flagd renders v1
 * (flagd-protocol.md §6): DISABLED is a success with the zero value and variant "", and a flag without a usable
 * default variant is NOT_FOUND (legacy behaviour kept for v1).
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type {
	EvaluationResult,
	FlagValueType,
	JsonObject,
	JsonValue,
} from "@flagd-ts/evaluator";
import type { EvaluationServiceV1 } from "@flagd-ts/protocol";
import type { AnyFlag } from "@flagd-ts/protocol/evaluation-v1";
import type { Span } from "@opentelemetry/api";
import type { Logger } from "../../logging/logger.js";
import {
	type FlagResolver,
	readRequest,
} from "../../resolver/flag-resolver.js";
import {
	NO_REQUEST_TELEMETRY,
	type RequestTelemetry,
	SPAN_ATTRIBUTES,
	traceRequest,
} from "../../telemetry/request-telemetry.js";
import { evaluationError, toConnectError } from "../connect-errors.js";
import { notReadyError } from "../not-ready.js";
import { type FlagEvent, flagEventStream } from "./flag-event-stream.js";
import {
	eventStreamMessage,
	resolveAllMessage,
} from "./prototype-safe-messages.js";
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
				? resolveAll(resolver, req.context, ctx, undefined)
				: traceRequest(
						telemetry,
						tracer,
						"resolveAll",
						ctx.requestHeader,
						(span, requestId) => {
							const all = resolveAll(resolver, req.context, ctx, span);
							telemetry.requestLogger?.debug(
								{
									api: API,
									requestId,
									flagCount: Object.keys(all.flags).length,
								},
								"flags evaluated (resolveAll)",
							);
							return all;
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

type AnyFlagInit = Pick<AnyFlag, "reason" | "variant" | "metadata"> & {
	value: AnyFlag["value"];
};

function resolveAll(
	resolver: FlagResolver,
	bodyContext: JsonObject | undefined,
	ctx: HandlerContext,
	span: Span | undefined,
): { flags: Record<string, AnyFlagInit>; metadata: JsonObject } {
	if (!resolver.store.isReady()) throw notReadyError();
	let request: ReturnType<typeof readRequest>;
	try {
		request = readRequest(resolver, bodyContext, ctx.requestHeader);
	} catch (e: unknown) {
		throw toConnectError(e);
	}
	const flags: Record<string, AnyFlagInit> = {};
	for (const [key, flag] of resolver.view(request.selector).byKey) {
		const definition = flag.compiled.definition;
		if (definition.defaultVariant === null) continue; // v1 skips code-default flags
		const type = typeOfValue(definition.variants[definition.defaultVariant]);
		if (type === undefined) continue;
		const result = resolver.evaluate(flag, type, request.context);
		const entry = renderAnyFlag(result, type);
		if (entry === undefined) continue;
		// Keys come from documents: define the property so "__proto__" stays a plain map key.
		Object.defineProperty(flags, key, {
			value: entry,
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	span?.setAttribute(SPAN_ATTRIBUTES.flagCount, Object.keys(flags).length);
	return resolveAllMessage({
		flags,
		metadata: request.selector.reflection as JsonObject,
	}) as { flags: Record<string, AnyFlagInit>; metadata: JsonObject };
}

function renderAnyFlag(
	result: EvaluationResult,
	type: FlagValueType,
): AnyFlagInit | undefined {
	const metadata = result.metadata as JsonObject;
	if (result.errorCode !== undefined) {
		return {
			reason: "ERROR",
			variant: "",
			value: anyValue(type, undefined),
			metadata,
		};
	}
	if (result.reason === "DISABLED") {
		return {
			reason: "DISABLED",
			variant: "",
			value: anyValue(type, undefined),
			metadata,
		};
	}
	if (result.value === undefined || result.variant === undefined)
		return undefined;
	return {
		reason: result.reason,
		variant: result.variant,
		value: anyValue(type, result.value),
		metadata,
	};
}

/** The AnyFlag oneof for a value of a type; `undefined` gives the type's zero value. */
function anyValue(
	type: FlagValueType,
	value: JsonValue | undefined,
): AnyFlag["value"] {
	switch (type) {
		case "boolean":
			return {
				case: "boolValue",
				value: (value as boolean | undefined) ?? false,
			};
		case "string":
			return {
				case: "stringValue",
				value: (value as string | undefined) ?? "",
			};
		case "number":
		case "integer":
			return { case: "doubleValue", value: (value as number | undefined) ?? 0 };
		case "object":
			return {
				case: "objectValue",
				value: (value as JsonObject | undefined) ?? {},
			} as AnyFlag["value"];
	}
}

/** ResolveAll resolves each flag with the type of its default variant's value. */
function typeOfValue(value: JsonValue | undefined): FlagValueType | undefined {
	if (typeof value === "boolean") return "boolean";
	if (typeof value === "string") return "string";
	if (typeof value === "number") return "number";
	if (value !== null && typeof value === "object" && !Array.isArray(value))
		return "object";
	return undefined;
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
