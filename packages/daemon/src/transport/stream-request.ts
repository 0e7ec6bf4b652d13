/**
 * An HTTP/2 request served from its stream, without node:http2's compatibility objects. For every stream, the
 * compatibility API builds an `Http2ServerRequest` (a Readable) and an `Http2ServerResponse` (a Writable) and hangs
 * about a dozen listeners on the stream; measured under callgrind that is ~40k instructions per gRPC call, more
 * than the daemon's whole answer from its answer cache. A plain unary call on a direct path (direct-path/) needs
 * none of it: its headers, its body once, and one `respond` + `end` with trailers. These two thin views give the
 * direct paths the members they use, read from and written to the stream; anything else turns them into the real
 * compatibility pair ({@link StreamRequest.compat}), built exactly as node:http2 builds it, and carries on there.
 *
 * Headers, body and trailers are the compatibility response's, with Node's `date` header. An answer without trailers
 * (Connect) ends the stream on its body's DATA frame, as Go's HTTP/2 server ends a small answer, where the
 * compatibility response always asks for trailers and sends an empty DATA frame with END_STREAM after the body: that
 * takes a second write and event-loop turn per call (docs/performance.md).
 */
import type { IncomingHttpHeaders } from "node:http";
import http2 from "node:http2";

type StreamHeaders = IncomingHttpHeaders & http2.IncomingHttpHeaders;
type OnError = (err: Error) => void;

/** See {@link StreamRequest.compat}: the failure reaches the reader through the request's `errored`. */
function noticedOnRead(): void {}

/** No headers or trailers given yet; {@link StreamResponse.end} asks for trailers only when they are not this. */
const NONE_GIVEN: Readonly<Record<string, string>> = Object.freeze({});

/** The request side: headers, body events, and the way to the compatibility pair. */
export class StreamRequest {
	readonly httpVersionMajor = 2;
	readonly response: StreamResponse;
	#compat: [http2.Http2ServerRequest, http2.Http2ServerResponse] | undefined;
	#onError: OnError | undefined;
	#failure: Error | undefined;

