/**
 * The encoded `flags` entries ResolveAll answers are joined from (resolve-all.ts): each entry is a
 * ResolveAllResponse holding one flag, encoded by protobuf-es, so it starts with the `flags` tag and its bytes are
 * exactly that map entry on the wire. EncodedEntries keeps the entries of the evaluator's shared results for a
 * view; ByteBuilder joins a view's static entries once.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { EvaluationResult, FlagValueType } from "@flagd-ts/evaluator";
import {
	type ResolveAllResponse,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { anyFlagMessage, defineKey } from "./prototype-safe-messages.js";
import { renderAnyFlag } from "./render-any-flag.js";

/** The tag of a `flags` map entry (field 1, length-delimited): the first byte of every encoded entry. */
const FLAGS_ENTRY_TAG = (1 << 3) | WireType.LengthDelimited;

/**
 * Encoded `flags` entries (tag included) of the evaluator's shared result objects (see the file comment), for one
 * view: all in one growing buffer, found by result object. One buffer and one Map entry per result instead of a
 * typed array each; bounded by the flags' possible results (variants × reasons), as error results, mostly built
 * per evaluation, are not kept.
 */
export class EncodedEntries {
	readonly #offsets = new Map<EvaluationResult, number>();
	#bytes: Buffer;
	#length = 0;

	constructor(expectedBytes: number) {
		// Not from Node's pool: this buffer lives as long as its view.
		this.#bytes = Buffer.allocUnsafeSlow(Math.max(256, expectedBytes));
	}

	/** Where a result's kept entry starts; -1 when it has none. */
	offsetOf(result: EvaluationResult): number {
		const offset = this.#offsets.get(result);
		return offset === undefined ? -1 : offset;
	}

	/** Keeps an encoded entry; returns its offset. */
	add(result: EvaluationResult, entry: Uint8Array): number {
		const offset = this.#length;
		const needed = offset + entry.length;
		if (needed > this.#bytes.length) {
			const grown = Buffer.allocUnsafeSlow(
				Math.max(needed, this.#bytes.length * 2),
			);
			this.#bytes.copy(grown, 0, 0, offset);
			this.#bytes = grown;
		}
		this.#bytes.set(entry, offset);
		this.#length = needed;
		this.#offsets.set(result, offset);
		return offset;
	}

	/** The length of the entry at `offset`: its tag byte, its length varint and the bytes the varint counts. */
	lengthAt(offset: number): number {
		const bytes = this.#bytes;
		let length = 0;
		let shift = 0;
		let at = offset + 1;
		for (;;) {
			const byte = bytes[at++] as number;
			length += (byte & 0x7f) * 2 ** shift;
			if (byte < 0x80) break;
			shift += 7;
		}
		return at - offset + length;
	}

	/** Copies the entry at `offset` (of `length` bytes) into `target` at `targetStart`. */
	copy(
		target: Uint8Array,
		targetStart: number,
		offset: number,
		length: number,
	): void {
		// A loop rather than Buffer#copy or subarray(): both make a typed-array view per call (per entry per request).
		const bytes = this.#bytes;
		for (let i = 0; i < length; i++)
			target[targetStart + i] = bytes[offset + i] as number;
	}
}

/** Bytes appended into a growing buffer; `bytes()` copies them out at their exact length. */
export class ByteBuilder {
	#buffer: Uint8Array;
	#length = 0;

	constructor(expectedBytes: number) {
		this.#buffer = new Uint8Array(Math.max(256, expectedBytes));
	}

	append(bytes: Uint8Array): void {
		const needed = this.#length + bytes.length;
		if (needed > this.#buffer.length) {
			const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
			grown.set(this.#buffer.subarray(0, this.#length));
			this.#buffer = grown;
		}
		this.#buffer.set(bytes, this.#length);
		this.#length = needed;
	}

	bytes(): Uint8Array {
		return this.#buffer.slice(0, this.#length);
	}
}

/** The encoded map entry (tag included) of one flag's result; undefined when ResolveAll leaves it out. */
export function encodeEntry(
	key: string,
	result: EvaluationResult,
	type: FlagValueType,
): Uint8Array | undefined {
	const entry = renderAnyFlag(result, type);
	if (entry === undefined) return undefined;
	const flags: Record<string, object> = {};
	defineKey(flags, key, anyFlagMessage(entry as Record<string, unknown>));
	return encodeFlagsMap(flags);
}

/** A ResolveAllResponse holding only `flags`, encoded: the map's entries, each starting with its tag. */
function encodeFlagsMap(flags: Record<string, object>): Uint8Array {
	const message = create(ResolveAllResponseSchema);
	// Assigned after create(), which would copy the map by assignment and lose a "__proto__" key.
	message.flags = flags as ResolveAllResponse["flags"];
	const bytes = toBinary(ResolveAllResponseSchema, message);
	if (bytes[0] !== FLAGS_ENTRY_TAG)
		throw new Error("ResolveAll entries must start with the flags tag");
	return bytes;
}
