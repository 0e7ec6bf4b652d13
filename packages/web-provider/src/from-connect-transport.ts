import { toJson } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	createClient,
	type Transport,
} from "@connectrpc/connect";
import {
	ResolveAllResponseSchema,
	Service,
} from "@flagd-ts/protocol/evaluation-v1";
import { losslessEventStream } from "@flagd-ts/provider-core";
import {
	FlagdWebError,
	type FlagdWebErrorCode,
	parseErrorCode,
} from "./errors.js";
import type {
	CallOptions,
	EventStreamMessage,
	FlagdWebTransport,
} from "./flagd-web-transport.js";
import { losslessResolveAll } from "./lossless-resolve-all.js";

/** Settings of {@link fromConnectTransport}. */
export interface FromConnectTransportOptions {
	/**
	 * The transport uses the binary format (connect-web's `useBinaryFormat: true`, or gRPC-web): then ResolveAll and
	 * EventStream are read key for key, so a flag or object key named `__proto__` arrives as a key (the JSON format
	 * cannot carry it through protobuf-es). @default false
	 */
	readonly binaryFormat?: boolean;
}

/**
 * Adapts a connect-es `Transport` to the provider's transport. The default (`createFetchTransport`) passes
 * connect-web's Connect transport; pass your own for connect-web's binary format, its gRPC-web transport,
 * interceptors for auth, or `createRouterTransport` in tests. ResolveAll responses are handed on in their
 * protojson form, EventStream messages as `{ type, data }`, failures as `FlagdWebError`.
 */
export function fromConnectTransport(
	transport: Transport,
	options: FromConnectTransportOptions = {},
): FlagdWebTransport {
	const client = createClient(Service, transport);
	const binary = options.binaryFormat === true;
	return {
		async resolveAll(context, call) {
			try {
				if (binary)
					return await losslessResolveAll(
						transport,
						context,
						callOptions(call),
					);
				const response = await client.resolveAll(
					{ context },
					callOptions(call),
				);
				return toJson(ResolveAllResponseSchema, response);
			} catch (e: unknown) {
				throw fromConnectError(e);
			}
		},
		eventStream(call) {
			return eventStream(
				binary
					? losslessEventStream(transport, "v1", callOptions(call))
					: client.eventStream({}, callOptions(call)),
			);
		},
	};
}

async function* eventStream(
	messages: AsyncIterable<{ type: string; data?: EventStreamMessage["data"] }>,
): AsyncGenerator<EventStreamMessage> {
	try {
		for await (const message of messages) {
			yield { type: message.type, data: message.data };
		}
	} catch (e: unknown) {
		throw fromConnectError(e);
	}
}

function callOptions(call: CallOptions): {
	signal: AbortSignal;
	headers: Record<string, string>;
	timeoutMs?: number;
} {
	return {
		signal: call.signal,
		headers: { ...call.headers },
		...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
	};
}

/**
 * Connect's numeric codes as the protocol's strings (`DeadlineExceeded` → `deadline_exceeded`). connect-es reports
 * a fetch that failed (network error, CORS refusal: a `TypeError`) and a body that is not JSON (a `SyntaxError`) as
 * `unknown`; the catalogue keeps its meaning for them: `unavailable` and `internal`. A stream message that does not
 * decode is connect-es's `invalid_argument`.
 */
function fromConnectError(e: unknown): FlagdWebError {
	const error = ConnectError.from(e);
	if (error.code === Code.Unknown && causeIs(error, "TypeError")) {
		return new FlagdWebError(
			`flagd unreachable: ${error.rawMessage}`,
			"unavailable",
			{ cause: error },
		);
	}
	if (error.code === Code.Unknown && causeIs(error, "SyntaxError")) {
		return new FlagdWebError(
			`flagd sent a body that is not valid JSON: ${error.rawMessage}`,
			"internal",
			{ cause: error },
		);
	}
	const name = Code[error.code] ?? "Unknown";
	const code: FlagdWebErrorCode = parseErrorCode(
		name.replace(
			/[A-Z]/g,
			(c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase(),
		),
	);
	return new FlagdWebError(error.rawMessage || name, code, { cause: error });
}

/** By name, not `instanceof`: fetch's errors may come from another realm (a worker, a polyfill, a test VM). */
function causeIs(error: ConnectError, name: string): boolean {
	const cause: unknown = error.cause;
	return (
		typeof cause === "object" &&
		cause !== null &&
		(cause as { name?: unknown }).name === name
	);
}
