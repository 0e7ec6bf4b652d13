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
 * and words the error. Only synchronous implementations are routed here (connect-handler.ts): the call's
 * deadline cannot expire while one runs, so the context (fast-handler-context.ts) carries no deadline timer.
 */

import {
	create,
	type DescMessage,
	type DescMethodUnary,
	fromBinary,
	isMessage,
	toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import {
	parseTimeout,
	setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { fastMessageCodec } from "@flagd-ts/protocol/fast-message-codec";
import type { NodeRequest, NodeResponse } from "../http-listener.js";
import {
	asConnectError,
	type FastHandlerContext,
	type FastProtocol,
	startFastCall,
} from "./direct-handler-context.js";

/** A unary method and its implementation, as registered on the router. */
export interface UnaryRoute {
	readonly method: DescMethodUnary;
	readonly impl: (request: never, context: HandlerContext) => unknown;
}

/** What a direct path (gRPC, or Connect with more options) needs from the handler it sits in front of. */
export interface UnaryFastPathOptions {
	readonly routes: ReadonlyMap<string, UnaryRoute>;
	readonly readMaxBytes: number;
	readonly acceptCompression: readonly Compression[];
	/** connect's compressMinBytes (its default is 1,024): smaller responses are never compressed. */
	readonly compressMinBytes: number;
	/** Hands a request to the connect handler; `body` holds what was read, `rest` whether more is to come. */
	readonly fallback: (
		req: NodeRequest,
		res: NodeResponse,
		body: readonly Buffer[],
		rest: boolean,
	) => void;
	/** Reports a failure writing the answer (the connect path logs the same way). */
	readonly onError: (err: unknown, path: string) => void;
}

const ENVELOPE_HEADER_BYTES = 5;
const GRPC: FastProtocol = {
	name: "grpc",
	contentType: "application/grpc+proto",
	encodingHeader: "grpc-encoding",
	trailer: { "grpc-status": "0" },
	acceptEncodingHeader: "grpc-accept-encoding",
};
const GRPC_CONTENT_TYPE = /^application\/grpc(?:\+proto)?$/i;

/**
 * Returns a function that serves the request and returns true, or returns false without touching it when the
 * request is not a plain unary gRPC call to a known method.
 */
export function createGrpcUnaryFastPath(
	options: UnaryFastPathOptions,
): (req: NodeRequest, res: NodeResponse, path: string) => boolean {
	return (req, res, path) => {
		const route = options.routes.get(path);
		if (route === undefined) return false;
		const plain = plainGrpcUnary(req);
		if (plain === undefined) return false;
		readSingleMessage(req, res, options, (payload) =>
			answer(route, path, req, res, payload, plain.timeoutMs, options),
		);
		return true;
	};
}

/** The call's parsed `grpc-timeout`, or undefined when the request is not a plain unary gRPC call. */
function plainGrpcUnary(
	req: NodeRequest,
): { timeoutMs: number | undefined } | undefined {
	if (req.httpVersionMajor !== 2 || req.method !== "POST") return undefined;
	const h = req.headers;
	const contentType = h["content-type"];
	if (contentType === undefined || !GRPC_CONTENT_TYPE.test(contentType))
		return undefined;
	const encoding = h["grpc-encoding"];
	if (encoding !== undefined && encoding !== "identity") return undefined;
	const timeout = h["grpc-timeout"];
	if (timeout === undefined) return { timeoutMs: undefined };
	const parsed = parseTimeout(String(timeout), Number.MAX_SAFE_INTEGER);
	return parsed.error === undefined
		? { timeoutMs: parsed.timeoutMs }
		: undefined;
}

/**
 * Buffers the body while it can still be one uncompressed message within the limit; falls back to connect the
 * moment it cannot (or at the end, when the bytes are not exactly one message).
 */
function readSingleMessage(
	req: NodeRequest,
	res: NodeResponse,
	options: UnaryFastPathOptions,
	onMessage: (payload: Uint8Array) => void,
): void {
	const chunks: Buffer[] = [];
	let received = 0;
	let expected = -1;
	const giveUp = (rest: boolean) => {
		req.off("data", onData);
		req.off("end", onEnd);
		if (rest) req.pause();
		options.fallback(req, res, chunks, rest);
	};
	const onData = (chunk: Buffer) => {
		chunks.push(chunk);
		received += chunk.length;
		if (expected < 0 && received >= ENVELOPE_HEADER_BYTES) {
			const head =
				chunks.length === 1 ? chunk : Buffer.concat(chunks, received);
			const flags = head[0] as number;
			expected = ENVELOPE_HEADER_BYTES + head.readUInt32BE(1);
			// Compressed, oversized (connect words the limit error) or more than one message: not ours to answer.
			if (
				flags !== 0 ||
				expected - ENVELOPE_HEADER_BYTES > options.readMaxBytes
			)
				return giveUp(true);
		}
		if (expected >= 0 && received > expected) giveUp(true);
	};
	const onEnd = () => {
		req.off("data", onData);
		if (received !== expected) return options.fallback(req, res, chunks, false);
		const body =
			chunks.length === 1
				? (chunks[0] as Buffer)
				: Buffer.concat(chunks, received);
		onMessage(body.subarray(ENVELOPE_HEADER_BYTES));
	};
	req.on("data", onData);
	req.once("end", onEnd);
}

function answer(
	route: UnaryRoute,
	path: string,
	req: NodeRequest,
	res: NodeResponse,
	payload: Uint8Array,
	timeoutMs: number | undefined,
	options: UnaryFastPathOptions,
): void {
	const { method } = route;
	let input: unknown;
	try {
		const codec = fastMessageCodec(method.input);
		input =
			codec === undefined
				? fromBinary(method.input, payload)
				: codec.decode(payload);
	} catch {
		// connect reports the parse failure in its own words.
		options.fallback(req, res, [envelope(payload, 0)], false);
		return;
	}
	const { context, compression } = startFastCall(
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
		output = route.impl(input as never, context);
	} catch (err: unknown) {
		fail(res, context, err, path, options);
		return;
	}
	if (output instanceof Promise) {
		output.then(
			(value: unknown) =>
				send(res, context, method, value, compression, path, options),
			(err: unknown) => fail(res, context, err, path, options),
		);
	} else send(res, context, method, output, compression, path, options);
}

function send(
	res: NodeResponse,
	context: FastHandlerContext,
	method: DescMethodUnary,
	output: unknown,
	compression: Compression | null,
	path: string,
	options: UnaryFastPathOptions,
): void {
	// The flat evaluation answers take the fast codec; anything it declines goes through protobuf-es.
	let bytes = fastMessageCodec(method.output)?.encode(output as object);
	if (bytes === undefined) {
		let message: unknown;
		try {
			message = isMessage(output, method.output)
				? output
				: create(method.output as DescMessage, output as never);
		} catch (err: unknown) {
			fail(res, context, err, path, options);
			return;
		}
		try {
			bytes = toBinary(method.output, message as never);
		} catch (err: unknown) {
			// connect's binary serialization wraps the failure in these words.
			const m = err instanceof Error ? err.message : String(err);
			fail(
				res,
				context,
				new ConnectError(`serialize binary: ${m}`, Code.Internal),
				path,
				options,
			);
			return;
		}
	}
	if (compression !== null && bytes.length >= options.compressMinBytes) {
		compression.compress(bytes).then(
			(compressed) =>
				write(res, context, envelope(compressed, 1), path, options),
			(err: unknown) => fail(res, context, err, path, options),
		);
	} else write(res, context, envelope(bytes, 0), path, options);
}

function fail(
	res: NodeResponse,
	context: FastHandlerContext,
	err: unknown,
	path: string,
	options: UnaryFastPathOptions,
): void {
	setTrailerStatus(context.responseTrailer, asConnectError(err));
	write(res, context, undefined, path, options);
}

function write(
	res: NodeResponse,
	context: FastHandlerContext,
	body: Uint8Array | undefined,
	path: string,
	options: UnaryFastPathOptions,
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

function envelope(payload: Uint8Array, flags: number): Buffer {
	const frame = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + payload.length);
	frame[0] = flags;
	frame.writeUInt32BE(payload.length, 1);
	frame.set(payload, ENVELOPE_HEADER_BYTES);
	return frame;
}
