/**
 * A deadline for the request body of every HTTP/2 request, as Go's `http.Server.ReadTimeout` gives flagd: a
 * client that opens a stream and never finishes (or trickles) its body cannot hold the stream. HTTP/1.1 gets the
 * same limit from Node's `requestTimeout` (connection-limits.ts).
 *
 * When the deadline passes before the body ended, the request is failed with a DEADLINE_EXCEEDED ConnectError,
 * so whoever reads the body (connect, a direct path) answers it in the request's own protocol (gRPC status,
 * Connect error, gRPC-web trailers); once that answer is written, or after a short grace if nobody answers, the
 * stream is reset (RST_STREAM NO_ERROR / CANCEL) so the client's unsent body is not waited for.
 */
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeRequest, RequestHandler } from "./request-handler.js";

/** After failing the body, the handler gets this long to answer before the stream is reset without an answer. */
const ANSWER_GRACE_MS = 1_000;

/** Wraps `handler` so every HTTP/2 request body must end within `timeoutMs` (0 = no deadline). */
export function withRequestBodyDeadline(
	handler: RequestHandler,
	timeoutMs: number,
): RequestHandler {
	if (timeoutMs <= 0) return handler;
	return (req, res) => {
		if ("stream" in req && !req.readableEnded) watch(req, timeoutMs);
		handler(req, res);
	};
}

function watch(
	req: Extract<NodeRequest, { stream: unknown }>,
	timeoutMs: number,
): void {
	const stream = req.stream;
	const timer = setTimeout(() => {
		if (req.readableEnded || stream.destroyed) return;
		const reset = (code: number) => {
			if (!stream.destroyed && !stream.closed) stream.close(code);
		};
		const backstop = setTimeout(
			() => reset(http2.constants.NGHTTP2_CANCEL),
			ANSWER_GRACE_MS,
		);
		backstop.unref();
		stream.once("close", () => clearTimeout(backstop));
		// Reset once the whole answer, trailers included, has been handed to HTTP/2 (our side closed), so the client
		// reads it first. The response's "finish" comes only after the stream closed, and the stream's before the
		// trailers, so the stream state is checked (a few ms at most; the backstop bounds it).
		const answered = () => {
			if (stream.destroyed || stream.closed) return;
			if (stream.state.localClose === 1)
				reset(http2.constants.NGHTTP2_NO_ERROR);
			else setTimeout(answered, 5).unref();
		};
		if (stream.writableFinished) answered();
		else stream.once("finish", answered);
		req.destroy(
			new ConnectError(
				`request body not received within ${timeoutMs} ms`,
				Code.DeadlineExceeded,
			),
		);
	}, timeoutMs);
	timer.unref();
	const done = () => clearTimeout(timer);
	req.once("end", done);
	stream.once("close", done);
}
