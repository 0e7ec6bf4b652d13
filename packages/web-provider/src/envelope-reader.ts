import { FlagdWebError } from "./errors.js";

/** One frame of a Connect streaming body: a flags byte, a 4-byte big-endian length and the payload. */
export interface Envelope {
	readonly flags: number;
	readonly data: Uint8Array;
}

/** Flag bit of the last frame of a Connect stream (the end-of-stream JSON with an optional error). */
export const END_STREAM_FLAG = 0b10;
/** Flag bit of a compressed frame; the provider never asks for compression, so it must not see one. */
export const COMPRESSED_FLAG = 0b01;

const HEADER_BYTES = 5;

/**
 * Splits a Connect streaming body into envelopes as bytes arrive. Frames may be split across chunks or several
 * may share one chunk. A frame longer than `maxMessageBytes` or a body that stops mid-frame is a protocol error.
 */
export async function* readEnvelopes(
	body: ReadableStream<Uint8Array>,
	maxMessageBytes: number,
): AsyncGenerator<Envelope> {
	const reader = body.getReader();
	let buffer: Uint8Array = new Uint8Array(0);
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			buffer = concat(buffer, value);
			while (buffer.length >= HEADER_BYTES) {
				const length = new DataView(
					buffer.buffer,
					buffer.byteOffset,
					HEADER_BYTES,
				).getUint32(1);
				if (length > maxMessageBytes) {
					throw new FlagdWebError(
						`stream message of ${length} bytes exceeds the limit of ${maxMessageBytes} bytes`,
						"resource_exhausted",
					);
				}
				if (buffer.length < HEADER_BYTES + length) break;
				const flags = buffer[0] ?? 0;
				yield {
					flags,
					data: buffer.subarray(HEADER_BYTES, HEADER_BYTES + length),
				};
				buffer = buffer.subarray(HEADER_BYTES + length);
			}
		}
		if (buffer.length > 0) {
			throw new FlagdWebError(
				`stream ended inside a message (${buffer.length} bytes left over)`,
				"internal",
			);
		}
	} finally {
		// Releases the connection when the consumer stops early (abort, error, break).
		reader.cancel().catch(() => {
			// Cancelling an already errored or finished body rejects; there is nothing left to release.
		});
	}
}

/** Wraps one JSON message in a Connect envelope (the EventStream request body). */
export function encodeEnvelope(json: string): Uint8Array<ArrayBuffer> {
	const payload = new TextEncoder().encode(json);
	const out = new Uint8Array(HEADER_BYTES + payload.length);
	new DataView(out.buffer).setUint32(1, payload.length);
	out.set(payload, HEADER_BYTES);
	return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
	if (a.length === 0) return b;
	const out = new Uint8Array(a.length + b.length);
	out.set(a);
	out.set(b, a.length);
	return out;
}
