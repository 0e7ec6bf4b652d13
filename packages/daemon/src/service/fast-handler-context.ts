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

/** Something that emits 'close' when the exchange ends (the Node response). */
interface Closable {
	once(event: "close", listener: () => void): unknown;
}

/** See the file comment. */
export class FastHandlerContext implements HandlerContext {
	readonly protocolName = "grpc";
	readonly requestMethod = "POST";
	readonly service: DescService;
	private readonly deadline: number | undefined;
	private answered = false;
	private header: Headers | undefined;
	private responseHeaders: Headers | undefined;
	private responseTrailers: Headers | undefined;
	private controller: AbortController | undefined;
	private contextValues: ContextValues | undefined;
	/** The negotiated response compression (`grpc-encoding`), if any. */
	responseEncoding: string | undefined;

	constructor(
		readonly method: DescMethod,
		readonly url: string,
		private readonly rawHeaders: IncomingHttpHeaders,
		private readonly response: Closable,
		timeoutMs: number | undefined,
	) {
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
			"content-type": "application/grpc+proto",
		});
		return this.responseHeaders;
	}

	get responseTrailer(): Headers {
		this.responseTrailers ??= new Headers({ "grpc-status": "0" });
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

	/** The response headers to write: the defaults unless the implementation touched them. */
	nodeResponseHeader(): Record<string, string> {
		const encoding = this.responseEncoding;
		if (this.responseHeaders === undefined) {
			return encoding === undefined
				? { "content-type": "application/grpc+proto" }
				: {
						"content-type": "application/grpc+proto",
						"grpc-encoding": encoding,
					};
		}
		if (encoding !== undefined)
			this.responseHeaders.set("grpc-encoding", encoding);
		return toNodeHeaders(this.responseHeaders);
	}

	/** The trailers to write: `grpc-status: 0` unless an error or the implementation set others. */
	nodeResponseTrailer(): Record<string, string> {
		return this.responseTrailers === undefined
			? { "grpc-status": "0" }
			: toNodeHeaders(this.responseTrailers);
	}
}

function toNodeHeaders(headers: Headers): Record<string, string> {
	const out: Record<string, string> = {};
	headers.forEach((value, key) => {
		out[key] = value;
	});
	return out;
}
