/**
 * A direct path for the most common request the daemon serves: a unary gRPC call over HTTP/2 with one
 * uncompressed protobuf message (every provider evaluation). It reads the body, calls the service
 * implementation and writes headers, the message and the status trailers itself, skipping connect's generic
 * async-iterable pipeline and its per-call AbortSignal set-up and abort (a DOMException with a stack trace per
 * request). On the bench that pipeline was half of the daemon's CPU per evaluation.
 *
 * It answers exactly as connect's gRPC handler does (same response headers, trailers, status encoding, response
 * compression negotiation, readMaxBytes error) and it only takes requests it fully understands: anything else —
 * another content type, a compressed or malformed body, more than one message, an invalid `grpc-timeout`, a
 * message that does not parse — goes to the connect handler with the body bytes already read, so connect decides
 * and words the error. Only methods their service declared synchronous are routed here (connect-handler.ts): the
 * call's deadline cannot expire while one runs, so the context (direct-handler-context.ts) carries no deadline timer.
 * Messages are parsed and serialized with connect's serialization for the method (protobuf-es), envelopes written
 * with connect's encodeEnvelope.
 */

import { create, type DescMessage, isMessage } from "@bufbuild/protobuf";
import { type Compression, encodeEnvelope } from "@connectrpc/connect/protocol";
import {
	parseTimeout,
	setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import type {
	DirectAnswer,
	DirectAnswerLookup,
} from "./direct-answer-cache.js";
import {
	asConnectError,
	type DirectHandlerContext,
	type DirectProtocol,
	negotiateCompression,
	startDirectCall,
} from "./direct-handler-context.js";
import type { DirectRequest, DirectResponse } from "./direct-request.js";
import type { DirectPathOptions, SerializedRoute } from "./direct-route.js";
import { readBody } from "./read-body.js";

const ENVELOPE_HEADER_BYTES = 5;
const GRPC: DirectProtocol = {
	name: "grpc",
	contentType: "application/grpc+proto",
	encodingHeader: "grpc-encoding",
	trailer: Object.freeze({ "grpc-status": "0" }),
	acceptEncodingHeader: "grpc-accept-encoding",
};
const GRPC_CONTENT_TYPE = /^application\/grpc(?:\+proto)?$/i;
/** The headers of every successful uncompressed answer (kept answers carry them: see DirectAnswer.headers). */
const PLAIN_HEADERS: Readonly<Record<string, string>> = Object.freeze({
	"content-type": GRPC.contentType,
});
/** A call without `grpc-timeout`. */
const NO_TIMEOUT = Object.freeze({ timeoutMs: undefined });

/**
 * Returns a function that serves the request and returns true, or returns false without touching it when the
 * request is not a plain unary gRPC call to a known method.
 */
export function createGrpcUnaryDirectPath(
	options: DirectPathOptions,
): (req: DirectRequest, res: DirectResponse, path: string) => boolean {
	return (req, res, path) => {
		const route = options.routes.get(path);
		if (route === undefined) return false;
		const plain = plainGrpcUnary(req);
		if (plain === undefined) return false;
		// One message within the limit, or connect answers (its words for the limit, extra or compressed messages).
		readBody(
			req,
			res,
			options,
			ENVELOPE_HEADER_BYTES + options.readMaxBytes,
			isSingleUncompressedMessage,
			(body) => answer(route, path, req, res, body, plain.timeoutMs, options),
		);
		return true;
	};
}

/** The call's parsed `grpc-timeout`, or undefined when the request is not a plain unary gRPC call. */
function plainGrpcUnary(
	req: DirectRequest,
): { timeoutMs: number | undefined } | undefined {
	if (req.httpVersionMajor !== 2 || req.method !== "POST") return undefined;
	const h = req.headers;
	const contentType = h["content-type"];
	if (contentType === undefined || !GRPC_CONTENT_TYPE.test(contentType))
		return undefined;
	const encoding = h["grpc-encoding"];
	if (encoding !== undefined && encoding !== "identity") return undefined;
	const timeout = h["grpc-timeout"];
	if (timeout === undefined) return NO_TIMEOUT;
	const parsed = parseTimeout(String(timeout), Number.MAX_SAFE_INTEGER);
	return parsed.error === undefined
		? { timeoutMs: parsed.timeoutMs }
		: undefined;
}

/**
 * Whether the body is exactly one envelope with no flags set. connect's public protocol helpers decode envelopes
 * only from a WHATWG stream (its synchronous decoder is internal), so this reads the 5-byte prefix to decide;
 * connect parses every body that fails the check.
 */
function isSingleUncompressedMessage(body: Buffer): boolean {
	return (
		body.length >= ENVELOPE_HEADER_BYTES &&
		body[0] === 0 &&
		body.readUInt32BE(1) === body.length - ENVELOPE_HEADER_BYTES
	);
}

function answer(
	route: SerializedRoute,
	path: string,
	req: DirectRequest,
	res: DirectResponse,
	body: Buffer,
	timeoutMs: number | undefined,
	options: DirectPathOptions,
): void {
	const lookup = options.answers?.open(req, `grpc${path}`, body);
	if (lookup?.hit !== undefined) {
		replay(req, res, lookup.hit, path, options);
		return;
	}
	const { method, serialization } = route;
	let input: unknown;
	try {
		input = serialization
			.getI(true)
			.parse(body.subarray(ENVELOPE_HEADER_BYTES));
	} catch {
		// connect reports the parse failure in its own words.
		options.fallback(req, res, [body], false);
		return;
	}
	const { context, compression } = startDirectCall(
		GRPC,
		method,
		req,
		res,
		options.acceptCompression,
		timeoutMs,
	);
	if (compression !== null) context.responseEncoding = compression.name;
	let output: unknown;
	try {
		output =
			lookup === undefined
				? route.impl(input as never, context)
				: lookup.run(() => route.impl(input as never, context));
	} catch (err: unknown) {
		fail(res, context, err, path, options);
		return;
	}
	if (output instanceof Promise) {
		output.then(
			(value: unknown) =>
				send(res, context, route, value, compression, path, options),
			(err: unknown) => fail(res, context, err, path, options),
		);
	} else send(res, context, route, output, compression, path, options, lookup);
}

/** Writes a kept answer as {@link write} writes a computed one with connect's default headers and trailers. */
function replay(
	req: DirectRequest,
	res: DirectResponse,
	{ bytes: envelope, headers: plainHeaders }: DirectAnswer,
	path: string,
	options: DirectPathOptions,
): void {
	const compression = negotiateCompression(
		GRPC,
		req,
		options.acceptCompression,
	);
	const length = envelope.length - ENVELOPE_HEADER_BYTES;
	if (compression === null || length < options.compressMinBytes) {
		end(res, plainHeaders, envelope, path, options);
		return;
	}
	const headers = {
		...plainHeaders,
		[GRPC.encodingHeader]: compression.name,
	};
	compression.compress(envelope.subarray(ENVELOPE_HEADER_BYTES)).then(
		(compressed) =>
			end(res, headers, encodeEnvelope(1, compressed), path, options),
		(err: unknown) => {
			// As a computed answer's compression failure: grpc-status INTERNAL in the trailers.
			const trailer = new Headers();
			setTrailerStatus(trailer, asConnectError(err));
			if (res.destroyed) return;
			try {
				res.writeHead(200, headers);
				res.addTrailers(Object.fromEntries(trailer));
				res.end();
			} catch (e: unknown) {
				options.onError(e, path);
			}
		},
	);
}

/** Writes a replayed answer: `headers`, the message and `grpc-status: 0`. */
function end(
	res: DirectResponse,
	headers: Readonly<Record<string, string>>,
	body: Uint8Array,
	path: string,
	options: DirectPathOptions,
): void {
	if (res.destroyed) return;
	try {
		res.writeHead(200, headers);
		// node:http2 copies the trailers (Http2ServerResponse#setTrailer), so the frozen constant is safe to pass.
		res.addTrailers(GRPC.trailer);
		res.end(body);
	} catch (err: unknown) {
		options.onError(err, path);
	}
}

function send(
	res: DirectResponse,
	context: DirectHandlerContext,
	{ method, serialization }: SerializedRoute,
	output: unknown,
	compression: Compression | null,
	path: string,
	options: DirectPathOptions,
	lookup?: DirectAnswerLookup,
): void {
	let bytes: Uint8Array;
	try {
		const message = isMessage(output, method.output)
			? output
			: create(method.output as DescMessage, output as never);
		// connect's binary serialization: a failure reads `serialize binary: …`, as connect's handler words it.
		bytes = serialization.getO(true).serialize(message);
	} catch (err: unknown) {
		fail(res, context, err, path, options);
		return;
	}
	// Only a successful answer with the default headers and trailers is kept.
	const keep = lookup !== undefined && !context.headersTouched;
	if (compression !== null && bytes.length >= options.compressMinBytes) {
		if (keep)
			lookup.keep({
				bytes: encodeEnvelope(0, bytes),
				text: undefined,
				headers: PLAIN_HEADERS,
			});
		compression.compress(bytes).then(
			(compressed) =>
				write(res, context, encodeEnvelope(1, compressed), path, options),
			(err: unknown) => fail(res, context, err, path, options),
		);
	} else {
		const envelope = encodeEnvelope(0, bytes);
		if (keep)
			lookup.keep({ bytes: envelope, text: undefined, headers: PLAIN_HEADERS });
		write(res, context, envelope, path, options);
	}
}

function fail(
	res: DirectResponse,
	context: DirectHandlerContext,
	err: unknown,
	path: string,
	options: DirectPathOptions,
): void {
	setTrailerStatus(context.responseTrailer, asConnectError(err));
	write(res, context, undefined, path, options);
}

function write(
	res: DirectResponse,
	context: DirectHandlerContext,
	body: Uint8Array | undefined,
	path: string,
	options: DirectPathOptions,
): void {
	context.markAnswered();
	if (res.destroyed) return;
	try {
		res.writeHead(200, context.nodeResponseHeader());
		res.addTrailers(context.nodeResponseTrailer());
		if (body === undefined) res.end();
		else res.end(body);
	} catch (err: unknown) {
		options.onError(err, path);
	}
}
