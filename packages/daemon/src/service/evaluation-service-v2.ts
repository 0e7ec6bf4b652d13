/**
 * flagd.evaluation.v2.Service: like v1 without ResolveAll, but `value` and `variant` are optional on the wire:
 * DISABLED and the code default (reason DEFAULT) come back without them instead of as zero values / NOT_FOUND.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { FlagValueType, JsonObject, JsonValue } from "@flagd-ts/evaluator";
import type { EvaluationServiceV2 } from "@flagd-ts/protocol";
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

/** Builds the v2 service implementation. */
export function createEvaluationServiceV2(
	resolver: FlagResolver,
	streams: EventStreamSettings,
): ServiceImpl<typeof EvaluationServiceV2> {
	return {
		resolveBoolean: (req, ctx) =>
			resolveV2(resolver, req, ctx, "boolean", (v) => v as boolean),
		resolveString: (req, ctx) =>
			resolveV2(resolver, req, ctx, "string", (v) => v as string),
		resolveFloat: (req, ctx) =>
			resolveV2(resolver, req, ctx, "number", (v) => v as number),
		resolveInt: (req, ctx) => resolveV2(resolver, req, ctx, "integer", toInt64),
		resolveObject: (req, ctx) =>
			resolveV2(resolver, req, ctx, "object", (v) => v as JsonObject),
		eventStream: (_req, ctx) => eventStream(resolver, ctx, streams),
	};
}

function resolveV2<T>(
	resolver: FlagResolver,
	req: { flagKey: string; context?: JsonObject | undefined },
	ctx: HandlerContext,
	type: FlagValueType,
	convert: (value: JsonValue) => T,
): ResolvedV2<T> {
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
