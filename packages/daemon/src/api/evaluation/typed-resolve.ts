/**
 * The request plumbing every typed resolve (ResolveBoolean/String/Float/Int/Object) shares across evaluation v1
 * and v2: quiet vs traced dispatch, request reading (selector, context), evaluation, telemetry, response metadata.
 * The two APIs differ only in how they render the result, which each passes in as `render`.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type {
	EvaluationResult,
	FlagValueType,
	JsonObject,
	JsonValue,
} from "@flagd-ts/evaluator";
import type { Span, Tracer } from "@opentelemetry/api";
import {
	type FlagResolver,
	readRequest,
	responseMetadata,
} from "../../resolver/flag-resolver.js";
import {
	observeEvaluation,
	type RequestTelemetry,
	traceRequest,
} from "../../telemetry/request-telemetry.js";
import { toConnectError } from "../connect-errors.js";

/** The per-call inputs of one resolve (one object, so the traced path adds a single closure). */
export interface ResolveCall<T> {
	readonly method: string;
	readonly req: { flagKey: string; context?: JsonObject | undefined };
	readonly ctx: HandlerContext;
	readonly type: FlagValueType;
	readonly convert: (value: JsonValue) => T;
}

/** Turns one evaluation into an API's response (or throws its Connect error). */
export type RenderResult<C, R> = (
	call: C,
	result: EvaluationResult,
	metadata: JsonObject,
) => R;

export const asBoolean = (v: JsonValue) => v as boolean;
export const asString = (v: JsonValue) => v as string;
export const asNumber = (v: JsonValue) => v as number;
export const asObject = (v: JsonValue) => v as JsonObject;

/** int64 on the wire: flagd truncates (`int64(float)`), and the value must fit 64 bits to encode. */
export function toInt64(value: JsonValue): bigint {
	return BigInt.asIntN(64, BigInt(Math.trunc(value as number)));
}

/** What tells the five typed resolves apart (v1 also needs the type's zero value for DISABLED). */
const TYPED_METHODS = {
	resolveBoolean: { type: "boolean", convert: asBoolean, zero: false },
	resolveString: { type: "string", convert: asString, zero: "" },
	resolveFloat: { type: "number", convert: asNumber, zero: 0 },
	resolveInt: { type: "integer", convert: toInt64, zero: 0n },
	resolveObject: {
		type: "object",
		convert: asObject,
		zero: Object.freeze({}) as JsonObject,
	},
} as const satisfies Record<
	string,
	{
		type: FlagValueType;
		convert: (value: JsonValue) => unknown;
		zero: unknown;
	}
>;

/** The ServiceImpl names of the typed resolves, the same in v1 and v2. */
export type TypedMethodName = keyof typeof TYPED_METHODS;

/** The typed resolve methods; all synchronous (declared so where the services register, evaluation-handler.ts). */
export const TYPED_METHOD_NAMES: readonly TypedMethodName[] = Object.freeze(
	Object.keys(TYPED_METHODS) as TypedMethodName[],
);

/** One typed resolve call with the zero value of its type. */
export interface TypedResolveCall extends ResolveCall<unknown> {
	readonly zero: unknown;
}

/**
 * The five typed resolve methods of a service implementation, each handing its call to `resolve`. They are plain
 * synchronous functions, so the daemon's direct unary paths can serve them (transport/direct-path/).
 */
export function typedResolveMethods<R>(
	resolve: (call: TypedResolveCall) => R,
): Record<
	TypedMethodName,
	(req: ResolveCall<unknown>["req"], ctx: HandlerContext) => R
> {
	const methods = {} as Record<
		TypedMethodName,
		(req: ResolveCall<unknown>["req"], ctx: HandlerContext) => R
	>;
	for (const name of TYPED_METHOD_NAMES) {
		const kind = TYPED_METHODS[name];
		methods[name] = (req, ctx) =>
			resolve({
				method: name,
				req,
				ctx,
				type: kind.type,
				convert: kind.convert,
				zero: kind.zero,
			});
	}
	return methods;
}

/**
 * Builds the resolve function of one API. With telemetry off (`quiet`) the hot path is one direct call: no span,
 * no request id, no closure.
 */
export function createTypedResolve<C extends ResolveCall<unknown>, R>(
	resolver: FlagResolver,
	telemetry: RequestTelemetry,
	tracer: Tracer | undefined,
	api: string,
	render: RenderResult<C, R>,
): (call: C) => R {
	const quiet =
		telemetry.tracing === undefined && telemetry.requestLogger === undefined;
	const run = (
		call: C,
		span: Span | undefined,
		requestId: string | undefined,
	) => {
		const { req, ctx } = call;
		let request: ReturnType<typeof readRequest>;
		try {
			request = readRequest(resolver, req.context, ctx.requestHeader);
		} catch (e: unknown) {
			throw toConnectError(e);
		}
		const result = resolver.resolve(
			req.flagKey,
			call.type,
			request.selector,
			request.context,
		);
		if (span !== undefined || requestId !== undefined) {
			observeEvaluation(
				telemetry,
				span,
				{ api, requestId, key: req.flagKey },
				result,
			);
		}
		const metadata = responseMetadata(
			request.selector,
			result.metadata,
		) as JsonObject;
		return render(call, result, metadata);
	};
	return (call) =>
		quiet
			? run(call, undefined, undefined)
			: traceRequest(
					telemetry,
					tracer,
					call.method,
					call.ctx.requestHeader,
					(span, requestId) => run(call, span, requestId),
				);
}
