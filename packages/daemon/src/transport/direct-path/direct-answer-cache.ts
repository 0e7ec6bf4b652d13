/**
 * What the direct unary paths ask of an answer cache (the evaluation port's is api/evaluation/unary-answer-cache.ts):
 * for a request, either the encoded answer kept for exactly that request (the cache has already counted what a
 * replay must count, e.g. the evaluation metrics), or a lookup that runs the implementation while recording what a
 * replay would repeat and then keeps the encoded answer. The paths keep only successful answers with connect's
 * default headers and trailers: errors, and answers whose implementation set headers or trailers, are computed
 * every time. Compression stays per request: a kept answer is the uncompressed message.
 */
import type { DirectRequest } from "./direct-request.js";

/** An answer as kept. */
export interface DirectAnswer {
	/** gRPC: the enveloped message; Connect: the message. */
	readonly bytes: Uint8Array;
	/**
	 * The same bytes as a string, when they are UTF-8 text (Connect JSON): node:http writes a string body in one
	 * write with the head, a binary one in a second.
	 */
	readonly text: string | undefined;
	/**
	 * The response headers of an uncompressed replay, made once when the answer is kept (node:http and node:http2's
	 * writeHead copy them, never change them): a replay then allocates no headers of its own.
	 */
	readonly headers: Readonly<Record<string, string>>;
}

/** One request's dealings with the cache. */
export interface DirectAnswerLookup {
	/** The kept answer, or undefined: compute it. */
	readonly hit: DirectAnswer | undefined;
	/** Runs the implementation, recording what a replay of its answer must repeat. */
	run<T>(impl: () => T): T;
	/** Keeps the encoded answer (called only after `run`, for a successful answer with default headers). */
	keep(answer: DirectAnswer): void;
}

/** See the file comment. */
export interface DirectAnswerCache {
	/**
	 * The request's lookup, or undefined when its answer is not cached. `scope` tells protocols, encodings and
	 * methods apart; the cache adds the request headers the answer depends on, and `body` as it was received.
	 */
	open(
		req: DirectRequest,
		scope: string,
		body: Buffer,
	): DirectAnswerLookup | undefined;
}
