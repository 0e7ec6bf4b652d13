/**
 * A lean gRPC transport for unary calls: the request goes straight onto an HTTP/2 stream of the shared
 * `Http2SessionManager` and the answer is read from the stream's events, with no async-iterable body pipeline in
 * between. Streaming calls (the event stream) are handed to connect-node's gRPC transport on the same session
 * manager, so both share one connection, one keep-alive and one `abort()`.
 *
 * Why: connect-node's gRPC transport spends roughly 0.4 ms of client CPU per unary call in its generic stream
 * machinery; evaluations are single small messages, so that machinery buys nothing and the uncached evaluation
 * latency is dominated by it (bench/provider.bench.ts). Everything the protocol asks of a client is here:
 * `grpc-timeout` plus a local deadline, cancellation through the signal, trailers-only responses, HTTP status
 * mapping, `grpc-status-details-bin`, RST_STREAM code mapping, a receive size limit and the envelope checks.
 */
import * as http2 from "node:http2";
import {
	create,
	type DescMessage,
	type DescMethodUnary,
	fromBinary,
	isMessage,
	type MessageInitShape,
	type MessageShape,
	toBinary,
} from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type Transport,
	type UnaryResponse,
} from "@connectrpc/connect";
import {
	codeFromHttpStatus,
	findTrailerError,
} from "@connectrpc/connect/protocol-grpc";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { fastMessageCodec } from "@flagd-ts/protocol/fast-message-codec";

/** Options of {@link createGrpcUnaryTransport}. */
export interface GrpcUnaryTransportOptions {
	/** The HTTP/2 connection shared with `streamTransport`. */
	readonly sessionManager: Http2SessionManager;
	/** Carries streaming calls; it must use the same session manager. */
	readonly streamTransport: Transport;
	/** Largest response message accepted, in bytes (gRPC's default receive limit is 4 MiB). */
	readonly readMaxBytes?: number;
	/** Called with the outgoing headers of each unary call (trace context propagation). */
	readonly onRequestHeaders?: (headers: Record<string, string>) => void;
	/** `user-agent` of every unary call. */
	readonly userAgent?: string;
}

const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;
const ENVELOPE_HEADER_BYTES = 5;

/** See the file comment. */
export function createGrpcUnaryTransport(
	options: GrpcUnaryTransportOptions,
): Transport {
	const readMaxBytes = options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
	const userAgent = options.userAgent ?? "flagd-ts-provider";
	return {
		unary<I extends DescMessage, O extends DescMessage>(
			method: DescMethodUnary<I, O>,
			signal: AbortSignal | undefined,
			timeoutMs: number | undefined,
			header: HeadersInit | undefined,
			input: MessageInitShape<I>,
		): Promise<UnaryResponse<I, O>> {
			const headers: Record<string, string> = {};
			if (header !== undefined) copyHeaders(header, headers);
			headers["content-type"] = "application/grpc+proto";
			headers.te = "trailers";
			headers["user-agent"] ??= userAgent;
			if (timeoutMs !== undefined) headers["grpc-timeout"] = `${timeoutMs}m`;
			options.onRequestHeaders?.(headers);
			const body = encodeRequest(method.input, input);
			const decoder = fastMessageCodec(method.output);
			const path = `/${method.parent.typeName}/${method.name}`;
			return call(
				options.sessionManager,
				path,
				headers,
				body,
				signal,
				timeoutMs,
				readMaxBytes,
			).then((answer) => {
				const message = (
					decoder === undefined
						? fromBinary(method.output, answer.payload)
						: decoder.decode(answer.payload)
				) as MessageShape<O>;
				// Headers objects are built only when asked for (onHeader/onTrailer); evaluations never ask.
				let header: Headers | undefined;
				let trailer: Headers | undefined;
				return {
					stream: false,
					service: method.parent,
					method,
					message,
					get header() {
						header ??= toHeaders(answer.header);
						return header;
					},
					get trailer() {
						trailer ??= toHeaders(answer.trailer);
						return trailer;
					},
				};
			});
		},
		stream: (method, signal, timeoutMs, header, input, contextValues) =>
			options.streamTransport.stream(
				method,
				signal,
				timeoutMs,
				header,
				input,
				contextValues,
			),
	};
}

