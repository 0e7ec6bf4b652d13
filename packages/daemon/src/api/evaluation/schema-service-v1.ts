/**
 * The deprecated `schema.v1.Service` (flagd-protocol.md §5), served beside flagd.evaluation.v1 on the evaluation
 * port as Go flagd still serves it: the evaluation v1 implementation with the wire types of schema.v1, where
 * ResolveAll carries neither top-level nor per-flag metadata, whose EventStream has no deadline
 * (`--stream-deadline` does not apply to it in flagd), and whose evaluation context takes the static `-X` values
 * but not the `-H Header=contextKey` header mappings (flagd applies those to evaluation v1/v2 and OFREP only).
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { EvaluationServiceV1, SchemaServiceV1 } from "@flagd-ts/protocol";
import type { AnyFlag as AnyFlagV1 } from "@flagd-ts/protocol/evaluation-v1";
import {
	type AnyFlag,
	AnyFlagSchema,
	type ResolveAllResponse,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/schema-v1";
import { ContextBuilder } from "../../resolver/context-builder.js";
import { FlagResolver } from "../../resolver/flag-resolver.js";
import {
	NO_REQUEST_TELEMETRY,
	type RequestTelemetry,
} from "../../telemetry/request-telemetry.js";
import {
	isPrototypeKeyed,
	markPrototypeKeyed,
} from "../../transport/direct-path/prototype-safe-json.js";
import {
	createEvaluationServiceV1,
	type EventStreamSettings,
} from "./evaluation-service-v1.js";

/** Builds the schema.v1 implementation; `telemetry` as for evaluation v1 (spans carry the v1 API name). */
export function createSchemaServiceV1(
	resolver: FlagResolver,
	streams: EventStreamSettings,
	telemetry: RequestTelemetry = NO_REQUEST_TELEMETRY,
): ServiceImpl<typeof SchemaServiceV1> {
	const withoutHeaderContext = new FlagResolver({
		store: resolver.store,
		selectors: resolver.selectors,
		metrics: resolver.metrics,
		contexts: new ContextBuilder({
			staticContext: resolver.contexts.staticContext() as Record<
				string,
				string
			>,
			headerContext: {},
		}),
	});
	const v1 = createEvaluationServiceV1(
		withoutHeaderContext,
		{ ...streams, deadlineMs: 0 },
		telemetry,
		true, // withoutMetadata() reshapes ResolveAll's full message
	);
	const { resolveAll, ...rest } = v1 as Required<
		ServiceImpl<typeof EvaluationServiceV1>
	>;
	return {
		// Same requests and responses field for field; connect builds each response with schema.v1's types.
		...(rest as unknown as Omit<
			ServiceImpl<typeof SchemaServiceV1>,
			"resolveAll"
		>),
		// Synchronous like v1's, so the direct unary paths serve it (their Connect JSON keeps `__proto__` keys).
		resolveAll: (req, ctx) =>
			withoutMetadata(
				resolveAll(req as never, ctx) as unknown as {
					flags: Record<
						string,
						Pick<AnyFlagV1, "reason" | "variant" | "value">
					>;
				},
			),
	};
}

/** schema.v1's ResolveAll response: the flags without metadata, every key kept (including `__proto__`). */
function withoutMetadata(v1: {
	flags: Record<string, Pick<AnyFlagV1, "reason" | "variant" | "value">>;
}): ResolveAllResponse {
	const flags: Record<string, AnyFlag> = {};
	for (const key of Object.keys(v1.flags)) {
		const flag = v1.flags[key];
		if (flag === undefined) continue;
		// Keys come from documents: define the property so "__proto__" stays a plain map key.
		Object.defineProperty(flags, key, {
			value: create(AnyFlagSchema, {
				reason: flag.reason,
				variant: flag.variant,
				value: flag.value as AnyFlag["value"],
			}),
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	const message = create(ResolveAllResponseSchema);
	message.flags = flags;
	// Connect JSON keeps the keys of a keyed answer (transport/direct-path/prototype-safe-json.ts).
	return isPrototypeKeyed(v1) ? markPrototypeKeyed(message) : message;
}
