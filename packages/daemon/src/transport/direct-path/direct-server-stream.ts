/**
 * The response side of one server stream on the direct streaming path (direct-stream-path.ts): the headers,
 * messages written as bytes shared with every other stream (shared-message.ts), and the end of the stream as each
 * protocol ends it — gRPC with HTTP/2 trailers, gRPC-web with a trailer envelope, the Connect protocol with an
 * end-stream envelope — all built with connect's helpers (setTrailerStatus, trailerSerialize, the end-stream
 * serialization, encodeEnvelope). A stream holds only its response and a reference to its format, which every
 * stream of the same method, protocol and encoding shares.
 */
import http2 from "node:http2";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
	encodeEnvelope,
	type Serialization,
} from "@connectrpc/connect/protocol";
import {
	type EndStreamResponse,
	endStreamFlag,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import {
	trailerFlag,
	trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";
import type { NodeResponse } from "../http-listener.js";
import { toNodeHeaders } from "./direct-handler-context.js";
import type { SharedMessage, StreamOutput } from "./shared-message.js";

/** The protocols the direct streaming path speaks. */
export type StreamProtocolName = "grpc" | "grpc-web" | "connect";

/** What every stream of one method, protocol and encoding shares. */
export interface StreamFormat {
	readonly protocol: StreamProtocolName;
	readonly binary: boolean;
	readonly contentType: string;
	readonly output: StreamOutput;
	/** connect's end-stream serialization (Connect protocol only). */
	readonly endStream: Serialization<EndStreamResponse> | undefined;
}

/** A stream implementation on the direct path: write with `stream`, end it, or throw to end it with an error. */
export type DirectStreamImpl = (
	request: never,
	context: HandlerContext,
	stream: DirectServerStream,
) => void;

/** See the file comment. */
export class DirectServerStream {
	readonly #res: NodeResponse;
	readonly #format: StreamFormat;
	#ended = false;

	constructor(res: NodeResponse, format: StreamFormat) {
		this.#res = res;
		this.#format = format;
	}

	/** Writes the response headers at once, so the client sees the stream open before the first message. */
	start(): void {
		const res = this.#res;
		res.writeHead(200, { "content-type": this.#format.contentType });
		// HTTP/2 sends the headers on writeHead; HTTP/1.1 waits for the first body bytes unless flushed.
		if (!("stream" in res)) res.flushHeaders();
	}

	/** Whether the stream can still be written (not ended, client still there). */
	get open(): boolean {
		return !this.#ended && !this.#res.destroyed;
	}

	/** Bytes written but not yet taken by the client (flow control or socket buffer). */
	get bufferedBytes(): number {
		const res = this.#res;
		return "stream" in res ? res.stream.writableLength : res.writableLength;
	}

	/** Whether the last write filled the buffer: 'drain' (see {@link onDrain}) follows once the client took it. */
	get needsDrain(): boolean {
		const res = this.#res;
		return "stream" in res
			? res.stream.writableNeedDrain
			: res.writableNeedDrain;
	}

	/** Sends one message; false when the stream is already closed. */
	send(message: SharedMessage): boolean {
		if (!this.open) return false;
		const frame = message.frame(this.#format.output, this.#format.binary);
		(this.#res as { write(chunk: Uint8Array): boolean }).write(frame);
		return true;
	}

	/** Calls `listener` once the exchange is over (ended, aborted by the client, or destroyed). */
	onClose(listener: () => void): void {
		this.#res.once("close", listener);
	}

	/** Calls `listener` whenever buffered bytes have been taken by the client. */
	onDrain(listener: () => void): void {
		this.#res.on("drain", listener);
	}

	/** Ends the stream: status OK, or `error` as the protocol carries it. Later calls do nothing. */
	end(error?: ConnectError): void {
		if (!this.open) return;
		this.#ended = true;
		const res = this.#res;
		const { protocol, endStream } = this.#format;
		if (protocol === "grpc") {
			const trailer = new Headers({ "grpc-status": "0" });
			if (error !== undefined) setTrailerStatus(trailer, error);
			(res as { addTrailers(h: Record<string, string>): void }).addTrailers(
				toNodeHeaders(trailer),
			);
			res.end();
			return;
		}
		let last: Uint8Array;
		if (protocol === "grpc-web") {
			const trailer = new Headers({ "grpc-status": "0" });
			if (error !== undefined) setTrailerStatus(trailer, error);
			last = encodeEnvelope(trailerFlag, trailerSerialize(trailer));
		} else {
			last = encodeEnvelope(
				endStreamFlag,
				(endStream as Serialization<EndStreamResponse>).serialize({
					metadata: new Headers(),
					error,
				}),
			);
		}
		(res as { end(chunk: Uint8Array): void }).end(last);
	}

	/**
	 * Drops the stream without an orderly end (a client that does not read, so nothing more can reach it): HTTP/2
	 * resets it with ENHANCE_YOUR_CALM (gRPC clients read RESOURCE_EXHAUSTED); HTTP/1.1 closes the connection.
	 */
	abort(): void {
		this.#ended = true;
		const res = this.#res;
		if ("stream" in res)
			res.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
		else res.destroy();
	}
}

/** The error a stream ends with when its call's own timeout header expires (connect words it the same way). */
export function callTimeoutError(): ConnectError {
	return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}
