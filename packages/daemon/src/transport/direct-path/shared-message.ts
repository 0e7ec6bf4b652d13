/**
 * One server-stream message that many streams send: it is serialized (connect's serialization for the method,
 * protobuf-es binary or JSON) and framed (connect's encodeEnvelope) the first time a stream of each method and
 * format asks for it, and every other stream writes the same bytes. A change broadcast to 10,000 EventStreams
 * costs one or two encodings, not 10,000.
 */
import { create, type DescMessage, isMessage } from "@bufbuild/protobuf";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import type { MethodSerialization } from "./direct-route.js";

/** How a stream's method serializes its output (see direct-stream-path.ts). */
export interface StreamOutput {
	readonly schema: DescMessage;
	readonly serialization: MethodSerialization;
}

/** See the file comment. */
export class SharedMessage {
	readonly #build: (schema: DescMessage) => unknown;
	/** serialization → [JSON frame, binary frame]. Usually one entry (or two: v1 and v2 EventStream). */
	readonly #frames = new Map<
		MethodSerialization,
		[Uint8Array | undefined, Uint8Array | undefined]
	>();

	/**
	 * `build` returns the message (or its init object) for an output schema; it runs at most once per schema and
	 * format asked for.
	 */
	constructor(build: (schema: DescMessage) => unknown) {
		this.#build = build;
	}

	/** The enveloped message (flags 0) for a stream of this output and format. Throws what serialization throws. */
	frame(output: StreamOutput, binary: boolean): Uint8Array {
		let pair = this.#frames.get(output.serialization);
		if (pair === undefined) {
			pair = [undefined, undefined];
			this.#frames.set(output.serialization, pair);
		}
		const index = binary ? 1 : 0;
		const cached = pair[index];
		if (cached !== undefined) return cached;
		const value = this.#build(output.schema);
		const message = isMessage(value, output.schema)
			? value
			: create(output.schema, value as never);
		const frame = encodeEnvelope(
			0,
			output.serialization.getO(binary).serialize(message),
		);
		pair[index] = frame;
		return frame;
	}
}
