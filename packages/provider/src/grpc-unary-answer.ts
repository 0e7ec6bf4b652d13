/**
 * The checks and decoding of a unary gRPC answer that grpc-unary-transport.ts collected from its HTTP/2 stream,
 * as connect's gRPC transport does them: status and headers (`validateResponse`), the envelopes (connect's
 * `transformSplitEnvelope`), the trailer (`validateTrailer`), exactly one uncompressed message.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import {
	Code,
	ConnectError,
	type UnaryRequest,
	type UnaryResponse,
} from "@connectrpc/connect";
import type {
	AsyncIterableTransform,
	EnvelopedMessage,
} from "@connectrpc/connect/protocol";
import {
	headerGrpcStatus,
	validateResponse,
	validateTrailer,
} from "@connectrpc/connect/protocol-grpc";

/** A unary gRPC answer as it came off the HTTP/2 stream. */
export interface GrpcUnaryAnswer {
	readonly status: number;
	readonly header: Headers;
	readonly trailer: Headers;
	readonly body: Buffer;
}

/** Checks the answer and parses its one message, as connect's gRPC transport does for a unary call. */
export async function decodeGrpcUnaryAnswer<
	I extends DescMessage,
	O extends DescMessage,
>(
	answer: GrpcUnaryAnswer,
	req: UnaryRequest<I, O>,
	serializer: { parse(data: Uint8Array): UnaryResponse<I, O>["message"] },
	splitEnvelopes: AsyncIterableTransform<Uint8Array, EnvelopedMessage>,
): Promise<UnaryResponse<I, O>> {
	const { headerError } = validateResponse(answer.status, answer.header);
	// connect's envelope splitter, fed the one body without connect's pipe (an async generator per stage).
	const envelopes: EnvelopedMessage[] = [];
	for await (const envelope of splitEnvelopes(oneChunk(answer.body)))
		envelopes.push(envelope);
	validateTrailer(answer.trailer, answer.header);
	const envelope = envelopes[0];
	if (envelope === undefined) {
		if (headerError) throw headerError;
		throw new ConnectError(
			"protocol error: missing output message for unary method",
			answer.trailer.has(headerGrpcStatus) ? Code.Unimplemented : Code.Unknown,
		);
	}
	if (envelopes.length > 1) {
		throw new ConnectError(
			"protocol error: received extra output message for unary method",
			Code.Unimplemented,
		);
	}
	if (headerError) {
		throw new ConnectError(
			"protocol error: received output message for unary method with error status",
			Code.Unknown,
		);
	}
	if ((envelope.flags & 0b1) !== 0) {
		throw new ConnectError(
			"protocol error: received compressed output, but no compression was negotiated",
			Code.Internal,
		);
	}
	return {
		stream: false,
		service: req.service,
		method: req.method,
		header: answer.header,
		message: serializer.parse(envelope.data),
		trailer: answer.trailer,
	};
}

/** An async iterable of one chunk (what connect's `createAsyncIterable` makes, without an async generator). */
function oneChunk(chunk: Uint8Array): AsyncIterable<Uint8Array> {
	return {
		[Symbol.asyncIterator]() {
			let done = false;
			return {
				next(): Promise<IteratorResult<Uint8Array>> {
					if (done) return Promise.resolve({ done: true, value: undefined });
					done = true;
					return Promise.resolve({ done: false, value: chunk });
				},
			};
		},
	};
}