interface RawAnswer {
	readonly payload: Uint8Array;
	readonly header: http2.IncomingHttpHeaders;
	readonly trailer: http2.IncomingHttpHeaders;
}

/**
 * One call: one promise, one deadline timer and one abort listener from the start of the dial to the last byte.
 * The deadline and the signal apply while the session manager dials too: an unreachable host (SYN timeout,
 * stalled TLS handshake) must not outlast the call's deadline.
 */
function call(
	sessionManager: Http2SessionManager,
	path: string,
	headers: Record<string, string>,
	body: Uint8Array,
	signal: AbortSignal | undefined,
	timeoutMs: number | undefined,
	readMaxBytes: number,
): Promise<RawAnswer> {
	if (signal?.aborted) return Promise.reject(abortError(signal));
	return new Promise<RawAnswer>((resolve, reject) => {
		let stream: http2.ClientHttp2Stream | undefined;
		let settled = false;
		const finish = (error: ConnectError | undefined, answer?: RawAnswer) => {
			if (settled) return;
			settled = true;
			if (timer !== undefined) clearTimeout(timer);
			signal?.removeEventListener("abort", onAbort);
			if (error !== undefined) {
				if (stream !== undefined && !stream.closed)
					stream.close(http2.constants.NGHTTP2_CANCEL);
				reject(error);
			} else resolve(answer as RawAnswer);
		};
		const onAbort = () => finish(abortError(signal as AbortSignal));
		signal?.addEventListener("abort", onAbort, { once: true });
		const timer =
			timeoutMs === undefined
				? undefined
				: setTimeout(() => finish(deadlineError(timeoutMs)), timeoutMs);
		timer?.unref();
		sessionManager.request("POST", path, headers, {}).then(
			(s) => {
				if (settled) {
					// Given up on while dialling: the stream is not wanted any more.
					s.close(http2.constants.NGHTTP2_CANCEL);
					return;
				}
				stream = s;
				exchange(sessionManager, s, body, readMaxBytes, finish);
			},
			(err: unknown) => finish(connectionError(err)),
		);
	});
}

