/**
 * The standard gRPC health check (`grpc.health.v1.Health/Check`) on the management port, as flagd serves it for
 * HTTP/2 gRPC requests (Kubernetes gRPC probes). The two messages are tiny, so they are encoded by hand instead of
 * generating code for health.proto: HealthCheckRequest { string service = 1 }, HealthCheckResponse
 * { ServingStatus status = 1 } with SERVING = 1, NOT_SERVING = 2.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

const CHECK_PATH = "/grpc.health.v1.Health/Check";
const WATCH_PATH = "/grpc.health.v1.Health/Watch";
const SERVING = 1;
const NOT_SERVING = 2;
/** Requests are a service name; anything larger is not a health check. */
const MAX_REQUEST_BYTES = 4_096;

/** True when the request is a gRPC health call this module answers. */
export function isGrpcHealthRequest(
	req: IncomingMessage | Http2ServerRequest,
): boolean {
	const path = req.url ?? "";
	return (
		req.httpVersionMajor === 2 &&
		(req.headers["content-type"] ?? "").startsWith("application/grpc") &&
		(path === CHECK_PATH || path === WATCH_PATH)
	);
}

/**
 * Answers one health call: the overall service `""` and the daemon's own services report SERVING once the daemon
 * is ready (NOT_SERVING before); other names are NOT_FOUND; Watch is UNIMPLEMENTED.
 */
export function answerGrpcHealth(
	req: IncomingMessage | Http2ServerRequest,
	res: ServerResponse | Http2ServerResponse,
	options: { isReady: () => boolean; services: ReadonlySet<string> },
): void {
	if (req.url === WATCH_PATH) {
		trailersOnly(res, 12, "Watch is not implemented");
		return;
	}
	const chunks: Buffer[] = [];
	let size = 0;
	const onData = (chunk: Buffer) => {
		size += chunk.length;
		if (size <= MAX_REQUEST_BYTES) {
			chunks.push(chunk);
			return;
		}
		// Refused at once; the rest of the body is not read (the stream ends with the answer).
		req.off("data", onData);
		req.removeAllListeners("end");
		trailersOnly(res, 8, "health check request too large");
	};
	req.on("data", onData);
	req.once("end", () => {
		const service = readService(Buffer.concat(chunks));
		if (service === undefined) {
			trailersOnly(res, 3, "malformed HealthCheckRequest");
			return;
		}
		if (service !== "" && !options.services.has(service)) {
			trailersOnly(res, 5, "unknown service");
			return;
		}
		const status = options.isReady() ? SERVING : NOT_SERVING;
		// Only HTTP/2 requests get here (isGrpcHealthRequest), so the response is an Http2ServerResponse.
		const h2 = res as Http2ServerResponse;
		h2.writeHead(200, { "content-type": "application/grpc" });
		// One uncompressed frame: flag 0, length 2, then field 1 (varint) = status.
		h2.write(Buffer.from([0, 0, 0, 0, 2, 0x08, status]));
		h2.addTrailers({ "grpc-status": "0" });
		h2.end();
	});
}

/** The `service` field of a framed HealthCheckRequest, "" when absent, undefined when malformed. */
function readService(frame: Buffer): string | undefined {
	if (frame.length === 0) return "";
	if (frame.length < 5 || frame[0] !== 0) return undefined;
	const message = frame.subarray(5, 5 + frame.readUInt32BE(1));
	let offset = 0;
	let service = "";
	while (offset < message.length) {
		const tag = message[offset++];
		const length = message[offset++];
		// Only short, length-delimited fields occur in a health request (service names are < 128 bytes).
		if (
			tag === undefined ||
			length === undefined ||
			(tag & 0x07) !== 2 ||
			length > 127
		) {
			return undefined;
		}
		if (tag >> 3 === 1)
			service = message.toString("utf8", offset, offset + length);
		offset += length;
	}
	return service;
}

/** A gRPC error as a trailers-only response: one HEADERS frame that ends the stream. */
function trailersOnly(
	res: ServerResponse | Http2ServerResponse,
	code: number,
	message: string,
): void {
	(res as Http2ServerResponse).stream.respond(
		{
			":status": 200,
			"content-type": "application/grpc",
			"grpc-status": String(code),
			"grpc-message": encodeURIComponent(message),
		},
		{ endStream: true },
	);
}
