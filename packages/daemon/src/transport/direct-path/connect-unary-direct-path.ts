/**
 * The direct path for unary calls in the Connect protocol (POST, `application/proto` or `application/json`), the
 * protocol of the web provider and of the Node provider's Connect transport, over HTTP/1.1 or HTTP/2. Like the gRPC
 * one (grpc-unary-direct-path.ts) it reads the body, calls the synchronous implementation and writes the answer
 * itself, skipping connect's per-call pipeline and AbortSignal set-up; it parses and serializes with the same
 * serialization connect's handler uses (same JSON options; JSON output keeps `__proto__` keys, see
 * prototype-safe-json.ts), so the bytes are connect's.
 *
 * It takes only requests it fully understands. A body compressed with one of the router's compressions is
 * decompressed with it (connect's read limit applies to the decompressed size). A GET, another content encoding,
 * an invalid `connect-timeout-ms`, a body over the read limit, one that does not decompress, an empty body or one
 * that does not parse goes to the connect handler with the bytes already read, and connect decides and words the
 * answer.
 */
import {
	create,
	type DescMessage,
	isMessage,
	type JsonReadOptions,
	type JsonWriteOptions,
} from "@bufbuild/protobuf";
import type { Compression } from "@connectrpc/connect/protocol";
import {
	codeToHttpStatus,
	errorToJsonBytes,
	parseContentType,
	parseTimeout,
	trailerMux,
} from "@connectrpc/connect/protocol-connect";
import type { DirectAnswer } from "./direct-answer-cache.js";
import {
	asConnectError,
	type DirectHandlerContext,
	type DirectProtocol,
	negotiateCompression,
	startDirectCall,
	toNodeHeaders,
} from "./direct-handler-context.js";
import type { DirectRequest, DirectResponse } from "./direct-request.js";
import type {
	DirectPathOptions,
	MethodSerialization,
	SerializedRoute,
} from "./direct-route.js";
import { readBody } from "./read-body.js";

/** What the Connect direct path needs besides the gRPC path's options: two router options. */
export interface ConnectDirectPathOptions extends DirectPathOptions {
	/** The router's requireConnectProtocolHeader: connect rejects a request without `connect-protocol-version: 1`. */
	readonly requireProtocolVersion: boolean;
	/** The router's JSON options (connect writes its error bodies with them). */
	readonly jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined;
}

const CONNECT_PROTO: DirectProtocol = {
	name: "connect",
	contentType: "application/proto",
	encodingHeader: "content-encoding",
	trailer: {},
	acceptEncodingHeader: "accept-encoding",
};
const CONNECT_JSON: DirectProtocol = {
	...CONNECT_PROTO,
	contentType: "application/json",
};

/** See the file comment; the returned function answers and returns true, or returns false untouched. */
export function createConnectUnaryDirectPath(
	options: ConnectDirectPathOptions,
): (req: DirectRequest, res: DirectResponse, path: string) => boolean {
	return (req, res, path) => {
		const route = options.routes.get(path);
		if (route === undefined) return false;
		const plain = plainConnectUnary(req, options);
		if (plain === undefined) return false;
		const compression = plain.compression;
		// Within the read limit and not empty, or connect answers.
		readBody(
			req,
			res,
			options,
			options.readMaxBytes,
			nonEmpty,
			compression === undefined
				? (body) => answer(route, plain, path, req, res, body, options)
				: (body) =>
						// connect's decompression with its read limit; on failure connect answers from the same bytes.
						compression.decompress(body, options.readMaxBytes).then(
							(raw) =>
								answer(route, plain, path, req, res, Buffer.from(raw), options),
							() => options.fallback(req, res, [body], false),
						),
		);
		return true;
	};
}

/** connect answers an empty body itself. */
const nonEmpty = (body: Buffer): boolean => body.length > 0;

/** A plain Connect unary call: binary (proto) or JSON, its parsed timeout and the request body's compression. */
interface PlainCall {
	readonly binary: boolean;
	readonly timeoutMs: number | undefined;
	readonly compression: Compression | undefined;
}

/** The call's format and timeout; undefined when it is not a plain Connect unary call. */
function plainConnectUnary(
	req: DirectRequest,
	options: ConnectDirectPathOptions,
): PlainCall | undefined {
	if (req.method !== "POST") return undefined;
	const h = req.headers;
	// connect words the error for a missing or wrong version.
	if (options.requireProtocolVersion && h["connect-protocol-version"] !== "1")
		return undefined;
	const type = parseContentType(h["content-type"] ?? null);
	if (type === undefined || type.stream) return undefined;
	// A compression the router accepts is undone here (connect words the error for any other).
	const encoding = h["content-encoding"];
	let compression: Compression | undefined;
	if (encoding !== undefined && encoding !== "identity") {
		compression = options.acceptCompression.find((c) => c.name === encoding);
		if (compression === undefined) return undefined;
	}
	const timeout = h["connect-timeout-ms"];
	if (timeout === undefined)
		return { binary: type.binary, timeoutMs: undefined, compression };
	const parsed = parseTimeout(String(timeout), Number.MAX_SAFE_INTEGER);
	return parsed.error === undefined
		? { binary: type.binary, timeoutMs: parsed.timeoutMs, compression }
		: undefined;
}

