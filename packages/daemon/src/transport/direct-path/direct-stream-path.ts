/**
 * The direct path for long-lived server streams (EventStream, SyncFlags): a plain server-streaming call in gRPC
 * (HTTP/2, binary), gRPC-web or the Connect protocol (binary or JSON) to a method whose service registered a
 * direct stream implementation. It reads the one request message, parses it with connect's serialization for the
 * method, writes the response headers and hands the implementation a {@link DirectServerStream}; the
 * implementation keeps it in a set and writes messages encoded once for all streams (shared-message.ts). There is
 * no async-iterable pipeline, AbortController or promise chain per stream: an open stream is its Node response,
 * a small object and whatever the implementation keeps.
 *
 * It takes only requests it fully understands, like the unary direct paths: a compressed or malformed body, more
 * than one message, gRPC-web text, an invalid timeout header or a missing Connect protocol version goes to the
 * connect handler with the bytes already read, and connect words the answer. Responses are not compressed (every
 * protocol allows identity whatever the client accepts): the messages are small and shared by every stream.
 */
import type {
	DescMethodServerStreaming,
	JsonReadOptions,
	JsonWriteOptions,
} from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import {
	createEndStreamSerialization,
	parseContentType as parseConnectContentType,
	parseTimeout as parseConnectTimeout,
} from "@connectrpc/connect/protocol-connect";
import {
	parseContentType as parseGrpcContentType,
	parseTimeout as parseGrpcTimeout,
} from "@connectrpc/connect/protocol-grpc";
import { parseContentType as parseGrpcWebContentType } from "@connectrpc/connect/protocol-grpc-web";
import type { NodeRequest, NodeResponse } from "../http-listener.js";
import type { StreamLimiter } from "../stream-limiter.js";
import {
	asConnectError,
	type DirectProtocol,
	startDirectCall,
} from "./direct-handler-context.js";
import type { DirectPathOptions, MethodSerialization } from "./direct-route.js";
import {
	callTimeoutError,
	DirectServerStream,
	type DirectStreamImpl,
	type StreamFormat,
	type StreamProtocolName,
} from "./direct-server-stream.js";
import { readBody } from "./read-body.js";

/** A server-streaming method, its direct implementation and connect's serialization for it. */
export interface DirectStreamRoute {
	readonly method: DescMethodServerStreaming;
	readonly impl: DirectStreamImpl;
	readonly serialization: MethodSerialization;
}

export interface DirectStreamPathOptions
	extends Omit<DirectPathOptions, "routes"> {
	/** Request path → route. */
	readonly routes: ReadonlyMap<string, DirectStreamRoute>;
	readonly grpc: boolean;
	readonly grpcWeb: boolean;
	readonly connect: boolean;
	/** The router's requireConnectProtocolHeader. */
	readonly requireProtocolVersion: boolean;
	readonly jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined;
	/** Counts the open streams (the same cap connect's path applies). */
	readonly limiter: StreamLimiter | undefined;
}

const ENVELOPE_HEADER_BYTES = 5;

/** A call the path takes: its protocol, encoding and timeout header. */
interface PlainStreamCall {
	readonly protocol: StreamProtocolName;
	readonly binary: boolean;
	readonly timeoutMs: number | undefined;
}

/** See the file comment; the returned function answers and returns true, or returns false untouched. */
export function createDirectStreamPath(
	options: DirectStreamPathOptions,
): (req: NodeRequest, res: NodeResponse, path: string) => boolean {
	const endStream = createEndStreamSerialization(options.jsonOptions);
	// One format object per route, protocol and encoding, shared by all its streams.
	const formats = new Map<string, StreamFormat>();
	const formatOf = (
		path: string,
		route: DirectStreamRoute,
		call: PlainStreamCall,
	): StreamFormat => {
		const key = `${call.protocol}${call.binary ? "+proto" : "+json"}${path}`;
		let format = formats.get(key);
		if (format === undefined) {
			format = {
				protocol: call.protocol,
				binary: call.binary,
				contentType: contentTypeOf(call.protocol, call.binary),
				output: {
					schema: route.method.output,
					serialization: route.serialization,
				},
				endStream: call.protocol === "connect" ? endStream : undefined,
			};
			formats.set(key, format);
		}
		return format;
	};
	// readBody only hands the request back through `fallback`.
	const bodyOptions: DirectPathOptions = { ...options, routes: new Map() };
	return (req, res, path) => {
		const route = options.routes.get(path);
		if (route === undefined) return false;
		const call = plainStreamCall(req, options);
		if (call === undefined) return false;
		readBody(
			req,
			res,
			bodyOptions,
			ENVELOPE_HEADER_BYTES + options.readMaxBytes,
			isSingleUncompressedMessage,
			(body) => {
				let input: unknown;
				try {
					input = route.serialization
						.getI(call.binary)
						.parse(body.subarray(ENVELOPE_HEADER_BYTES));
				} catch {
					// connect reports the parse failure in its own words.
					options.fallback(req, res, [body], false);
					return;
				}
				serve(
					route,
					formatOf(path, route, call),
					call,
					input,
					req,
					res,
					path,
					options,
				);
			},
		);
		return true;
	};
}

