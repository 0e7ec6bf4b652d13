import type { DescMessage, JsonObject, Message } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { structUnknownField } from "@flagd-ts/protocol";
import { LRUCache } from "lru-cache";

/** Options of {@link EncodedContextCache}. */
export interface EncodedContextCacheOptions {
	/** Most contexts kept. @default 128 */
	readonly maxEntries?: number;
	/** Contexts whose canonical JSON is longer than this many characters are encoded every time. @default 2048 */
	readonly maxKeyLength?: number;
}

/**
 * The binary encoding of evaluation contexts, kept for the contexts seen last. An application usually evaluates
 * several flags for one context (one request, one user), and encoding a `google.protobuf.Struct` reflectively is
 * the largest part of encoding a request: here it is done once per distinct context.
 *
 * Keyed by the context's canonical JSON ({@link stableStringify} of the Struct JSON from `contextToStruct`, which
 * the caller computes anyway to coalesce identical calls): equal keys mean equal Structs (map order aside), so a
 * context changed in place since an earlier call has another key and is never answered with stale bytes. Keys are
 * plain strings (a `__proto__` context key is part of the JSON, not a property of the cache). Memory is bounded:
 * at most `maxEntries` entries, each no larger than about three times `maxKeyLength` bytes (the key and the
 * encoding); longer contexts are encoded per call and not kept.
 */
export class EncodedContextCache {
	private readonly lru: LRUCache<string, Uint8Array>;
	private readonly maxKeyLength: number;

	constructor(options: EncodedContextCacheOptions = {}) {
		this.lru = new LRUCache<string, Uint8Array>({
			max: options.maxEntries ?? 128,
		});
		this.maxKeyLength = options.maxKeyLength ?? 2048;
	}

	/** Number of contexts kept. */
	get size(): number {
		return this.lru.size;
	}

	/**
	 * The length-delimited payload of a Struct field holding `context` (every key kept, `__proto__` included),
	 * from the cache when `key` was seen. `key` must be `stableStringify(context)`.
	 */
	encode(key: string, context: JsonObject): Uint8Array {
		if (key.length > this.maxKeyLength) return encodeStruct(context);
		let bytes = this.lru.get(key);
		if (bytes === undefined) {
			bytes = encodeStruct(context);
			this.lru.set(key, bytes);
		}
		return bytes;
	}
}

function encodeStruct(context: JsonObject): Uint8Array {
	// The field number does not affect the payload.
	return structUnknownField(1, context).data;
}

/**
 * A request message of `schema` with `fields`, whose Struct field `context` travels already encoded (`context`
 * from {@link EncodedContextCache.encode}) as an unknown field with the context's field number: the binary
 * encoder writes it verbatim after the known fields, which is where it would have written the field itself, and
 * decoders read it as the field. Only for transports that send the binary encoding (Connect's JSON encoding
 * leaves unknown fields out); the message's own `context` field stays unset.
 */
export function requestWithEncodedContext(
	schema: DescMessage,
	fields: Record<string, unknown>,
	context: Uint8Array,
): Message {
	const field = schema.field.context;
	if (field === undefined)
		throw new Error(`${schema.typeName} has no context field`);
	const message = create(schema, fields as never);
	message.$unknown = [
		{ no: field.number, wireType: WireType.LengthDelimited, data: context },
	];
	return message;
}
