/**
 * A request message that is not valid protobuf is the client's mistake: it gets INVALID_ARGUMENT (HTTP 400 on the
 * Connect protocol), as connect-go (flagd) answers. connect-es reports it as INTERNAL ("parse binary: …") and
 * offers no hook between parsing and the response, so this rewrites that one error in the router's response, in
 * each protocol's own place for the status: the Connect unary JSON body, the gRPC trailers, the gRPC-web trailer
 * frame, or the Connect streaming end-of-stream message. Every other response passes through unchanged.
 */
import {
	type EnvelopedMessage,
	pipe,
	transformJoinEnvelopes,
	transformSplitEnvelope,
	type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
	trailerParse,
	trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";

const PREFIX = "parse binary: ";
/** Envelope flags: gRPC-web trailers, Connect end-of-stream. */
const GRPC_WEB_TRAILER = 0x80;
const CONNECT_END_STREAM = 0x02;

/** See the file comment. */
export async function parseErrorAsInvalidArgument(
	response: UniversalServerResponse,
): Promise<UniversalServerResponse> {
	const body = response.body;
	if (body === undefined) return response;
	const contentType = response.header?.get("content-type") ?? "";
	if (contentType.startsWith("application/grpc-web")) {
		return { ...response, body: mapEnvelopes(body, GRPC_WEB_TRAILER) };
	}
	if (contentType.startsWith("application/grpc")) {
		const trailer = response.trailer;
		return trailer === undefined
			? response
			: { ...response, body: fixTrailerAtEnd(body, trailer) };
	}
	if (contentType.startsWith("application/connect+")) {
		return { ...response, body: mapEnvelopes(body, CONNECT_END_STREAM) };
	}
	// Connect unary: the error is the whole (small) JSON body of a 500 response.
	if (response.status !== 500) return response;
	const chunks: Uint8Array[] = [];
	for await (const chunk of body) chunks.push(chunk);
	const bytes = Buffer.concat(chunks);
	const fixed = fixConnectErrorJson(bytes, (json) => json);
	if (fixed === undefined) return { ...response, body: once(bytes) };
	response.header?.set("content-length", String(fixed.length));
	return { ...response, status: 400, body: once(fixed) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
	yield bytes;
}

/** gRPC over HTTP/2: the status trailers are final once the body has been written. */
async function* fixTrailerAtEnd(
	body: AsyncIterable<Uint8Array>,
	trailer: Headers,
): AsyncIterable<Uint8Array> {
	yield* body;
	if (
		trailer.get("grpc-status") === "13" &&
		safeDecode(trailer.get("grpc-message") ?? "").startsWith(PREFIX)
	) {
		trailer.set("grpc-status", "3");
	}
}

/**
 * Rewrites the final envelope (`flag` set) when it carries the parse error. The body is split into envelopes and
 * joined again with connect's own envelope transforms; only the flagged envelope's payload is touched.
 */
function mapEnvelopes(
	body: AsyncIterable<Uint8Array>,
	flag: number,
): AsyncIterable<Uint8Array> {
	const fix = (payload: Uint8Array): Uint8Array | undefined =>
		flag === GRPC_WEB_TRAILER
			? fixGrpcWebTrailer(payload)
			: fixConnectErrorJson(payload, (json) =>
					typeof json.error === "object" && json.error !== null
						? (json.error as Record<string, unknown>)
						: undefined,
				);
	return pipe(
		body,
		// The router wrote these envelopes itself (its own writeMaxBytes applies); no read limit is needed here.
		transformSplitEnvelope(0xffff_ffff),
		async function* (envelopes: AsyncIterable<EnvelopedMessage>) {
			for await (const envelope of envelopes) {
				const fixed =
					(envelope.flags & flag) === 0 ? undefined : fix(envelope.data);
				yield fixed === undefined
					? envelope
					: { flags: envelope.flags, data: fixed };
			}
		},
		transformJoinEnvelopes(),
	);
}

function fixGrpcWebTrailer(payload: Uint8Array): Uint8Array | undefined {
	const trailer = trailerParse(payload);
	if (
		trailer.get("grpc-status") !== "13" ||
		!safeDecode(trailer.get("grpc-message") ?? "").startsWith(PREFIX)
	) {
		return undefined;
	}
	trailer.set("grpc-status", "3");
	return trailerSerialize(trailer);
}

/** Changes `{code: "internal", message: "parse binary: …"}` (found by `errorOf`) to invalid_argument. */
function fixConnectErrorJson(
	bytes: Uint8Array,
	errorOf: (
		json: Record<string, unknown>,
	) => Record<string, unknown> | undefined,
): Buffer | undefined {
	let json: unknown;
	try {
		json = JSON.parse(Buffer.from(bytes).toString("utf8"));
	} catch {
		return undefined; // not an error document: left as it is
	}
	if (json === null || typeof json !== "object") return undefined;
	const error = errorOf(json as Record<string, unknown>);
	if (
		error?.code !== "internal" ||
		typeof error.message !== "string" ||
		!error.message.startsWith(PREFIX)
	) {
		return undefined;
	}
	error.code = "invalid_argument";
	return Buffer.from(JSON.stringify(json), "utf8");
}

function safeDecode(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}
