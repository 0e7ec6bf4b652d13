/**
 * Why a client stream ended without a complete answer. The kinds decide the gRPC status the transport reports:
 * - `reset`: the server reset the stream (RST_STREAM with `http2Code`);
 * - `refused`: the server did not process the stream (REFUSED_STREAM, or beyond a GOAWAY's last stream id),
 *   so sending it again on another connection is safe;
 * - `connection`: the connection failed or closed under the stream (dial error, socket closed, keep-alive
 *   timeout, client closed);
 * - `protocol`: the server broke the HTTP/2 protocol and we ended the connection or stream (`http2Code` is the
 *   code we sent).
 */
export type Http2StreamErrorKind =
	| "reset"
	| "refused"
	| "connection"
	| "protocol";

export class Http2StreamError extends Error {
	override readonly name = "Http2StreamError";

	constructor(
		message: string,
		readonly kind: Http2StreamErrorKind,
		readonly http2Code: number,
		options?: { cause?: unknown },
	) {
		super(message, options);
	}
}
