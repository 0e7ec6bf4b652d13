import type { Http2Connection } from "./http2-connection.js";
import type { Http2StreamError } from "./http2-stream-error.js";

/** Header fields of one header block: lower-case names, repeated fields joined with ", ". Null prototype. */
export type Http2Fields = Record<string, string>;

/** Receives one stream's answer. Exactly one of: `onHeaders`/`onData` up to one with `endStream`, or `onFailure`. */
export interface Http2StreamHandler {
	/** The response headers (first call) or trailers (`endStream` true). A trailers-only answer is one call with `endStream`. */
	onHeaders(fields: Http2Fields, endStream: boolean): void;
	/** Response body bytes; the buffer is not reused by the connection. */
	onData(chunk: Buffer, endStream: boolean): void;
	/** The stream ended without a complete answer. */
	onFailure(error: Http2StreamError): void;
}

/**
 * One request stream: the encoded request and the per-stream protocol state the connection keeps. The request
 * is kept until the stream ends so that a stream the server refused can be sent again on another connection.
 */
export class Http2ClientStream {
	/** Stream id; 0 until the stream starts. */
	id = 0;
	connection: Http2Connection | undefined = undefined;
	sendWindow = 0;
	receiveWindow = 0;
	/** How much of `body` has been sent when it did not fit the windows at once. */
	pendingOffset = 0;
	localEnded = false;
	sawHeaders = false;
	/** Sent again after a refusal already (only once). */
	retried = false;
	cancelled = false;

	constructor(
		readonly headerBlock: Uint8Array,
		readonly body: Uint8Array,
		readonly handler: Http2StreamHandler,
	) {}

	/** Abandons the stream: RST_STREAM CANCEL if it started; its handler hears nothing more. */
	cancel(): void {
		if (this.cancelled) return;
		this.cancelled = true;
		this.connection?.cancel(this);
	}

	/** Back to the unsent state, to be opened on another connection. */
	rewind(): void {
		this.id = 0;
		this.connection = undefined;
		this.pendingOffset = 0;
		this.localEnded = false;
		this.sawHeaders = false;
	}
}