function answer(
	route: SerializedRoute,
	{ binary, timeoutMs }: PlainCall,
	path: string,
	req: DirectRequest,
	res: DirectResponse,
	body: Buffer,
	options: ConnectDirectPathOptions,
): void {
	const lookup = options.answers?.open(
		req,
		`${binary ? "connect+proto" : "connect+json"}${path}`,
		body,
	);
	if (lookup?.hit !== undefined) {
		replay(req, res, binary, lookup.hit, path, options);
		return;
	}
	const { method, serialization } = route;
	let input: unknown;
	try {
		input = serialization.getI(binary).parse(body);
	} catch {
		// connect reports the parse failure in its own words.
		options.fallback(req, res, [body], false);
		return;
	}
	const { context, compression } = startDirectCall(
		binary ? CONNECT_PROTO : CONNECT_JSON,
		method,
		req,
		res,
		options.acceptCompression,
		timeoutMs,
	);
	let status = 200;
	let bytes: Uint8Array;
	try {
		const output =
			lookup === undefined
				? route.impl(input as never, context)
				: lookup.run(() => route.impl(input as never, context));
		if (output instanceof Promise) {
			// Only methods declared synchronous are routed here (serviceRoute in connect-handler.ts); a Promise is a programming error.
			throw new Error(
				`${path}: asynchronous implementation on the direct path`,
			);
		}
		bytes = serialize(route, serialization, binary, output);
		// Only a successful answer with the default headers is kept.
		if (lookup !== undefined && !context.headersTouched)
			lookup.keep({
				bytes,
				text: binary ? undefined : utf8Text(bytes),
				headers: replayHeaders(binary ? CONNECT_PROTO : CONNECT_JSON, bytes),
			});
	} catch (err: unknown) {
		const error = asConnectError(err);
		status = codeToHttpStatus(error.code);
		context.responseHeader.set("content-type", "application/json");
		error.metadata.forEach((value, key) => {
			context.responseHeader.set(key, value);
		});
		bytes = errorToJsonBytes(error, options.jsonOptions);
	}
	if (compression !== null && bytes.byteLength >= options.compressMinBytes) {
		compression.compress(bytes).then(
			(compressed) => {
				context.responseEncoding = compression.name;
				write(res, context, status, compressed, path, options);
			},
			(err: unknown) => options.onError(err, path),
		);
	} else write(res, context, status, bytes, path, options);
}

/** The bytes as a string when they are exactly some string's UTF-8 encoding (JSON from protobuf-es is). */
function utf8Text(bytes: Uint8Array): string | undefined {
	const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const text = buffer.toString("utf8");
	return Buffer.from(text, "utf8").equals(buffer) ? text : undefined;
}

/** Writes a kept answer as {@link write} writes a computed one with connect's default headers. */
function replay(
	req: DirectRequest,
	res: DirectResponse,
	binary: boolean,
	answer: DirectAnswer,
	path: string,
	options: ConnectDirectPathOptions,
): void {
	const protocol = binary ? CONNECT_PROTO : CONNECT_JSON;
	const compression = negotiateCompression(
		protocol,
		req,
		options.acceptCompression,
	);
	if (
		compression === null ||
		answer.bytes.byteLength < options.compressMinBytes
	) {
		end(req, res, answer.headers, answer.bytes, answer.text, path, options);
		return;
	}
	compression.compress(answer.bytes).then(
		(compressed) =>
			end(
				req,
				res,
				replayHeaders(protocol, compressed, compression.name),
				compressed,
				undefined,
				path,
				options,
			),
		(err: unknown) => options.onError(err, path),
	);
}

/** A replay's headers: the names in the order connect writes them (sorted, as Headers iterates). */
function replayHeaders(
	protocol: DirectProtocol,
	body: Uint8Array,
	encoding?: string,
): Readonly<Record<string, string>> {
	const headers: Record<string, string> = {};
	if (encoding !== undefined) headers[protocol.encodingHeader] = encoding;
	headers["content-length"] = body.byteLength.toString(10);
	headers["content-type"] = protocol.contentType;
	return headers;
}

/** Writes a replayed answer; over HTTP/1.1 a text body goes as text, in one write with the head. */
function end(
	req: DirectRequest,
	res: DirectResponse,
	headers: Readonly<Record<string, string>>,
	body: Uint8Array,
	text: string | undefined,
	path: string,
	options: ConnectDirectPathOptions,
): void {
	if (res.destroyed) return;
	try {
		res.writeHead(200, headers);
		if (text !== undefined && req.httpVersionMajor === 1) res.end(text);
		else res.end(body);
	} catch (err: unknown) {
		options.onError(err, path);
	}
}

function serialize(
	{ method }: SerializedRoute,
	serialization: MethodSerialization,
	binary: boolean,
	output: unknown,
): Uint8Array {
	const message = isMessage(output, method.output)
		? output
		: create(method.output as DescMessage, output as never);
	return serialization.getO(binary).serialize(message);
}

function write(
	res: DirectResponse,
	context: DirectHandlerContext,
	status: number,
	body: Uint8Array,
	path: string,
	options: ConnectDirectPathOptions,
): void {
	context.markAnswered();
	if (res.destroyed) return;
	try {
		const length = { "content-length": body.byteLength.toString(10) };
		// Connect unary has no trailers: any the implementation set travel as `trailer-` headers.
		const headers = context.headersTouched
			? muxed(context, length)
			: inHeadersOrder(context.nodeResponseHeader(length));
		res.writeHead(status, headers);
		res.end(body);
	} catch (err: unknown) {
		options.onError(err, path);
	}
}

/** connect writes from a Headers object, which iterates its names sorted; so does this, for the same wire order. */
function inHeadersOrder(
	headers: Record<string, string>,
): Record<string, string> {
	const out: Record<string, string> = {};
	for (const key of Object.keys(headers).sort())
		out[key] = headers[key] as string;
	return out;
}

function muxed(
	context: DirectHandlerContext,
	extra: Record<string, string>,
): Record<string, string> {
	context.nodeResponseHeader(); // applies the negotiated encoding to the materialised headers
	const headers = trailerMux(context.responseHeader, context.responseTrailer);
	for (const [key, value] of Object.entries(extra)) headers.set(key, value);
	return toNodeHeaders(headers);
}
