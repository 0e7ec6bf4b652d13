import {
	COMPRESSED_FLAG,
	END_STREAM_FLAG,
	encodeEnvelope,
	readEnvelopes,
} from "./envelope-reader.js";
import {
	codeFromHttpStatus,
	FlagdWebError,
	parseErrorCode,
	toFlagdWebError,
} from "./errors.js";
import type {
	CallOptions,
	EventStreamMessage,
	FlagdWebTransport,
	JsonObject,
} from "./flagd-web-transport.js";

/** Settings of {@link createFetchTransport}. */
export interface FetchTransportOptions {
	/** URL the service paths are appended to, e.g. `https://flags.example.com/flagd` (no trailing slash). */
	readonly baseUrl: string;
	/** @default globalThis.fetch */
	readonly fetch?: typeof globalThis.fetch;
	/** Largest accepted event stream message, in bytes. @default 4194304 (4 MiB, gRPC's default) */
	readonly maxMessageBytes?: number;
}

const SERVICE = "/flagd.evaluation.v1.Service/";

/**
 * Connect protocol (JSON codec) over fetch for ResolveAll (unary POST) and EventStream (server streaming with
 * enveloped frames), written against https://connectrpc.com/docs/protocol. It needs no protobuf runtime, which
 * is what keeps the provider within its bundle budget; use `fromConnectTransport` for binary or gRPC-web.
 */
export function createFetchTransport(
	options: FetchTransportOptions,
): FlagdWebTransport {
	const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
	// Bound at call time, not creation time: fetch must be called with the global as `this` in browsers.
	const doFetch: typeof globalThis.fetch = (input, init) =>
		(options.fetch ?? globalThis.fetch)(input, init);
	return {
		async resolveAll(context, call) {
			const response = await post(doFetch, {
				url: `${options.baseUrl}${SERVICE}ResolveAll`,
				contentType: "application/json",
				body: JSON.stringify({ context }),
				call,
			});
			const text = await readText(response, call.signal);
			if (!response.ok) throw unaryError(response.status, text);
			return parseJson(text, "ResolveAll response");
		},
		eventStream(call) {
			return eventStream(doFetch, `${options.baseUrl}${SERVICE}EventStream`, {
				call,
				maxMessageBytes,
			});
		},
	};
}

interface PostRequest {
	readonly url: string;
	readonly contentType: string;
	readonly body: BodyInit;
	readonly call: CallOptions;
}

async function post(
	doFetch: typeof globalThis.fetch,
	request: PostRequest,
): Promise<Response> {
	const headers: Record<string, string> = {
		...request.call.headers,
		"Content-Type": request.contentType,
		"Connect-Protocol-Version": "1",
	};
	if (request.call.timeoutMs !== undefined) {
		headers["Connect-Timeout-Ms"] = String(request.call.timeoutMs);
	}
	try {
		return await doFetch(request.url, {
			method: "POST",
			headers,
			body: request.body,
			signal: request.call.signal,
			// Flags must reflect the server's current state, never a cached response.
			cache: "no-store",
		});
	} catch (e: unknown) {
		throw toFlagdWebError(e, request.call.signal);
	}
}

async function readText(
	response: Response,
	signal: AbortSignal,
): Promise<string> {
	try {
		return await response.text();
	} catch (e: unknown) {
		throw toFlagdWebError(e, signal);
	}
}

function parseJson(text: string, what: string): unknown {
	try {
		return JSON.parse(text);
	} catch (e: unknown) {
		throw new FlagdWebError(`${what} is not valid JSON`, "internal", {
			cause: e,
		});
	}
}

/** A non-200 unary response: a Connect error body `{code, message}` if there is one, else the HTTP status. */
function unaryError(status: number, text: string): FlagdWebError {
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		body = undefined; // Not a Connect error body (e.g. a proxy's HTML page): the HTTP status decides below.
	}
	if (isObject(body) && typeof body.code === "string") {
		const message = typeof body.message === "string" ? body.message : "";
		return new FlagdWebError(
			message || `flagd answered ${body.code}`,
			parseErrorCode(body.code),
		);
	}
	return new FlagdWebError(
		`flagd answered HTTP ${status}`,
		codeFromHttpStatus(status),
	);
}

interface StreamRequest {
	readonly call: CallOptions;
	readonly maxMessageBytes: number;
}

async function* eventStream(
	doFetch: typeof globalThis.fetch,
	url: string,
	request: StreamRequest,
): AsyncGenerator<EventStreamMessage> {
	const { call } = request;
	const response = await post(doFetch, {
		url,
		contentType: "application/connect+json",
		body: encodeEnvelope("{}"),
		call,
	});
	if (!response.ok || response.body === null) {
		const text = await readText(response, call.signal);
		throw unaryError(response.status, text);
	}
	const type = response.headers.get("content-type") ?? "";
	if (!type.startsWith("application/connect+json")) {
		// e.g. a proxy or an SPA fallback answering 200 with HTML: not a Connect stream.
		await response.body.cancel().catch((e: unknown) => {
			throw toFlagdWebError(e, call.signal);
		});
		throw new FlagdWebError(
			`event stream answered with content-type "${type}", expected application/connect+json`,
			"internal",
		);
	}
	try {
		for await (const envelope of readEnvelopes(
			response.body,
			request.maxMessageBytes,
		)) {
			if ((envelope.flags & COMPRESSED_FLAG) !== 0) {
				throw new FlagdWebError(
					"compressed stream message although no compression was offered",
					"internal",
				);
			}
			const json = parseJson(
				new TextDecoder().decode(envelope.data),
				"stream message",
			);
			if ((envelope.flags & END_STREAM_FLAG) !== 0) {
				throw endOfStream(json);
			}
			yield toMessage(json);
		}
	} catch (e: unknown) {
		throw toFlagdWebError(e, call.signal);
	}
	throw new FlagdWebError(
		"event stream ended without an end-of-stream message",
		"internal",
	);
}

/** The end-of-stream frame: an error if it has one, else a clean end (reported as `unavailable`). */
function endOfStream(json: unknown): FlagdWebError {
	const error = isObject(json) ? json.error : undefined;
	if (isObject(error)) {
		const code = parseErrorCode(error.code);
		const message =
			typeof error.message === "string" && error.message !== ""
				? error.message
				: `flagd ended the stream with ${code}`;
		return new FlagdWebError(message, code);
	}
	return new FlagdWebError("flagd ended the event stream", "unavailable");
}

function toMessage(json: unknown): EventStreamMessage {
	if (!isObject(json) || typeof json.type !== "string") {
		throw new FlagdWebError(
			"stream message without a string `type`",
			"internal",
		);
	}
	const data = isObject(json.data) ? (json.data as JsonObject) : undefined;
	return { type: json.type, data };
}

function isObject(v: unknown): v is Record<string, unknown> {
	return v !== null && typeof v === "object" && !Array.isArray(v);
}
