/**
 * Responses whose map keys and Struct keys survive @bufbuild/protobuf. It builds maps and Structs from their JSON
 * form by plain assignment (`obj[key] = value`), so a key named `__proto__` (a flag key like any other) replaces
 * the object's prototype instead of becoming a key: it is dropped from the ResolveAll `flags` map by `create()`,
 * and from an EventStream `data` Struct when the JSON form is converted for the binary encoder. Everything stays
 * on @bufbuild/protobuf; these helpers step in only when such a key is present.
 *
 * - ResolveAll: the response is built as a complete message (so `create()` passes it through) whose `flags`
 *   object holds the key as an own property; the binary encoder reads maps with `Object.entries`, which sees it.
 * - EventStream: `data` is also built here as a `google.protobuf.Struct` message whose map objects get their keys
 *   with `Object.defineProperty`, encoded by protobuf-es (`toBinary(StructSchema, …)`, which reads maps with
 *   `Object.entries`), and carried as an unknown field with `data`'s number, written after the known fields.
 *   `data` itself stays set, so the Connect JSON encoding (which ignores unknown fields) still carries every
 *   other key. Protobuf merges repeated occurrences of a message field and a repeated map key's last value wins,
 *   so every binary decoder (Go, protobuf-es, the Node provider) reads the complete `flags`.
 * The Connect JSON encoding keeps the key too: these messages are marked for the transport's JSON serializer
 * (transport/direct-path/prototype-safe-json.ts), which writes such maps and Structs from their own JSON data.
 */
import {
	create,
	type DescMessage,
	type JsonObject,
	type Message,
	toBinary,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { StructSchema } from "@bufbuild/protobuf/wkt";
import { defineKey, structFromJson } from "@flagd-ts/protocol";
import {
	AnyFlagSchema,
	type ResolveAllResponse,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import {
	jsonHasProtoKey,
	markPrototypeKeyed,
} from "../../transport/direct-path/prototype-safe-json.js";
import type { FlagEvent } from "./flag-event-stream.js";

export { defineKey, structFromJson };

/** An EventStream message for `schema` (v1 or v2) that keeps every key of `data` on the binary wire. */
export function eventStreamMessage(
	schema: DescMessage,
	event: FlagEvent,
): FlagEvent | Message {
	if (event.data === undefined || !jsonHasProtoKey(event.data)) return event;
	const field = schema.fields.find((f) => f.localName === "data");
	if (field === undefined)
		throw new Error(`${schema.typeName} has no data field`);
	const message = create(schema, event as unknown as Record<string, unknown>);
	message.$unknown = [
		{
			no: field.number,
			wireType: WireType.LengthDelimited,
			// An unknown field's data is written after its tag as it is: for LengthDelimited, the length and the bytes.
			data: new BinaryWriter()
				.bytes(toBinary(StructSchema, structFromJson(event.data)))
				.finish(),
		},
	];
	return markPrototypeKeyed(message);
}

/**
 * `data` of `structField` (a Struct field of `message`) carried again as an unknown field with every key (see the
 * file comment): decoders merge it into the known field, or (read as `bytes`) keep it, being last.
 */
function carryStruct(
	message: Message,
	fieldNumber: number,
	json: JsonObject,
): void {
	message.$unknown = [
		...(message.$unknown ?? []),
		{
			no: fieldNumber,
			wireType: WireType.LengthDelimited,
			data: new BinaryWriter()
				.bytes(toBinary(StructSchema, structFromJson(json)))
				.finish(),
		},
	];
}

/** An AnyFlag message whose object value and metadata keep `__proto__` keys on the binary wire. */
export function anyFlagMessage(init: Record<string, unknown>): Message {
	const flag = create(AnyFlagSchema, init as never);
	const value = init.value as { case?: string; value?: unknown } | undefined;
	const objectValue = AnyFlagSchema.fields.find(
		(f) => f.localName === "objectValue",
	);
	const metadata = AnyFlagSchema.fields.find((f) => f.localName === "metadata");
	if (
		value?.case === "objectValue" &&
		objectValue !== undefined &&
		jsonHasProtoKey(value.value)
	)
		carryStruct(flag, objectValue.number, value.value as JsonObject);
	if (metadata !== undefined && jsonHasProtoKey(init.metadata))
		carryStruct(flag, metadata.number, init.metadata as JsonObject);
	return flag;
}

/** ResolveAll's response with every flag key, object value key and metadata key kept (see the file comment). */
export function resolveAllMessage(init: {
	flags: Record<string, object>;
	metadata: JsonObject;
}): ResolveAllResponse | typeof init {
	if (!jsonHasProtoKey(init.flags) && !jsonHasProtoKey(init.metadata))
		return init;
	const message = create(ResolveAllResponseSchema, {
		metadata: init.metadata,
	});
	if (jsonHasProtoKey(init.metadata)) {
		const field = ResolveAllResponseSchema.fields.find(
			(f) => f.localName === "metadata",
		);
		if (field !== undefined) carryStruct(message, field.number, init.metadata);
	}
	const flags: ResolveAllResponse["flags"] = {};
	for (const key of Object.keys(init.flags))
		defineKey(
			flags,
			key,
			anyFlagMessage(init.flags[key] as Record<string, unknown>),
		);
	message.flags = flags;
	return markPrototypeKeyed(message);
}
