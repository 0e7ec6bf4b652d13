/**
 * A malformed or over-limit HPACK header block. The decoder's state (the dynamic table) is undefined after one is
 * thrown, so the connection layer must treat it as a connection error of type COMPRESSION_ERROR (RFC 7540 §4.3)
 * and send GOAWAY.
 */
export class HpackError extends Error {
	readonly code = "COMPRESSION_ERROR";

	constructor(message: string) {
		super(message);
		this.name = "HpackError";
	}
}
