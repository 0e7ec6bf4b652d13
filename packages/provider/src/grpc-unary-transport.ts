/**
 * A lean gRPC transport for unary calls: the request goes out through our own HTTP/2 client (./http2/) as one
 * HEADERS frame, with the constant part of the header block encoded once per method, and one DATA frame; the
 * answer is read by a single handler object per call. Streaming calls (the event stream) are handed to
 * connect-node's gRPC transport, on its own connection.
 *
 * Why: connect-node's gRPC transport spends roughly 0.4 ms of client CPU per unary call in its generic stream
 * machinery and node:http2 another ~0.1 ms; evaluations are single small messages, and the uncached evaluation
 * latency is dominated by that work (bench/provider.bench.ts). Everything the protocol asks of a client is here:
 * `grpc-timeout` plus a local deadline, cancellation through the signal, trailers-only responses, HTTP status
 * mapping, `grpc-status-details-bin`, RST_STREAM code mapping, a receive size limit and the envelope checks.
 */
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
import { fastMessageCodec } from "@flagd-ts/protocol/fast-message-codec";
import { encodeField, encodeHeaderBlock } from "./http2/hpack-encoder.js";
import type { Http2Client } from "./http2/http2-client.js";
import type {
	Http2ClientStream,
	Http2Fields,
	Http2StreamHandler,
} from "./http2/http2-client-stream.js";
import { Http2ErrorCode } from "./http2/http2-frame.js";
import type { Http2StreamError } from "./http2/http2-stream-error.js";

/** Options of {@link createGrpcUnaryTransport}. */
export interface GrpcUnaryTransportOptions {
	/** The HTTP/2 client unary calls go through. */
	readonly client: Http2Client;
	/** `:authority` of every call (`host:port`, or what the target asks for). */
	readonly authority: string;
	/** `:scheme` of every call. */
	readonly scheme: "http" | "https";
	/** Carries streaming calls. */
	readonly streamTransport: Transport;
	/** Largest response message accepted, in bytes (gRPC's default receive limit is 4 MiB). */
	readonly readMaxBytes?: number;
	/** Called with the outgoing headers of each unary call (trace context propagation). */
	readonly onRequestHeaders?: (headers: Record<string, string>) => void;
	/** `user-agent` of every unary call. */
	readonly userAgent?: string;
	/** How long a connection whose call passed its deadline may take to answer a PING before it is dropped, in ms. */
	readonly probeTimeoutMs?: number;
}

const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_PROBE_TIMEOUT_MS = 2000;
const ENVELOPE_HEADER_BYTES = 5;
/** Encoded header fields kept for reuse (call headers such as Flagd-Selector and grpc-timeout repeat). */
const FIELD_CACHE_LIMIT = 256;
/** Connection-level fields HTTP/2 forbids (RFC 9113 §8.2.2); `host` is carried by `:authority`. */
const FORBIDDEN_FIELDS = new Set([
	"connection",
	"keep-alive",
	"proxy-connection",
	"transfer-encoding",
	"upgrade",
	"host",
]);