/** Sends the request on `stream` and reads the answer into `finish`. */
function exchange(
	sessionManager: Http2SessionManager,
	stream: http2.ClientHttp2Stream,
	body: Uint8Array,
	readMaxBytes: number,
	finish: (error: ConnectError | undefined, answer?: RawAnswer) => void,
): void {
	// Captured now: a closed stream no longer knows its session.
	const session = stream.session;
	let header: http2.IncomingHttpHeaders | undefined;
	let trailer: http2.IncomingHttpHeaders = {};
	const chunks: Buffer[] = [];
	let received = 0;
	let ended = false;

	stream.on("response", (h) => {
		header = h;
		const status = Number(h[":status"]);
		if (status !== 200) {
			finish(
				new ConnectError(
					`HTTP ${status}`,
					codeFromHttpStatus(status),
					toHeaders(h),
				),
			);
			return;
		}
		const contentType = String(h["content-type"] ?? "");
		if (!/^application\/grpc(?:\+proto)?(?:;|$)/i.test(contentType)) {
			finish(
				new ConnectError(
					`unsupported content type ${contentType}`,
					Code.Unknown,
				),
			);
		}
	});
	stream.on("data", (chunk: Buffer) => {
		sessionManager.notifyResponseByteRead(stream);
		received += chunk.length;
		if (received > readMaxBytes + ENVELOPE_HEADER_BYTES) {
			finish(
				new ConnectError(
					`message size is larger than configured readMaxBytes ${readMaxBytes}`,
					Code.ResourceExhausted,
				),
			);
			return;
		}
		chunks.push(chunk);
	});
	stream.on("trailers", (t) => {
		trailer = t;
	});
	stream.on("end", () => {
		ended = true;
		// An incomplete answer on a session that is gone: the connection was lost, not a protocol error.
		if (header === undefined) {
			finish(
				session?.destroyed
					? connectionLost()
					: new ConnectError(
							"protocol error: no response headers",
							Code.Internal,
						),
			);
			return;
		}
		// A trailers-only response carries the status in the headers.
		const statusSource =
			trailer["grpc-status"] === undefined ? header : trailer;
		if (statusSource["grpc-status"] === undefined) {
			finish(
				session?.destroyed
					? connectionLost()
					: new ConnectError("protocol error: missing status", Code.Internal),
			);
			return;
		}
		const statusError =
			statusSource["grpc-status"] === "0" &&
			statusSource["grpc-status-details-bin"] === undefined
				? undefined
				: findTrailerError(toHeaders(statusSource));
		if (statusError !== undefined) {
			finish(statusError);
			return;
		}
		const parsed = unenvelope(chunks, received, readMaxBytes);
		if (parsed instanceof Uint8Array)
			finish(undefined, { payload: parsed, header, trailer });
		else finish(parsed);
	});
	// 'close' without 'end': the stream was reset or the connection went away. Node closes the streams of a
	// session that goes away with its own CANCEL or INTERNAL_ERROR code, which must not read as the peer's.
	stream.on("close", () => {
		if (ended) return;
		finish(session?.destroyed ? connectionLost() : resetError(stream.rstCode));
	});
	stream.on("error", (err: unknown) => {
		finish(
			session?.destroyed
				? connectionLost(err)
				: resetError(stream.rstCode, err),
		);
	});
	stream.end(body);
}

function abortError(signal: AbortSignal): ConnectError {
	return new ConnectError(
		`operation was aborted: ${String(signal.reason)}`,
		Code.Canceled,
	);
}

function deadlineError(timeoutMs: number): ConnectError {
	return new ConnectError(
		`the operation timed out after ${timeoutMs} ms`,
		Code.DeadlineExceeded,
	);
}

/** The session under the stream was destroyed (peer closed the connection, socket error, PING timeout). */
function connectionLost(cause?: unknown): ConnectError {
	const detail = cause instanceof Error ? `: ${cause.message}` : "";
	return new ConnectError(
		`connection closed before the answer${detail}`,
		Code.Unavailable,
		undefined,
		undefined,
		cause,
	);
}

/** The request as one gRPC envelope (flags 0, big-endian length, message). */
function encodeRequest<I extends DescMessage>(
	desc: I,
	input: MessageInitShape<I>,
): Uint8Array {
	let frame = fastMessageCodec(desc)?.encode(
		input as object,
		ENVELOPE_HEADER_BYTES,
	);
	if (frame === undefined) {
		const message = isMessage(input, desc)
			? input
			: create(desc, input as MessageInitShape<I>);
		const payload = toBinary(desc, message);
		frame = new Uint8Array(ENVELOPE_HEADER_BYTES + payload.length);
		frame.set(payload, ENVELOPE_HEADER_BYTES);
	}
	frame[0] = 0;
	new DataView(frame.buffer, frame.byteOffset).setUint32(
		1,
		frame.length - ENVELOPE_HEADER_BYTES,
	);
	return frame;
}

