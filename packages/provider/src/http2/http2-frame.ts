/**
 * HTTP/2 wire constants (RFC 9113 §6, §7) and the frame-header writer shared by the client's connection code.
 */

export const FRAME_HEADER_BYTES = 9;

export const FrameType = {
	DATA: 0x0,
	HEADERS: 0x1,
	PRIORITY: 0x2,
	RST_STREAM: 0x3,
	SETTINGS: 0x4,
	PUSH_PROMISE: 0x5,
	PING: 0x6,
	GOAWAY: 0x7,
	WINDOW_UPDATE: 0x8,
	CONTINUATION: 0x9,
} as const;

export const FrameFlag = {
	END_STREAM: 0x1,
	ACK: 0x1,
	END_HEADERS: 0x4,
	PADDED: 0x8,
	PRIORITY: 0x20,
} as const;

export const Setting = {
	HEADER_TABLE_SIZE: 0x1,
	ENABLE_PUSH: 0x2,
	MAX_CONCURRENT_STREAMS: 0x3,
	INITIAL_WINDOW_SIZE: 0x4,
	MAX_FRAME_SIZE: 0x5,
	MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** HTTP/2 error codes (RFC 9113 §7). */
export const Http2ErrorCode = {
	NO_ERROR: 0x0,
	PROTOCOL_ERROR: 0x1,
	INTERNAL_ERROR: 0x2,
	FLOW_CONTROL_ERROR: 0x3,
	SETTINGS_TIMEOUT: 0x4,
	STREAM_CLOSED: 0x5,
	FRAME_SIZE_ERROR: 0x6,
	REFUSED_STREAM: 0x7,
	CANCEL: 0x8,
	COMPRESSION_ERROR: 0x9,
	CONNECT_ERROR: 0xa,
	ENHANCE_YOUR_CALM: 0xb,
	INADEQUATE_SECURITY: 0xc,
	HTTP_1_1_REQUIRED: 0xd,
} as const;

/** Name of an HTTP/2 error code for messages ("PROTOCOL_ERROR", or the number when unknown). */
export function http2ErrorName(code: number): string {
	for (const [name, value] of Object.entries(Http2ErrorCode)) {
		if (value === code) return name;
	}
	return `0x${code.toString(16)}`;
}

/** The client connection preface (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from(
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"latin1",
);

/** Protocol limits (RFC 9113 §4.2, §6.9.1). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_ALLOWED_FRAME_SIZE = 16_777_215;
export const DEFAULT_INITIAL_WINDOW_SIZE = 65_535;
export const MAX_WINDOW_SIZE = 0x7fff_ffff;
export const MAX_STREAM_ID = 0x7fff_ffff;

/** Writes a 9-byte frame header at `offset`. */
export function writeFrameHeader(
	target: Uint8Array,
	offset: number,
	length: number,
	type: number,
	flags: number,
	streamId: number,
): void {
	target[offset] = (length >>> 16) & 0xff;
	target[offset + 1] = (length >>> 8) & 0xff;
	target[offset + 2] = length & 0xff;
	target[offset + 3] = type;
	target[offset + 4] = flags;
	target[offset + 5] = (streamId >>> 24) & 0x7f;
	target[offset + 6] = (streamId >>> 16) & 0xff;
	target[offset + 7] = (streamId >>> 8) & 0xff;
	target[offset + 8] = streamId & 0xff;
}

/** One frame with its payload, as one buffer. */
export function frame(
	type: number,
	flags: number,
	streamId: number,
	payload: Uint8Array = new Uint8Array(0),
): Buffer {
	const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
	writeFrameHeader(out, 0, payload.length, type, flags, streamId);
	out.set(payload, FRAME_HEADER_BYTES);
	return out;
}