/** See the file comment. */
export function createGrpcUnaryTransport(
	options: GrpcUnaryTransportOptions,
): Transport {
	const readMaxBytes = options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
	const userAgent = options.userAgent ?? "flagd-ts-provider";
	const probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
	// Keyed by the method descriptor, so a call builds no path string.
	const fixedBlocks = new Map<DescMethodUnary, Uint8Array>();
	const fieldCache = new Map<string, Uint8Array>();
	const fixedBlock = (method: DescMethodUnary): Uint8Array => {
		let block = fixedBlocks.get(method);
		if (block === undefined) {
			block = encodeHeaderBlock([
				[":method", "POST"],
				[":scheme", options.scheme],
				[":path", `/${method.parent.typeName}/${method.name}`],
				[":authority", options.authority],
				["content-type", "application/grpc+proto"],
				["te", "trailers"],
			]);
			fixedBlocks.set(method, block);
		}
		return block;
	};
	const field = (name: string, value: string): Uint8Array => {
		const key = `${name}\0${value}`;
		let encoded = fieldCache.get(key);
		if (encoded === undefined) {
			encoded = encodeField(name, value);
			if (fieldCache.size >= FIELD_CACHE_LIMIT) fieldCache.clear();
			fieldCache.set(key, encoded);
		}
		return encoded;
	};
	return {
		unary<I extends DescMessage, O extends DescMessage>(
			method: DescMethodUnary<I, O>,
			signal: AbortSignal | undefined,
			timeoutMs: number | undefined,
			header: HeadersInit | undefined,
			input: MessageInitShape<I>,
		): Promise<UnaryResponse<I, O>> {
			if (signal?.aborted) return Promise.reject(abortError(signal));
			const headers: Record<string, string> = {};
			if (header !== undefined) copyHeaders(header, headers);
			headers["user-agent"] ??= userAgent;
			if (timeoutMs !== undefined) headers["grpc-timeout"] = `${timeoutMs}m`;
			options.onRequestHeaders?.(headers);
			let block: Uint8Array;
			let body: Uint8Array;
			try {
				block = headerBlock(
					fixedBlock(method as DescMethodUnary),
					headers,
					field,
				);
				body = encodeRequest(method.input, input);
			} catch (err: unknown) {
				return Promise.reject(ConnectError.from(err, Code.Internal));
			}
			const decoder = fastMessageCodec(method.output);
			return new Promise<RawAnswer>((resolve, reject) => {
				const call = new UnaryCall(
					resolve,
					reject,
					signal,
					timeoutMs,
					readMaxBytes,
					options.client,
					probeTimeoutMs,
				);
				call.stream = options.client.request(block, body, call);
				if (call.settled) call.stream.cancel();
			}).then((answer) => {
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

/** The method's fixed fields followed by the call's own, as one HPACK block. */
function headerBlock(
	fixed: Uint8Array,
	headers: Record<string, string>,
	field: (name: string, value: string) => Uint8Array,
): Uint8Array {
	const parts: Uint8Array[] = [];
	let length = fixed.length;
	for (const name of Object.keys(headers)) {
		if (name.startsWith(":") || FORBIDDEN_FIELDS.has(name)) continue;
		if (name === "content-type" || name === "te") continue;
		const encoded = field(name, headers[name] as string);
		parts.push(encoded);
		length += encoded.length;
	}
	const block = new Uint8Array(length);
	block.set(fixed, 0);
	let at = fixed.length;
	for (const part of parts) {
		block.set(part, at);
		at += part.length;
	}
	return block;
}

const NO_FIELDS: Http2Fields = Object.freeze(Object.create(null));

interface RawAnswer {
	readonly payload: Uint8Array;
	readonly header: Http2Fields;
	readonly trailer: Http2Fields;
}

/**
 * One call: one promise, one deadline timer and one abort listener from the start of the dial to the last byte.
 * The deadline and the signal apply while the client dials too: an unreachable host (SYN timeout, stalled TLS
 * handshake) must not outlast the call's deadline.
 */
class UnaryCall implements Http2StreamHandler {
	stream: Http2ClientStream | undefined;
	settled = false;
	private header: Http2Fields | undefined;
	private readonly chunks: Buffer[] = [];
	private received = 0;
	private readonly timer: NodeJS.Timeout | undefined;
	private readonly onAbort: (() => void) | undefined;

	constructor(
		private readonly resolve: (answer: RawAnswer) => void,
		private readonly reject: (error: ConnectError) => void,
		private readonly signal: AbortSignal | undefined,
		timeoutMs: number | undefined,
		private readonly readMaxBytes: number,
		private readonly client: Http2Client,
		private readonly probeTimeoutMs: number,
	) {
		if (signal !== undefined) {
			this.onAbort = () => this.fail(abortError(signal));
			signal.addEventListener("abort", this.onAbort, { once: true });
		}
		if (timeoutMs !== undefined) {
			this.timer = setTimeout(() => {
				// No answer in time: the connection may be black-holed; a PING tells.
				if (this.stream !== undefined && !this.settled)
					this.client.probe(this.stream, this.probeTimeoutMs);
				this.fail(deadlineError(timeoutMs));
			}, timeoutMs);
			this.timer.unref();
		}
	}

	onHeaders(fields: Http2Fields, endStream: boolean): void {
		if (this.settled) return;
		if (this.header === undefined) {
			this.header = fields;
			const status = fields[":status"];
			if (status !== "200") {
				const code = Number(status);
				this.fail(
					new ConnectError(
						`HTTP ${status}`,
						codeFromHttpStatus(code),
						toHeaders(fields),
					),
				);
				return;
			}
			const contentType = fields["content-type"] ?? "";
			if (!/^application\/grpc(?:\+proto)?(?:;|$)/i.test(contentType)) {
				this.fail(
					new ConnectError(
						`unsupported content type ${contentType}`,
						Code.Unknown,
					),
				);
				return;
			}
			// A trailers-only response carries the status in the headers.
			if (endStream) this.complete(fields, fields);
			return;
		}
		this.complete(this.header, fields);
	}

	onData(chunk: Buffer, endStream: boolean): void {
		if (this.settled) return;
		this.received += chunk.length;
		if (this.received > this.readMaxBytes + ENVELOPE_HEADER_BYTES) {
			this.fail(
				new ConnectError(
					`message size is larger than configured readMaxBytes ${this.readMaxBytes}`,
					Code.ResourceExhausted,
				),
			);
			return;
		}
		this.chunks.push(chunk);
		// Ended without trailers: only a status in the headers could complete it.
		if (endStream) this.complete(this.header as Http2Fields, NO_FIELDS);
	}

	onFailure(error: Http2StreamError): void {
		if (this.settled) return;
		// The stream is over: nothing to cancel.
		this.stream = undefined;
		this.fail(streamError(error));
	}

	private complete(header: Http2Fields, trailer: Http2Fields): void {
		const source = trailer["grpc-status"] === undefined ? header : trailer;
		const status = source["grpc-status"];
		if (status === undefined) {
			this.fail(
				new ConnectError("protocol error: missing status", Code.Internal),
			);
			return;
		}
		let statusError: ConnectError | undefined;
		try {
			statusError =
				status === "0" && source["grpc-status-details-bin"] === undefined
					? undefined
					: findTrailerError(toHeaders(source));
		} catch (err: unknown) {
			// Undecodable grpc-status-details-bin: connect throws (DataLoss). This runs inside the connection's socket
			// callback, where a throw would be an uncaught exception in the user's process.
			statusError = ConnectError.from(err, Code.Internal);
		}
		if (statusError !== undefined) {
			this.fail(statusError);
			return;
		}
		const parsed = unenvelope(this.chunks, this.received, this.readMaxBytes);
		if (!(parsed instanceof Uint8Array)) {
			this.fail(parsed);
			return;
		}
		this.settle();
		this.resolve({ payload: parsed, header, trailer });
	}

	private fail(error: ConnectError): void {
		if (this.settled) return;
		this.settle();
		this.stream?.cancel();
		this.reject(error);
	}

	private settle(): void {
		this.settled = true;
		if (this.timer !== undefined) clearTimeout(this.timer);
		if (this.onAbort !== undefined)
			this.signal?.removeEventListener("abort", this.onAbort);
	}
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

/** The gRPC status of a stream that ended without an answer (PROTOCOL-HTTP2.md, "Errors"). */
function streamError(error: Http2StreamError): ConnectError {
	switch (error.kind) {
		case "reset":
			return resetError(error.http2Code, error.message);
		case "protocol":
			return new ConnectError(
				error.message,
				Code.Internal,
				undefined,
				undefined,
				error,
			);
		default:
			// Refused streams were not processed, and a lost connection means the daemon cannot be reached.
			return new ConnectError(
				error.message === "connection closed"
					? "connection closed before the answer"
					: error.message,
				Code.Unavailable,
				undefined,
				undefined,
				error,
			);
	}
}

/** gRPC's mapping of HTTP/2 RST_STREAM codes. */
function resetError(rstCode: number, message: string): ConnectError {
	switch (rstCode) {
		case Http2ErrorCode.REFUSED_STREAM:
		case Http2ErrorCode.NO_ERROR:
			// NO_ERROR before an answer: the server gave up on the stream without saying why.
			return new ConnectError(message, Code.Unavailable);
		case Http2ErrorCode.CANCEL:
			return new ConnectError(message, Code.Canceled);
		case Http2ErrorCode.ENHANCE_YOUR_CALM:
			return new ConnectError(message, Code.ResourceExhausted);
		case Http2ErrorCode.INADEQUATE_SECURITY:
			return new ConnectError(message, Code.PermissionDenied);
		default:
			return new ConnectError(message, Code.Internal);
	}
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

/** The response fields as Headers; fields that Headers rejects (names or values HPACK allows but fetch does not) are left out. */
function toHeaders(fields: Http2Fields): Headers {
	const headers = new Headers();
	for (const key of Object.keys(fields)) {
		if (key.startsWith(":")) continue;
		try {
			headers.set(key, fields[key] as string);
		} catch {
			// Not representable; the field cannot matter to gRPC, whose fields are all valid tokens.
		}
	}
	return headers;
}