/** The single message of a unary response, or the protocol error describing why there is not exactly one. */
function unenvelope(
	chunks: readonly Buffer[],
	total: number,
	readMaxBytes: number,
): Uint8Array | ConnectError {
	const data =
		chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
	if (data.length < ENVELOPE_HEADER_BYTES) {
		return new ConnectError(
			data.length === 0
				? "protocol error: missing output message for unary method"
				: "protocol error: premature end of stream",
			data.length === 0 ? Code.Unimplemented : Code.Internal,
		);
	}
	const flags = data[0] as number;
	if ((flags & 0b1) !== 0) {
		return new ConnectError(
			"protocol error: received a compressed message, but no compression was negotiated",
			Code.Internal,
		);
	}
	const length = data.readUInt32BE(1);
	if (length > readMaxBytes) {
		return new ConnectError(
			`message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
			Code.ResourceExhausted,
		);
	}
	const end = ENVELOPE_HEADER_BYTES + length;
	if (data.length < end) {
		return new ConnectError(
			"protocol error: premature end of stream",
			Code.Internal,
		);
	}
	if (data.length > end) {
		return new ConnectError(
			"protocol error: received extra output message for unary method",
			Code.Unimplemented,
		);
	}
	return data.subarray(ENVELOPE_HEADER_BYTES, end);
}

/** gRPC's mapping of HTTP/2 RST_STREAM codes (PROTOCOL-HTTP2.md, "Errors"). */
function resetError(rstCode: number, cause?: unknown): ConnectError {
	const c = http2.constants;
	const detail =
		cause instanceof Error ? cause.message : `stream reset (code ${rstCode})`;
	switch (rstCode) {
		case c.NGHTTP2_REFUSED_STREAM:
			return new ConnectError(
				detail,
				Code.Unavailable,
				undefined,
				undefined,
				cause,
			);
		case c.NGHTTP2_CANCEL:
			return new ConnectError(
				detail,
				Code.Canceled,
				undefined,
				undefined,
				cause,
			);
		case c.NGHTTP2_ENHANCE_YOUR_CALM:
			return new ConnectError(
				detail,
				Code.ResourceExhausted,
				undefined,
				undefined,
				cause,
			);
		case c.NGHTTP2_INADEQUATE_SECURITY:
			return new ConnectError(
				detail,
				Code.PermissionDenied,
				undefined,
				undefined,
				cause,
			);
		case c.NGHTTP2_NO_ERROR:
			// Closed with no reset code and no answer: the connection went away under the stream.
			return new ConnectError(
				cause instanceof Error ? detail : "connection closed before the answer",
				Code.Unavailable,
				undefined,
				undefined,
				cause,
			);
		default:
			return new ConnectError(
				detail,
				Code.Internal,
				undefined,
				undefined,
				cause,
			);
	}
}

/** Dial and session failures: the daemon cannot be reached, which gRPC reports as UNAVAILABLE. */
function connectionError(err: unknown): ConnectError {
	if (err instanceof ConnectError) {
		// connect-node reports socket errors it does not list (EHOSTUNREACH, ENETUNREACH, …; or any, when the
		// error comes from another realm) as Internal; a socket-level failure to dial is UNAVAILABLE in gRPC.
		const syscall = (err.cause as { syscall?: unknown } | undefined)?.syscall;
		if (err.code === Code.Internal && typeof syscall === "string") {
			return new ConnectError(
				err.rawMessage,
				Code.Unavailable,
				err.metadata,
				undefined,
				err.cause,
			);
		}
		return err;
	}
	const message = err instanceof Error ? err.message : String(err);
	return new ConnectError(message, Code.Unavailable, undefined, undefined, err);
}

function copyHeaders(from: HeadersInit, to: Record<string, string>): void {
	if (from instanceof Headers) {
		from.forEach((value, key) => {
			to[key] = value;
		});
	} else if (Array.isArray(from)) {
		for (const [key, value] of from as [string, string][]) {
			to[key.toLowerCase()] = value;
		}
	} else {
		for (const key of Object.keys(from)) {
			to[key.toLowerCase()] = (from as Record<string, string>)[key] as string;
		}
	}
}

function toHeaders(raw: http2.IncomingHttpHeaders): Headers {
	const headers = new Headers();
	for (const key of Object.keys(raw)) {
		if (key.startsWith(":")) continue;
		const value = raw[key];
		if (Array.isArray(value)) for (const v of value) headers.append(key, v);
		else if (value !== undefined) headers.set(key, value);
	}
	return headers;
}
