import type { JsonObject } from "@bufbuild/protobuf";
import {
	type CallOptions,
	createClient,
	type Transport,
} from "@connectrpc/connect";
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
	resolve(
		type: FlagValueType,
		flagKey: string,
		context: JsonObject,
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
}

/**
 * Creates the flagd evaluation client for API v1 or v2. Numbers are resolved with `ResolveFloat` (an OpenFeature
 * number may be fractional; flagd serves integer flags through ResolveFloat too). Every unary call carries
 * `deadlineMs` as its timeout; the selector goes on every call, the event stream included, so change events
 * are scoped like evaluations.
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
	const unary: CallOptions = { timeoutMs: options.deadlineMs, headers };
	const streamOptions = (signal: AbortSignal): CallOptions => ({
		signal,
		headers,
		...(options.streamDeadlineMs > 0
			? { timeoutMs: options.streamDeadlineMs + options.deadlineMs }
			: {}),
	});
	return options.apiVersion === "v1"
		? createV1(options.transport, unary, streamOptions)
		: createV2(options.transport, unary, streamOptions);
}

function createV2(
	transport: Transport,
	unary: CallOptions,
	streamOptions: (signal: AbortSignal) => CallOptions,
): EvaluationClient {
	const client = createClient(EvaluationServiceV2, transport);
	return {
		async resolve(type, flagKey, context) {
			const request = { flagKey, context };
			const r =
				type === "boolean"
					? await client.resolveBoolean(request, unary)
					: type === "string"
						? await client.resolveString(request, unary)
						: type === "number"
							? await client.resolveFloat(request, unary)
							: await client.resolveObject(request, unary);
			return {
				hasValue: r.value !== undefined,
				value: r.value,
				variant: r.variant,
				reason: r.reason,
				metadata: r.metadata,
			};
		},
		eventStream: (signal) => client.eventStream({}, streamOptions(signal)),
	};
}

const CODE_DEFAULT_REASONS = new Set(["DEFAULT", "DISABLED"]);

function createV1(
	transport: Transport,
	unary: CallOptions,
	streamOptions: (signal: AbortSignal) => CallOptions,
): EvaluationClient {
	const client = createClient(EvaluationServiceV1, transport);
	return {
		async resolve(type, flagKey, context) {
			const request = { flagKey, context };
			const r =
				type === "boolean"
					? await client.resolveBoolean(request, unary)
					: type === "string"
						? await client.resolveString(request, unary)
						: type === "number"
							? await client.resolveFloat(request, unary)
							: await client.resolveObject(request, unary);
			// v1 has no presence: an empty variant with DEFAULT/DISABLED is flagd's "use the code default".
			const codeDefault =
				r.variant === "" && CODE_DEFAULT_REASONS.has(r.reason);
			return {
				hasValue: !codeDefault,
				value: r.value,
				variant: r.variant === "" ? undefined : r.variant,
				reason: r.reason,
				metadata: r.metadata,
			};
		},
		eventStream: (signal) => client.eventStream({}, streamOptions(signal)),
	};
}
