/**
 * How an HTTP/2 server of the daemon's listeners hands its streams to a handler. A handler with a stream path
 * (`RequestHandler.http2Stream`) is offered every stream first, as a {@link StreamRequest}; what it declines, and
 * everything on a handler without one, goes on as node:http2's own server does it: the compatibility request and
 * response, `CONNECT` answered 405, `Expect: 100-continue` answered 100 before the handler runs and any other
 * expectation 417. Every stream's body is under the listener's body deadline (request-body-deadline.ts).
 */
import type http2 from "node:http2";
import type { BodyDeadlines } from "./request-body-deadline.js";
import type { NodeRequest, RequestHandler } from "./request-handler.js";
import { StreamRequest } from "./stream-request.js";

type Http2Server = http2.Http2Server | http2.Http2SecureServer;

/**
 * Serves the HTTP/2 streams of `server` with `handler`. With TLS and HTTP/1.1 allowed (`alsoHttp1`), the server's
 * 'request' event carries the HTTP/1.1 requests to `handler` too: registering it makes node:http2 serve streams
 * through the compatibility API as well, so that listener of its own is taken off again.
 */
export function serveHttp2Streams(
	server: Http2Server,
	handler: RequestHandler,
	deadlines: BodyDeadlines | undefined,
	alsoHttp1 = false,
): void {
	if (alsoHttp1) {
		server.on("request", (req: NodeRequest, res) => {
			if (req.httpVersionMajor === 1) handler(req, res);
		});
		// node:http2 added its compatibility 'stream' listener with the 'request' listener above; streams are
		// served below instead.
		server.removeAllListeners("stream");
	}
	const streamPath = handler.http2Stream;
	server.on(
		"stream",
		(
			stream: http2.ServerHttp2Stream,
			headers: http2.IncomingHttpHeaders,
			_flags: number,
			rawHeaders: string[],
		) => {
			const req = new StreamRequest(stream, headers, rawHeaders);
			if (deadlines !== undefined && !stream.readableEnded)
				deadlines.watch(req);
			const method = headers[":method"];
			const expect = headers.expect;
			if (
				streamPath !== undefined &&
				method !== "CONNECT" &&
				expect === undefined &&
				streamPath(req)
			) {
				return;
			}
			const [request, response] = req.compat();
			if (method === "CONNECT") {
				response.statusCode = 405;
				response.end();
				return;
			}
			if (expect !== undefined) {
				if (expect !== "100-continue") {
					response.statusCode = 417;
					response.end();
					return;
				}
				response.writeContinue();
			}
			handler(request, response);
		},
	);
}
