import type { DescMethodUnary, JsonObject } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import {
	EvaluationServiceV1,
	EvaluationServiceV2,
	FLAGD_SELECTOR_HEADER,
} from "@flagd-ts/protocol";
import type {
	ApiVersion,
	FlagValueType,
	StreamMessage,
} from "@flagd-ts/provider-core";
import {
	EncodedContextCache,
	losslessEventStream,
	requestWithContext,
	requestWithEncodedContext,
} from "@flagd-ts/provider-core";

/** Header carrying `providerId` on every call (informational; flagd's evaluation API does not read it). */
export const PROVIDER_ID_HEADER = "flagd-provider-id";

/** One evaluation answer in a version-independent shape. */
export interface RawResolution {
	/** False when flagd signals "use the caller's default" (v2: value unset; v1: empty variant + DEFAULT/DISABLED). */
	readonly hasValue: boolean;
	readonly value: unknown;
	readonly variant: string | undefined;
	readonly reason: string;
	readonly metadata: JsonObject | undefined;
}

/** The calls the provider makes, independent of the flagd API version. */
export interface EvaluationClient {
	/** `contextKey` is `stableStringify(context)`. */
	resolve(
		type: FlagValueType,
		flagKey: string,
		context: JsonObject,
		contextKey: string,
	): Promise<RawResolution>;
	eventStream(signal: AbortSignal): AsyncIterable<StreamMessage>;
}

/** Options of {@link createEvaluationClient}. */
export interface EvaluationClientOptions {
	transport: Transport;
	apiVersion: ApiVersion;
	/** Deadline of each unary call, in milliseconds. */
	deadlineMs: number;
	/** Lifetime of each event stream in milliseconds, 0 for none; enforced by the supervisor, also sent to the server. */
	streamDeadlineMs: number;
	selector: string | undefined;
	providerId: string | undefined;
	/**
	 * The transport sends the protobuf binary encoding (FlagdTransport `binaryFormat`): each distinct context is
	 * then encoded once and reused (EncodedContextCache) instead of once per call. @default false
	 */
	binaryFormat?: boolean;
}

/**
 * Creates the flagd evaluation client for API v1 or v2. Numbers are resolved with `ResolveFloat` (an OpenFeature
 * number may be fractional; flagd serves integer flags through ResolveFloat too). Every unary call carries
 * `deadlineMs` as its timeout; the selector goes on every call, the event stream included, so change events
 * are scoped like evaluations. Unary calls go to `transport.unary` directly, which is all a generated client's
 * unary method does besides building a call-options object: the transport runs the interceptors it was created
 * with (connect's transports call `runUnaryCall` with them), so a user's interceptor and trace propagation see
 * every evaluation. Over a binary transport the request's context is an unknown field holding its encoding (the
 * message's `context` field is unset): interceptors see the call and its headers, not the context as JSON.
 */
export function createEvaluationClient(
	options: EvaluationClientOptions,
): EvaluationClient {
	const headers: Record<string, string> = {};
	if (options.selector !== undefined && options.selector !== "") {
		headers[FLAGD_SELECTOR_HEADER] = options.selector;
	}
	if (options.providerId !== undefined && options.providerId !== "") {
		headers[PROVIDER_ID_HEADER] = options.providerId;
	}
	const { transport, deadlineMs } = options;
	const service =
		options.apiVersion === "v1" ? EvaluationServiceV1 : EvaluationServiceV2;
	const methods: Readonly<Record<FlagValueType, DescMethodUnary>> = {
		boolean: service.method.resolveBoolean,
		string: service.method.resolveString,
		number: service.method.resolveFloat,
		object: service.method.resolveObject,
	};
	const toRaw = options.apiVersion === "v1" ? fromV1 : fromV2;
	const encoded = options.binaryFormat ? new EncodedContextCache() : undefined;
	return {
		resolve: (type, flagKey, context, contextKey) =>
			transport
				// Both keep a `__proto__` context key on the binary wire.
				.unary(
					methods[type],
					undefined,
					deadlineMs,
					headers,
					encoded === undefined
						? requestWithContext(methods[type].input, { flagKey }, context)
						: requestWithEncodedContext(
								methods[type].input,
								{ flagKey },
								encoded.encode(contextKey, context),
							),
				)
				.then((response) =>
					toRaw(response.message as unknown as ResolveResponse),
				),
		// Not `createClient(service).eventStream`: protobuf-es would drop a flag key named `__proto__` from `data`.
		eventStream: (signal) =>
			losslessEventStream(transport, options.apiVersion, {
				signal,
				headers,
				...(options.streamDeadlineMs > 0
					? { timeoutMs: options.streamDeadlineMs + deadlineMs }
					: {}),
			}),
	};
}

/** The fields every typed resolve response of v1 and v2 has. */
interface ResolveResponse {
	readonly value?: unknown;
	readonly variant?: string;
	readonly reason: string;
	readonly metadata?: JsonObject;
}

/** v2: an unset value is flagd's "use the code default". */
function fromV2(r: ResolveResponse): RawResolution {
	return {
		hasValue: r.value !== undefined,
		value: r.value,
		variant: r.variant,
		reason: r.reason,
		metadata: r.metadata,
	};
}

const CODE_DEFAULT_REASONS = new Set(["DEFAULT", "DISABLED"]);

/** v1 has no presence: an empty variant with DEFAULT/DISABLED is flagd's "use the code default". */
function fromV1(r: ResolveResponse): RawResolution {
	const codeDefault = r.variant === "" && CODE_DEFAULT_REASONS.has(r.reason);
	return {
		hasValue: !codeDefault,
		value: r.value,
		variant: r.variant === "" ? undefined : r.variant,
		reason: r.reason,
		metadata: r.metadata,
	};
}
