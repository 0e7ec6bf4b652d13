/**
 * A gRPC transport whose unary calls skip connect-node's generic stream pipeline (universal client, async-iterable
 * request and response bodies): the request is one `stream.end()` on a stream from connect-node's
 * `Http2SessionManager`, and the response is collected by plain event listeners. Everything else is connect's own:
 * `runUnaryCall` applies the interceptors, the deadline and the caller's signal exactly as connect's transports do;
 * `requestHeader`, `validateResponse` and `validateTrailer` (protocol-grpc) build and check the headers;
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
	type UnaryRequest,
	type UnaryResponse,
} from "@connectrpc/connect";
import {
	createAsyncIterable,
	createMethodSerializationLookup,
	createMethodUrl,
	encodeEnvelope,
	type MethodSerializationLookup,
	pipeTo,
	runUnaryCall,
	sinkAll,
	transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import {
	headerGrpcStatus,
	requestHeader,
	validateResponse,
	validateTrailer,
} from "@connectrpc/connect/protocol-grpc";
import type { Http2SessionManager } from "@connectrpc/connect-node";

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
			const call = (): Promise<UnaryResponse<I, O>> =>
				runUnaryCall<I, O>({
					interceptors: options.interceptors as Interceptor[],
					signal,
					timeoutMs: effectiveTimeoutMs,
					req: {
						stream: false,
						service: method.parent,
						method,
						requestMethod: "POST",
						url,
						header: requestHeader(true, effectiveTimeoutMs, header),
						contextValues: contextValues ?? createContextValues(),
						message,
					},
					next: (req) => {
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
						return exchange(sessionManager, target, req, body).then((answer) =>
							decode(
								answer,
								req,
								serialization.getO(true),
								limits.readMaxBytes,
							),
						);
					},
				});
			// connect's transports are async functions: an interceptor that throws rejects the call, never throws.
			try {
				return call();
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

interface Answer {
	readonly status: number;
	readonly header: Headers;
	readonly trailer: Headers;
	readonly body: Buffer;
}

/** One HTTP/2 request/response on the session manager, bounded by the request's signal. */
function exchange(
	sessionManager: Http2SessionManager,
	path: string,
	req: UnaryRequest,
	body: Uint8Array,
): Promise<Answer> {
	const { signal } = req;
	if (signal.aborted) return Promise.reject(abortError(signal));
	return sessionManager
		.request("POST", path, toNodeHeaders(req.header), {})
		.then(
			(stream) =>
				new Promise<Answer>((resolve, reject) => {
					let status = 0;
					let header = new Headers();
					const trailer = new Headers();
					const chunks: Buffer[] = [];
					let settled = false;
					const settle = (error: ConnectError | undefined): void => {
						if (settled) return;
						settled = true;
						signal.removeEventListener("abort", onAbort);
						if (error === undefined) {
							resolve({
								status,
								header,
								trailer,
								body:
									chunks.length === 1
										? (chunks[0] as Buffer)
										: Buffer.concat(chunks),
							});
						} else {
							if (!stream.closed) stream.close(0x8);
							reject(error);
						}
					};
					const onAbort = (): void => settle(abortError(signal));
					// The signal may have fired while the session manager was dialling.
					if (signal.aborted) {
						onAbort();
						return;
					}
					signal.addEventListener("abort", onAbort);
					stream.on("response", (fields) => {
						status = Number(fields[":status"] ?? 0);
						header = toWebHeaders(fields);
					});
					stream.on("data", (chunk: Buffer) => {
						chunks.push(chunk);
						sessionManager.notifyResponseByteRead(stream);
					});
					stream.on("trailers", (fields) => {
						toWebHeaders(fields).forEach((value, key) => {
							trailer.append(key, value);
						});
					});
					stream.on("error", (err: unknown) => settle(fromNodeError(err)));
					stream.on("close", () => {
						const reset = RESET_CODES[stream.rstCode ?? 0];
						settle(
							reset === undefined
								? undefined
								: new ConnectError(
										`http/2 stream closed with error code ${reset[0]} (0x${(stream.rstCode ?? 0).toString(16)})`,
										reset[1],
									),
						);
					});
					stream.end(body);
				}),
		);
}

/** Checks the answer and parses its one message, as connect's gRPC transport does for a unary call. */
async function decode<I extends DescMessage, O extends DescMessage>(
	answer: Answer,
	req: UnaryRequest<I, O>,
	serializer: { parse(data: Uint8Array): UnaryResponse<I, O>["message"] },
	readMaxBytes: number,
): Promise<UnaryResponse<I, O>> {
	const { headerError } = validateResponse(answer.status, answer.header);
	const envelopes = await pipeTo(
		createAsyncIterable([new Uint8Array(answer.body)]),
		transformSplitEnvelope(readMaxBytes),
		sinkAll(),
	);
	validateTrailer(answer.trailer, answer.header);
	const envelope = envelopes[0];
	if (envelope === undefined) {
		if (headerError) throw headerError;
		throw new ConnectError(
			"protocol error: missing output message for unary method",
			answer.trailer.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown,
		);
	}
	if (envelopes.length > 1) {
		throw new ConnectError(
			"protocol error: received extra output message for unary method",
			Code.Unimplemented,
		);
	}
	if (headerError) {
		throw new ConnectError(
			"protocol error: received output message for unary method with error status",
			Code.Unknown,
		);
	}
	if ((envelope.flags & 0b1) !== 0) {
		throw new ConnectError(
			"protocol error: received compressed output, but no compression was negotiated",
			Code.Internal,
		);
	}
	return {
		stream: false,
		service: req.service,
		method: req.method,
		header: answer.header,
		message: serializer.parse(envelope.data),
		trailer: answer.trailer,
	};
}

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

function abortError(signal: AbortSignal): ConnectError {
	return ConnectError.from(signal.reason, Code.Canceled);
}

function toNodeHeaders(headers: Headers): http2.OutgoingHttpHeaders {
	const out: http2.OutgoingHttpHeaders = Object.create(null);
	headers.forEach((value, key) => {
		out[key] = value;
	});
	return out;
}

function toWebHeaders(
	fields: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader,
): Headers {
	const headers = new Headers();
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
