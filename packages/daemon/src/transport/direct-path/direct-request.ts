/** The request and response as the direct unary paths see them, whichever object carries them. */
import type { IncomingHttpHeaders } from "node:http";

/**
 * What the direct unary paths read of a request: node's request of either HTTP version, or an HTTP/2 request
 * served from its stream (stream-request.ts).
 */
export interface DirectRequest {
	readonly headers: IncomingHttpHeaders;
	readonly method?: string | undefined;
	readonly url?: string | undefined;
	readonly httpVersionMajor: number;
	/** The connection; only `encrypted` is read. */
	readonly socket: object | null;
	on(event: "data", listener: (chunk: Buffer) => void): unknown;
	on(event: "end", listener: () => void): unknown;
	on(event: "error", listener: (err: Error) => void): unknown;
	off(event: "data", listener: (chunk: Buffer) => void): unknown;
	off(event: "end", listener: () => void): unknown;
	off(event: "error", listener: (err: Error) => void): unknown;
	pause(): unknown;
}

/** What the direct unary paths write: node's response of either HTTP version, or stream-request.ts's. */
export interface DirectResponse {
	readonly destroyed: boolean;
	writeHead(
		statusCode: number,
		headers: Readonly<Record<string, string>>,
	): unknown;
	addTrailers(trailers: Readonly<Record<string, string>>): void;
	end(body?: Uint8Array | string): unknown;
	once(event: "close", listener: () => void): unknown;
}
