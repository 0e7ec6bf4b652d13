/**
 * The HTTP/1.1 response of every listener. One written before its request's body has been read to the end (an
 * error, a 405, a body over the limit) says `Connection: close`, and Node closes the connection once it is sent.
 * Node would otherwise read and discard the rest of the body to reuse the connection, however large the client
 * says it is. Decided where the head is written, from the request's own state: no listener per request.
 */
import http from "node:http";

/** See the file comment. Given to node:http as its `ServerResponse` class (`Http1ServerResponse` for node:http2). */
export class UnreadBodyResponse<
	Request extends http.IncomingMessage = http.IncomingMessage,
> extends http.ServerResponse<Request> {
	// Node writes every head through writeHead, the implicit one (`end()` without it) too.
	override writeHead(
		statusCode: number,
		statusMessage?: string,
		headers?: http.OutgoingHttpHeaders | http.OutgoingHttpHeader[],
	): this;
	override writeHead(
		statusCode: number,
		headers?: http.OutgoingHttpHeaders | http.OutgoingHttpHeader[],
	): this;
	override writeHead(
		statusCode: number,
		reasonOrHeaders?:
			| string
			| http.OutgoingHttpHeaders
			| http.OutgoingHttpHeader[],
		headers?: http.OutgoingHttpHeaders | http.OutgoingHttpHeader[],
	): this {
		// `complete` is false until the parser reaches the end of the message, also for a request without a body
		// answered from the handler itself: such a request has nothing left to read.
		if (!this.req.complete && !this.headersSent && hasBody(this.req))
			this.setHeader("Connection", "close");
		// Node reads (code, headers, undefined) as (code, headers).
		return super.writeHead(
			statusCode,
			reasonOrHeaders as string | undefined,
			headers,
		);
	}
}

/** Whether the request declares a body (RFC 9112 §6.3: Transfer-Encoding, or a Content-Length above 0). */
function hasBody(req: http.IncomingMessage): boolean {
	const { headers } = req;
	return (
		headers["transfer-encoding"] !== undefined ||
		Number(headers["content-length"] ?? "0") > 0
	);
}
