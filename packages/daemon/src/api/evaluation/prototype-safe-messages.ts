/**
 * Responses whose map keys and Struct keys survive @bufbuild/protobuf. It builds maps and Structs from their JSON
 * form by plain assignment, so a key named `__proto__` (a flag key like any other) is silently dropped: from the
 * ResolveAll `flags` map by `create()`, and from an EventStream `data` Struct by the binary encoder. Everything
 * else stays on @bufbuild/protobuf; these helpers step in only when such a key is present.
 *
 * - ResolveAll: the response is built as a complete message (so `create()` passes it through) whose `flags`
 *   object holds the key as an own property; the binary encoder reads maps with `Object.entries`, which sees it.
 * - EventStream: the message carries `data` a second time, encoded by the fast codec (which writes own keys), as
 *   an unknown field with the same number. Protobuf merges a repeated message field and a repeated map entry's
 *   last value wins, so every binary decoder (Go, protobuf-es, the fast codec) reads the complete `flags`.
 * The Connect JSON encoding cannot express either (protobuf-es writes JSON objects by assignment too).
 */
import {
	create,
	type DescMessage,
	type JsonObject,
	type Message,
} from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
	AnyFlagSchema,
	type ResolveAllResponse,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { fastMessageCodec } from "@flagd-ts/protocol/fast-message-codec";
import type { FlagEvent } from "./flag-event-stream.js";

const PROTO = "__proto__";

/** Whether a JSON value holds an own `__proto__` key at any depth. */
function hasProtoKey(value: unknown): boolean {
	if (value === null || typeof value !== "object") return false;
	if (Array.isArray(value)) return value.some(hasProtoKey);
	if (Object.hasOwn(value, PROTO)) return true;
	return Object.values(value).some(hasProtoKey);
}

/** An EventStream message for `schema` (v1 or v2) that keeps every key of `data` on the binary wire. */
export function eventStreamMessage(
	schema: DescMessage,
	event: FlagEvent,
): FlagEvent | Message {
	if (event.data === undefined || !hasProtoKey(event.data)) return event;
	const field = schema.fields.find((f) => f.localName === "data");
	const codec = fastMessageCodec(schema);
	// A message of only `data` is its tag (one byte: field numbers below 16) followed by the length and the Struct.
	const encoded =
		field !== undefined && field.number < 16
			? codec?.encode({ data: event.data })
			: undefined;
	if (field === undefined || encoded === undefined) return event;
	const message = create(schema, event as unknown as Record<string, unknown>);
	message.$unknown = [
		{
			no: field.number,
			wireType: WireType.LengthDelimited,
			data: encoded.subarray(1),
		},
	];
	return message;
}

/** ResolveAll's response with every flag key kept (see the file comment). */
export function resolveAllMessage(init: {
	flags: Record<string, object>;
	metadata: JsonObject;
}): ResolveAllResponse | typeof init {
	if (!Object.hasOwn(init.flags, PROTO)) return init;
	const message = create(ResolveAllResponseSchema, {
		metadata: init.metadata,
	});
	const flags: ResolveAllResponse["flags"] = {};
	for (const key of Object.keys(init.flags)) {
		Object.defineProperty(flags, key, {
			value: create(AnyFlagSchema, init.flags[key] as never),
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	message.flags = flags;
	return message;
}