	constructor(
		readonly stream: http2.ServerHttp2Stream,
		readonly headers: StreamHeaders,
		private readonly rawHeaders: string[],
	) {
		this.response = new StreamResponse(stream);
		// Without a listener a stream error would be thrown; once the compatibility pair exists it listens too.
		stream.on("error", this.#streamError);
	}

	get method(): string | undefined {
		return this.headers[":method"];
	}

	get url(): string | undefined {
		return this.headers[":path"];
	}

	/** What connect-node's URL and the direct paths read: `encrypted` says whether the session is TLS. */
	get socket(): { readonly encrypted: boolean } {
		return { encrypted: this.stream.session?.encrypted === true };
	}

	/** Whether the stream's body has ended (the request body deadline reads it). */
	get readableEnded(): boolean {
		return this.stream.readableEnded;
	}

	/** Body events come from the stream; 'error' also from a failed body deadline ({@link destroy}). */
	on(event: "data", listener: (chunk: Buffer) => void): this;
	on(event: "end", listener: () => void): this;
	on(event: "error", listener: (err: Error) => void): this;
	on(
		event: "data" | "end" | "error",
		listener: (arg: Buffer & Error) => void,
	): this {
		if (event === "error") this.#onError = listener as OnError;
		else this.stream.on(event, listener);
		return this;
	}

	off(event: "data", listener: (chunk: Buffer) => void): this;
	off(event: "end", listener: () => void): this;
	off(event: "error", listener: (err: Error) => void): this;
	off(
		event: "data" | "end" | "error",
		listener: (arg: Buffer & Error) => void,
	): this {
		if (event === "error") {
			if (this.#onError === listener) this.#onError = undefined;
		} else this.stream.off(event, listener);
		return this;
	}

	pause(): this {
		this.stream.pause();
		return this;
	}

	/**
	 * Fails the body (request-body-deadline.ts): whoever reads it gets `err`, and so does the compatibility request
	 * once it exists, so connect answers the failure in the call's protocol.
	 */
	destroy(err: Error): this {
		if (this.#compat !== undefined) {
			this.#compat[0].destroy(err);
			return this;
		}
		this.#failure = err;
		this.#onError?.(err);
		return this;
	}

	/**
	 * The compatibility request and response for this stream, built once, as node:http2's server builds them. Body
	 * bytes already read from the stream are not in the request: the caller hands them on itself.
	 */
	compat(): [http2.Http2ServerRequest, http2.Http2ServerResponse] {
		if (this.#compat === undefined) {
			const req = new http2.Http2ServerRequest(
				this.stream,
				this.headers,
				undefined as never,
				this.rawHeaders,
			);
			this.#compat = [req, new http2.Http2ServerResponse(this.stream)];
			if (this.#failure !== undefined) {
				// The failure stays with the request (`errored`): reading it rejects with the failure, which is how
				// connect hears of it. Its 'error' event would come before anyone reads, with no listener yet.
				req.on("error", noticedOnRead);
				req.destroy(this.#failure);
			}
		}
		return this.#compat;
	}

	/**
	 * A stream error is the peer's reset ('close' follows): the body reader hears of it, as it would from the
	 * compatibility request, which otherwise ignores stream errors the same way.
	 */
	readonly #streamError = (err: Error): void => {
		if (this.#compat === undefined) this.#onError?.(err);
	};
}

/** The response side: one status, headers and optional trailers, written with the body in one go. */
export class StreamResponse {
	#statusCode = 200;
	#headers: Readonly<Record<string, string>> = NONE_GIVEN;
	#trailers: Readonly<Record<string, string>> = NONE_GIVEN;

	constructor(readonly stream: http2.ServerHttp2Stream) {}

	/** The status written, 200 until then (as the compatibility response reports it). */
	get statusCode(): number {
		return this.#statusCode;
	}

	/** True once the stream is gone: nothing can be written. */
	get destroyed(): boolean {
		return this.stream.destroyed || this.stream.closed;
	}

	on(event: "close", listener: () => void): this {
		this.stream.on(event, listener);
		return this;
	}

	once(event: "close", listener: () => void): this {
		this.stream.once(event, listener);
		return this;
	}

	/** Keeps the status and headers for {@link end}; `headers` is read, never changed (respond copies it). */
	writeHead(
		statusCode: number,
		headers: Readonly<Record<string, string>>,
	): this {
		this.#statusCode = statusCode;
		this.#headers = headers;
		return this;
	}

	/** Trailers to send after the body; `trailers` is read, never changed (sendTrailers copies it). */
	addTrailers(trailers: Readonly<Record<string, string>>): void {
		this.#trailers = trailers;
	}

	/**
	 * Sends the headers, the body and the trailers, if any were added. Throws what `respond` throws (an invalid
	 * header). Without trailers Node 20 makes an `ERR_STREAM_DESTROYED` nobody sees once the stream has closed
	 * (`errorBuffer` after the last write): measured cheaper than the second write that asking for trailers takes.
	 */
	end(body?: Uint8Array | string): void {
		const stream = this.stream;
		// respond copies the headers and puts in `:status` 200 when there is none.
		const headers =
			this.#statusCode === 200
				? this.#headers
				: { ...this.#headers, ":status": String(this.#statusCode) };
		if (this.#trailers === NONE_GIVEN) stream.respond(headers);
		else {
			stream.respond(headers, { waitForTrailers: true });
			stream.once("wantTrailers", this.#sendTrailers);
		}
		if (body === undefined) stream.end();
		else stream.end(body);
	}

	readonly #sendTrailers = (): void => {
		// The stream may have been reset between the body and the trailers.
		if (!this.stream.destroyed) this.stream.sendTrailers(this.#trailers);
	};
}