function serve(
	route: DirectStreamRoute,
	format: StreamFormat,
	call: PlainStreamCall,
	input: unknown,
	req: NodeRequest,
	res: NodeResponse,
	path: string,
	options: DirectStreamPathOptions,
): void {
	const stream = new DirectServerStream(res, format);
	try {
		stream.start();
	} catch (err: unknown) {
		options.onError(err, path);
		return;
	}
	const { context } = startDirectCall(
		PROTOCOLS[call.protocol],
		route.method,
		req,
		res,
		[],
		call.timeoutMs,
	);
	try {
		options.limiter?.acquire();
	} catch (err: unknown) {
		stream.end(asConnectError(err));
		return;
	}
	let timer: NodeJS.Timeout | undefined;
	if (call.timeoutMs !== undefined) {
		timer = setTimeout(() => stream.end(callTimeoutError()), call.timeoutMs);
	}
	stream.onClose(() => {
		clearTimeout(timer);
		options.limiter?.release();
		context.markAnswered();
	});
	try {
		route.impl(input as never, context, stream);
	} catch (err: unknown) {
		stream.end(asConnectError(err));
	}
}

/** The call's protocol, encoding and timeout; undefined when it is not a plain server-streaming call we serve. */
function plainStreamCall(
	req: NodeRequest,
	options: DirectStreamPathOptions,
): PlainStreamCall | undefined {
	if (req.method !== "POST") return undefined;
	const h = req.headers;
	const contentType = h["content-type"] ?? null;
	if (contentType === null) return undefined;
	if (options.grpc && req.httpVersionMajor === 2) {
		const type = parseGrpcContentType(contentType);
		if (type !== undefined) {
			if (!type.binary || !identity(h["grpc-encoding"])) return undefined;
			return withTimeout("grpc", true, h["grpc-timeout"], parseGrpcTimeout);
		}
	}
	if (options.grpcWeb) {
		const type = parseGrpcWebContentType(contentType);
		if (type !== undefined) {
			if (type.text || !identity(h["grpc-encoding"])) return undefined;
			return withTimeout(
				"grpc-web",
				type.binary,
				h["grpc-timeout"],
				parseGrpcTimeout,
			);
		}
	}
	if (options.connect) {
		const type = parseConnectContentType(contentType);
		if (type === undefined || !type.stream) return undefined;
		if (options.requireProtocolVersion && h["connect-protocol-version"] !== "1")
			return undefined;
		if (!identity(h["connect-content-encoding"])) return undefined;
		return withTimeout(
			"connect",
			type.binary,
			h["connect-timeout-ms"],
			parseConnectTimeout,
		);
	}
	return undefined;
}

function identity(encoding: string | string[] | undefined): boolean {
	return encoding === undefined || encoding === "identity";
}

function withTimeout(
	protocol: StreamProtocolName,
	binary: boolean,
	header: string | string[] | undefined,
	parse: (
		value: string | null,
		maxTimeoutMs: number,
	) => { timeoutMs?: number; error?: ConnectError },
): PlainStreamCall | undefined {
	if (header === undefined) return { protocol, binary, timeoutMs: undefined };
	const parsed = parse(String(header), Number.MAX_SAFE_INTEGER);
	return parsed.error === undefined
		? { protocol, binary, timeoutMs: parsed.timeoutMs }
		: undefined;
}

/** Exactly one envelope with no flags set (see grpc-unary-direct-path.ts); anything else goes to connect. */
function isSingleUncompressedMessage(body: Buffer): boolean {
	return (
		body.length >= ENVELOPE_HEADER_BYTES &&
		body[0] === 0 &&
		body.readUInt32BE(1) === body.length - ENVELOPE_HEADER_BYTES
	);
}

function contentTypeOf(protocol: StreamProtocolName, binary: boolean): string {
	const format = binary ? "proto" : "json";
	switch (protocol) {
		case "grpc":
			return "application/grpc+proto";
		case "grpc-web":
			return `application/grpc-web+${format}`;
		case "connect":
			return `application/connect+${format}`;
	}
}

const PROTOCOLS: Record<StreamProtocolName, DirectProtocol> = {
	grpc: protocolOf("grpc", "grpc-encoding", "grpc-accept-encoding"),
	"grpc-web": protocolOf("grpc-web", "grpc-encoding", "grpc-accept-encoding"),
	connect: protocolOf(
		"connect",
		"connect-content-encoding",
		"connect-accept-encoding",
	),
};

function protocolOf(
	name: string,
	encodingHeader: string,
	acceptEncodingHeader: string,
): DirectProtocol {
	return {
		name,
		contentType: "",
		encodingHeader,
		trailer: {},
		acceptEncodingHeader,
	};
}
