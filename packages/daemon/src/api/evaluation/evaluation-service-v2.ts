/**
 * flagd.evaluation.v2.Service: like v1 without ResolveAll, but `value` and `variant` are optional on the wire:
 * DISABLED and the code default (reason DEFAULT) come back without them instead of as zero values / NOT_FOUND.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { EvaluationResult, JsonObject } from "@flagd-ts/evaluator";
import type { EvaluationServiceV2 } from "@flagd-ts/protocol";
import type { FlagResolver } from "../../resolver/flag-resolver.js";
import {
	NO_REQUEST_TELEMETRY,
	type RequestTelemetry,
} from "../../telemetry/request-telemetry.js";
import { evaluationError } from "../connect-errors.js";
import {
	type EventStreamSettings,
	eventStream,
} from "./evaluation-service-v1.js";
import {
	createTypedResolve,
	type ResolveCall,
	type TypedMethodName,
	typedResolveMethods,
} from "./typed-resolve.js";

interface ResolvedV2<T> {
	value?: T;
	reason: string;
	variant?: string;
	metadata: JsonObject;
}

/** Builds the v2 service implementation; `telemetry` adds spans and debug request logs when enabled. */
export function createEvaluationServiceV2(
	resolver: FlagResolver,
	streams: EventStreamSettings,
	telemetry: RequestTelemetry = NO_REQUEST_TELEMETRY,
): ServiceImpl<typeof EvaluationServiceV2> {
	const resolveAny = createTypedResolve(
		resolver,
		telemetry,
		telemetry.tracing?.evaluationV2,
		"flagd.evaluation.v2",
		renderV2,
	);
	return {
		// The renderers give each method its own response shape; the table is typed per API, not per method.
		...(typedResolveMethods(resolveAny) as unknown as Pick<
			ServiceImpl<typeof EvaluationServiceV2>,
			TypedMethodName
		>),
		eventStream: (_req, ctx) => eventStream(resolver, ctx, streams),
	};
}

/** v2: DISABLED and the code default come back without value and variant; errors are Connect errors. */
function renderV2(
	call: ResolveCall<unknown>,
	result: EvaluationResult,
	metadata: JsonObject,
): ResolvedV2<unknown> {
	if (result.errorCode !== undefined) throw evaluationError(result.errorCode);
	if (result.value === undefined || result.variant === undefined) {
		return { reason: result.reason, metadata };
	}
	return {
		value: call.convert(result.value),
		reason: result.reason,
		variant: result.variant,
		metadata,
	};
}
