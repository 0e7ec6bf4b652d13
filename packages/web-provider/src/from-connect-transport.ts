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

/**
 * Adapts a connect-es `Transport` (connect-web's Connect transport with `useBinaryFormat`, its gRPC-web
 * transport, interceptors for auth, or `createRouterTransport` in tests) to the provider's transport. This pulls
 * in the protobuf-es runtime (~29 KB gzip), which the default fetch transport avoids; bundlers drop it when
 * unused.
 */
export function fromConnectTransport(transport: Transport): FlagdWebTransport {
	const client = createClient(Service, transport);
	return {
		async resolveAll(context, call) {
			try {
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
			return eventStream(client, call);
		},
	};
}

async function* eventStream(
	client: ReturnType<typeof createClient<typeof Service>>,
	call: CallOptions,
): AsyncGenerator<EventStreamMessage> {
	try {
		for await (const message of client.eventStream({}, callOptions(call))) {
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

/** Connect's numeric codes as the protocol's strings (`DeadlineExceeded` → `deadline_exceeded`). */
function fromConnectError(e: unknown): FlagdWebError {
	const error = ConnectError.from(e);
	const name = Code[error.code] ?? "Unknown";
	const code: FlagdWebErrorCode = parseErrorCode(
		name.replace(
			/[A-Z]/g,
			(c, i: number) => (i > 0 ? "_" : "") + c.toLowerCase(),
		),
	);
	return new FlagdWebError(error.rawMessage || name, code, { cause: error });
}
