/**
 * The HandlerContext of a call served by the direct unary gRPC path. Connect's `createHandlerContext` builds two
 * AbortControllers, three Headers objects and a context-value map for every call, and aborts the controller (a
 * DOMException with a stack trace) when the call ends. An evaluation reads one or two request headers and nothing
 * else, so here every part is built on first use: a call that never touches the signal, the response headers or
 * the context values pays nothing for them.
 *
 * Semantics match connect's where they are observable to a synchronous implementation: `signal` aborts when the
 * client goes away before the answer is written, `timeoutMs()` counts down from the request's `grpc-timeout`.
 */

import type { IncomingHttpHeaders } from "node:http";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type ContextValues,
	createContextValues,
	type HandlerContext,
} from "@connectrpc/connect";
import {
	type Compression,
	compressionNegotiate,
} from "@connectrpc/connect/protocol";
import type { DirectRequest } from "./direct-request.js";

/** Something that emits 'close' when the exchange ends (the Node response). */
interface Closable {
	once(event: "close", listener: () => void): unknown;
}

/** The protocol-specific parts of a {@link DirectHandlerContext}. */
export interface DirectProtocol {
	/** "grpc" or "connect", as connect names them. */
	readonly name: string;
	/** The response content type connect starts with. */
	readonly contentType: string;
	/** The header naming the response compression. */
	readonly encodingHeader: string;
	/** The trailers connect starts with (gRPC: `grpc-status: 0`; Connect unary: none). */
	readonly trailer: Readonly<Record<string, string>>;
	/** The request header listing the compressions the client accepts. */
	readonly acceptEncodingHeader: string;
}

/**
 * The context of one direct call, and the response compression negotiated for it. `timeoutMs` is the call's
 * timeout header as the caller already parsed it when it checked the request.
 */
export function startDirectCall(
	protocol: DirectProtocol,
	method: DescMethod,
	req: DirectRequest,
	res: Closable,
	acceptCompression: readonly Compression[],
	timeoutMs: number | undefined,
): { context: DirectHandlerContext; compression: Compression | null } {
	const context = new DirectHandlerContext(
		protocol,
		method,
		requestUrl(req),
		req.headers,
		res,
		timeoutMs,
	);
	return {
		context,
		compression: negotiateCompression(protocol, req, acceptCompression),
	};
}

/** The response compression connect would pick for the request (null: none). */
export function negotiateCompression(
	protocol: DirectProtocol,
	req: DirectRequest,
	acceptCompression: readonly Compression[],
): Compression | null {
	return compressionNegotiate(
		// compressionNegotiate only reads the list; no copy per call.
		acceptCompression as Compression[],
		stringHeader(req, protocol.encodingHeader),
		stringHeader(req, protocol.acceptEncodingHeader),
		protocol.acceptEncodingHeader,
	).response;
}

/** The URL connect-node gives a call: scheme from the socket, the request's authority, then path and query. */
function requestUrl(req: DirectRequest): string {
	const socket = req.socket as { readonly encrypted?: unknown } | null;
	const encrypted = socket?.encrypted === true;
	// node:http2's `authority`: `:authority`, else `host` (the header an HTTP/1.1 request has).
	const authority = req.headers[":authority"] ?? req.headers.host;
	return `${encrypted ? "https" : "http"}://${authority}${req.url ?? ""}`;
}

function stringHeader(req: DirectRequest, name: string): string | null {
	const value = req.headers[name];
	return value === undefined ? null : String(value);
}

/** See the file comment. */
export class DirectHandlerContext implements HandlerContext {
	readonly protocolName: string;
	readonly requestMethod = "POST";
	readonly service: DescService;
	private readonly deadline: number | undefined;
	private answered = false;
	private header: Headers | undefined;
	private responseHeaders: Headers | undefined;
	private responseTrailers: Headers | undefined;
	private controller: AbortController | undefined;
	private contextValues: ContextValues | undefined;
	/** The negotiated response compression, if any. */
	responseEncoding: string | undefined;

	constructor(
		private readonly protocol: DirectProtocol,
		readonly method: DescMethod,
		readonly url: string,
		private readonly rawHeaders: IncomingHttpHeaders,
		private readonly response: Closable,
		timeoutMs: number | undefined,
	) {
		this.protocolName = protocol.name;
		this.service = method.parent;
		this.deadline =
			timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
	}

	readonly timeoutMs = (): number | undefined =>
		this.deadline === undefined ? undefined : this.deadline - Date.now();

	get signal(): AbortSignal {
		if (this.controller === undefined) {
			const controller = new AbortController();
			this.controller = controller;
			this.response.once("close", () => {
				if (!this.answered)
					controller.abort(
						new ConnectError("client closed the call", Code.Canceled),
					);
			});
		}
		return this.controller.signal;
	}

	get requestHeader(): Headers {
		if (this.header === undefined) {
			const headers = new Headers();
			for (const key of Object.keys(this.rawHeaders)) {
				if (key.charCodeAt(0) === 58 /* ":" pseudo-header */) continue;
				const value = this.rawHeaders[key];
				if (Array.isArray(value)) for (const v of value) headers.append(key, v);
				else if (value !== undefined) headers.set(key, value);
			}
			this.header = headers;
		}
		return this.header;
	}

	get responseHeader(): Headers {
		this.responseHeaders ??= new Headers({
			"content-type": this.protocol.contentType,
		});
		return this.responseHeaders;
	}

	get responseTrailer(): Headers {
		this.responseTrailers ??= new Headers(this.protocol.trailer);
		return this.responseTrailers;
	}

	get values(): ContextValues {
		this.contextValues ??= createContextValues();
		return this.contextValues;
	}

	/** Marks the answer as written: a later 'close' is the normal end, not a cancellation. */
	markAnswered(): void {
		this.answered = true;
	}

	/** Whether the implementation (or an error) touched the response headers or trailers. */
	get headersTouched(): boolean {
		return (
			this.responseHeaders !== undefined || this.responseTrailers !== undefined
		);
	}

	/**
	 * The response headers to write: the defaults unless the implementation touched them, plus the negotiated
	 * encoding and `extra` (e.g. content-length).
	 */
	nodeResponseHeader(extra?: Record<string, string>): Record<string, string> {
		const encoding = this.responseEncoding;
		if (this.responseHeaders === undefined) {
			const out: Record<string, string> = {
				"content-type": this.protocol.contentType,
			};
			if (encoding !== undefined) out[this.protocol.encodingHeader] = encoding;
			return extra === undefined ? out : Object.assign(out, extra);
		}
		if (encoding !== undefined)
			this.responseHeaders.set(this.protocol.encodingHeader, encoding);
		if (extra !== undefined)
			for (const [key, value] of Object.entries(extra))
				this.responseHeaders.set(key, value);
		return toNodeHeaders(this.responseHeaders);
	}

	/** The trailers to write: the protocol's defaults unless an error or the implementation set others. */
	nodeResponseTrailer(): Record<string, string> {
		return this.responseTrailers === undefined
			? { ...this.protocol.trailer }
			: toNodeHeaders(this.responseTrailers);
	}
}

export function toNodeHeaders(headers: Headers): Record<string, string> {
	const out: Record<string, string> = {};
	headers.forEach((value, key) => {
		out[key] = value;
	});
	return out;
}

/** What connect's handlers make of anything an implementation throws: ConnectErrors as they are, else INTERNAL. */
export function asConnectError(err: unknown): ConnectError {
	return err instanceof ConnectError
		? err
		: new ConnectError(
				"internal error",
				Code.Internal,
				undefined,
				undefined,
				err,
			);
}
