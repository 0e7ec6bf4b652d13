/**
 * A gRPC transport whose unary calls skip connect-node's generic stream pipeline (universal client, async-iterable
 * request and response bodies): the request is one `stream.end()` on a stream from connect-node's
 * `Http2SessionManager`, and the response is collected by plain event listeners. Everything else is connect's own:
 * the interceptors, the deadline and the caller's signal apply as connect's `runUnaryCall` applies them
 * (lean-unary-call.ts, which builds the request's `AbortSignal` only for whoever reads it);
 * `requestHeader`, `validateResponse` and `validateTrailer` (protocol-grpc) build and check the headers
 * (the checks in grpc-unary-answer.ts);
 * `encodeEnvelope`, `transformSplitEnvelope` and the method serializers (protocol) frame and (de)serialize with
 * @bufbuild/protobuf. Streaming calls go to `streamTransport` (connect-node's gRPC transport on the same session
 * manager, so one connection).
 *
 * Why: evaluations are single small messages, and the generic pipeline is most of the client's CPU per call
 * (bench/provider-transport.bench.ts measures both).
 */
import type * as http2 from "node:http2";
import type {
	DescMessage,
	DescMethodUnary,
	MessageInitShape,
} from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type ContextValues,
	createContextValues,
	type Interceptor,
	type Transport,
	type UnaryResponse,
} from "@connectrpc/connect";
import {
	createMethodSerializationLookup,
	createMethodUrl,
	encodeEnvelope,
	type MethodSerializationLookup,
	transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import { requestHeader } from "@connectrpc/connect/protocol-grpc";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import {
	decodeGrpcUnaryAnswer,
	type GrpcUnaryAnswer,
} from "./grpc-unary-answer.js";
import {
	runLeanUnaryCall,
	type UnaryCallCancellation,
} from "./lean-unary-call.js";

/** Options of {@link createGrpcUnaryTransport}. */
export interface GrpcUnaryTransportOptions {
	readonly baseUrl: string;
	/** The session manager unary calls go through (the stream transport's, so both share one connection). */
	readonly sessionManager: Http2SessionManager;
	readonly interceptors: readonly Interceptor[];
	/** Carries streaming calls. */
	readonly streamTransport: Transport;
	/** Largest response message accepted, in bytes. @default 0xffffffff (connect's default) */
	readonly readMaxBytes?: number;
}

/** gRPC's mapping of HTTP/2 RST_STREAM codes (connect-node's, with its message), for a stream without an answer. */
const RESET_CODES: Readonly<Record<number, [string, Code]>> = {
	1: ["PROTOCOL_ERROR", Code.Internal],
	2: ["INTERNAL_ERROR", Code.Internal],
	3: ["FLOW_CONTROL_ERROR", Code.Internal],
	4: ["SETTINGS_TIMEOUT", Code.Internal],
	5: ["STREAM_CLOSED", Code.Internal],
	6: ["FRAME_SIZE_ERROR", Code.Internal],
	7: ["REFUSED_STREAM", Code.Unavailable],
	8: ["CANCEL", Code.Canceled],
	9: ["COMPRESSION_ERROR", Code.Internal],
	10: ["CONNECT_ERROR", Code.Internal],
	11: ["ENHANCE_YOUR_CALM", Code.ResourceExhausted],
	12: ["INADEQUATE_SECURITY", Code.PermissionDenied],
	13: ["HTTP_1_1_REQUIRED", Code.Internal],
};

/** See the file comment. */
export function createGrpcUnaryTransport(
	options: GrpcUnaryTransportOptions,
): Transport {
	const { sessionManager, streamTransport } = options;
	// URL, path and serializers per method, made on its first call.
	const perMethod = new Map<DescMethodUnary, PreparedMethod>();
	const limits = {
		readMaxBytes: options.readMaxBytes ?? 0xffffffff,
		writeMaxBytes: 0xffffffff,
	};
	// Stateless until called: each call gets its own envelope decoder.
	const splitEnvelopes = transformSplitEnvelope(limits.readMaxBytes);
	return {
		unary<I extends DescMessage, O extends DescMessage>(
			method: DescMethodUnary<I, O>,
			signal: AbortSignal | undefined,
			timeoutMs: number | undefined,
			header: HeadersInit | undefined,
			message: MessageInitShape<I>,
			contextValues?: ContextValues,
		): Promise<UnaryResponse<I, O>> {
			let prepared = perMethod.get(method) as PreparedMethod<I, O> | undefined;
			if (prepared === undefined) {
				const url = createMethodUrl(options.baseUrl, method);
				prepared = {
					url,
					path: new URL(url).pathname,
					serialization: createMethodSerializationLookup(
						method,
						undefined,
						undefined,
						limits,
					),
				};
				perMethod.set(method, prepared as unknown as PreparedMethod);
			}
			const { url, path, serialization } = prepared;
			const effectiveTimeoutMs =
				timeoutMs !== undefined && timeoutMs <= 0 ? undefined : timeoutMs;
			// connect's transports are async functions: a call that fails to start rejects, never throws.
			try {
				return runLeanUnaryCall<I, O>({
					interceptors: options.interceptors,
					signal,
					timeoutMs: effectiveTimeoutMs,
					req: {
						service: method.parent,
						method,
						requestMethod: "POST",
						url,
						header: requestHeader(true, effectiveTimeoutMs, header),
						contextValues: contextValues ?? createContextValues(),
						message,
					},
					next: (req, cancellation) => {
						let body: Uint8Array;
						try {
							body = encodeEnvelope(
								0,
								serialization.getI(true).serialize(req.message),
							);
						} catch (err: unknown) {
							return Promise.reject(ConnectError.from(err, Code.Internal));
						}
						// An interceptor may have pointed the call elsewhere.
						const target = req.url === url ? path : new URL(req.url).pathname;
						return exchange(
							sessionManager,
							target,
							req.header,
							body,
							cancellation,
						).then((answer) =>
							decodeGrpcUnaryAnswer(
								answer,
								req,
								serialization.getO(true),
								splitEnvelopes,
							),
						);
					},
				});
			} catch (err: unknown) {
				return Promise.reject(ConnectError.from(err));
			}
		},
		stream: (method, signal, timeoutMs, header, input, contextValues) =>
			streamTransport.stream(
				method,
				signal,
				timeoutMs,
				header,
				input,
				contextValues,
			),
	};
}

interface PreparedMethod<
	I extends DescMessage = DescMessage,
	O extends DescMessage = DescMessage,
> {
	readonly url: string;
	readonly path: string;
	readonly serialization: MethodSerializationLookup<I, O>;
}

/**
 * One HTTP/2 request/response on the session manager, bounded by the call's cancellation (its deadline and the
 * caller's signal), also while the session manager is still dialling.
 */
function exchange(
	sessionManager: Http2SessionManager,
	path: string,
	header: Headers,
	body: Uint8Array,
	cancellation: UnaryCallCancellation,
): Promise<GrpcUnaryAnswer> {
	if (cancellation.aborted)
		return Promise.reject(abortError(cancellation.reason));
	return new Promise<GrpcUnaryAnswer>((resolve, reject) => {
		let stream: http2.ClientHttp2Stream | undefined;
		let status = 0;
		let responseHeader: Headers | undefined;
		let trailer: Headers | undefined;
		let first: Buffer | undefined;
		let more: Buffer[] | undefined;
		let settled = false;
		const settle = (error: ConnectError | undefined): void => {
			if (settled) return;
			settled = true;
			cancellation.onAbort = undefined;
			if (error !== undefined) {
				if (stream !== undefined && !stream.closed) stream.close(0x8);
				reject(error);
				return;
			}
			resolve({
				status,
				header: responseHeader ?? new Headers(),
				trailer: trailer ?? new Headers(),
				body:
					more === undefined
						? (first ?? EMPTY)
						: Buffer.concat([first as Buffer, ...more]),
			});
		};
		cancellation.onAbort = (reason) => settle(abortError(reason));
		sessionManager.request("POST", path, toNodeHeaders(header), {}).then(
			(s) => {
				stream = s;
				// The call may have been aborted while the session manager was dialling.
				if (settled) {
					if (!s.closed) s.close(0x8);
					return;
				}
				s.on("response", (fields) => {
					status = Number(fields[":status"] ?? 0);
					responseHeader = toWebHeaders(fields);
				});
				s.on("data", (chunk: Buffer) => {
					if (first === undefined) first = chunk;
					else if (more === undefined) more = [chunk];
					else more.push(chunk);
					sessionManager.notifyResponseByteRead(s);
				});
				s.on("trailers", (fields) => {
					trailer = toWebHeaders(fields, trailer);
				});
				// An answer is complete when the server ends a stream it answered (trailers come before the end);
				// 'close' follows later (about 10 µs on loopback). A stream that ends unanswered (a TLS listener
				// resetting an h2c client) is left to 'close', which reports its reset code.
				s.on("end", () => {
					if (responseHeader !== undefined) settle(undefined);
				});
				s.on("error", (err: unknown) => settle(fromNodeError(err)));
				s.on("close", () => {
					const reset = RESET_CODES[s.rstCode ?? 0];
					settle(
						reset === undefined
							? undefined
							: new ConnectError(
									`http/2 stream closed with error code ${reset[0]} (0x${(s.rstCode ?? 0).toString(16)})`,
									reset[1],
								),
					);
				});
				s.end(body);
			},
			(err: unknown) => settle(ConnectError.from(err)),
		);
	});
}

const EMPTY = Buffer.alloc(0);

/** Node error codes → gRPC codes, as connect-node maps them (its helper is not exported). */
const NODE_ERROR_CODES: Readonly<Record<string, Code>> = {
	ERR_STREAM_WRITE_AFTER_END: Code.Aborted,
	ERR_STREAM_DESTROYED: Code.Aborted,
	ERR_HTTP2_INVALID_STREAM: Code.Aborted,
	ECONNRESET: Code.Aborted,
	ETIMEDOUT: Code.Unavailable,
	ENOTFOUND: Code.Unavailable,
	EAI_AGAIN: Code.Unavailable,
	ECONNREFUSED: Code.Unavailable,
};

function fromNodeError(err: unknown): ConnectError {
	let code = Code.Internal;
	for (
		let e: unknown = err, depth = 0;
		e instanceof Error && depth < 8;
		depth++
	) {
		const mapped = NODE_ERROR_CODES[String((e as { code?: unknown }).code)];
		if (mapped !== undefined) {
			code = mapped;
			break;
		}
		e = e.cause;
	}
	return ConnectError.from(err, code);
}

function abortError(reason: unknown): ConnectError {
	return ConnectError.from(reason, Code.Canceled);
}

function toNodeHeaders(headers: Headers): http2.OutgoingHttpHeaders {
	const out: http2.OutgoingHttpHeaders = Object.create(null);
	headers.forEach((value, key) => {
		out[key] = value;
	});
	return out;
}

/** The fields as fetch `Headers`, appended to `headers` when given. */
function toWebHeaders(
	fields: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader,
	headers: Headers = new Headers(),
): Headers {
	for (const key of Object.keys(fields)) {
		if (key.startsWith(":")) continue;
		const value = fields[key];
		try {
			if (Array.isArray(value)) for (const v of value) headers.append(key, v);
			else if (value !== undefined) headers.append(key, String(value));
		} catch {
			// A field fetch's Headers rejects (allowed by HTTP/2, invalid for fetch) cannot be a gRPC field: skip it.
		}
	}
	return headers;
}
