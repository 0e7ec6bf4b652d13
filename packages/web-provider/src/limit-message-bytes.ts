/**
 * A per-message size limit for connect-web, which has none (no `readMaxBytes`): a `fetch` wrapper whose response
 * body fails with RESOURCE_EXHAUSTED as soon as one message grows past `maxBytes`, so a hostile or broken server
 * streaming a huge EventStream message, or endless bytes, costs bounded memory and gets a clear error.
 * - Connect streams (`application/connect+…`): the body goes through connect's own envelope reader
 *   (`createEnvelopeReadableStream`) and each envelope is written back with `encodeEnvelope`; the bytes received
 *   but not yet part of a complete envelope may never exceed `maxBytes` plus the 5-byte prefix.
 * - Unary responses: the body may not exceed `maxBytes`.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
	createEnvelopeReadableStream,
	encodeEnvelope,
} from "@connectrpc/connect/protocol";

/** gRPC's default receive limit. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const PREFIX_BYTES = 5;

function tooLarge(maxBytes: number): ConnectError {
	return new ConnectError(
		`message larger than maxMessageBytes=${maxBytes}`,
		Code.ResourceExhausted,
	);
}

/** Wraps `fetch` so every response body honours the limit (see the file comment). */
export function limitMessageBytes(
	fetch: typeof globalThis.fetch,
	maxBytes: number,
): typeof globalThis.fetch {
	return async (input, init) => {
		const response = await fetch(input, init);
		if (response.body === null) return response;
		const streaming = (response.headers.get("content-type") ?? "").startsWith(
			"application/connect+",
		);
		const body = streaming
			? limitEnvelopes(response.body, maxBytes)
			: limitTotal(response.body, maxBytes);
		return new Response(body, {
			status: response.status,
			statusText: response.statusText,
			headers: response.headers,
		});
	};
}

function limitTotal(
	body: ReadableStream<Uint8Array>,
	maxBytes: number,
): ReadableStream<Uint8Array> {
	let received = 0;
	return body.pipeThrough(
		new TransformStream<Uint8Array, Uint8Array>({
			transform(chunk, controller) {
				received += chunk.byteLength;
				if (received > maxBytes) controller.error(tooLarge(maxBytes));
				else controller.enqueue(chunk);
			},
		}),
	);
}

function limitEnvelopes(
	body: ReadableStream<Uint8Array>,
	maxBytes: number,
): ReadableStream<Uint8Array> {
	let received = 0;
	let consumed = 0;
	const counted = body.pipeThrough(
		new TransformStream<Uint8Array, Uint8Array>({
			transform(chunk, controller) {
				// Bytes before this chunk that are still no complete envelope: one message's worth at most.
				if (received - consumed > maxBytes + PREFIX_BYTES) {
					controller.error(tooLarge(maxBytes));
					return;
				}
				received += chunk.byteLength;
				controller.enqueue(chunk);
			},
		}),
	);
	return createEnvelopeReadableStream(counted).pipeThrough(
		new TransformStream({
			transform(envelope, controller) {
				consumed += PREFIX_BYTES + envelope.data.byteLength;
				if (envelope.data.byteLength > maxBytes)
					controller.error(tooLarge(maxBytes));
				else controller.enqueue(encodeEnvelope(envelope.flags, envelope.data));
			},
		}),
	);
}
