/**
 * `google.protobuf.Struct` messages to JSON with every key kept. @bufbuild/protobuf stores a decoded map entry by
 * plain assignment into a fresh `{}` (`fields[key] = value`), so an entry keyed `__proto__` does not become a key:
 * it replaces the map object's prototype with the entry's value (a `google.protobuf.Value` message). The entry is
 * not lost, only moved, and these helpers move it back. Its position among the other keys is not recoverable; it
 * is listed last. Built objects get their keys with `Object.defineProperty`, so `__proto__` stays an own key.
 */
import {
	create,
	fromBinary,
	type JsonObject,
	type JsonValue,
	toBinary,
} from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
	type Struct,
	StructSchema,
	type Value,
	ValueSchema,
} from "@bufbuild/protobuf/wkt";

const PROTO = "__proto__";

/**
 * The entries of a map field as protobuf-es decoded it, including a `__proto__` entry. The map object was created
 * as `{}`, so its prototype is `Object.prototype` unless an entry named `__proto__` was assigned to it: then the
 * prototype IS that entry's value (the last one, as protobuf's "last map entry wins" asks), a message of
 * `valueTypeName`. Own keys are real entries, even one named `__proto__` (a map built with `Object.defineProperty`),
 * which then wins.
 */
export function mapEntries<T extends object>(
	map: Readonly<Record<string, T>>,
	valueTypeName: string,
): [string, T][] {
	const entries = Object.entries(map);
	const proto: unknown = Object.getPrototypeOf(map);
	if (
		proto !== Object.prototype &&
		proto !== null &&
		isMessage(proto, valueTypeName) &&
		!Object.hasOwn(map, PROTO)
	)
		entries.push([PROTO, proto as T]);
	return entries;
}

/** The entries of a Struct's `fields` map, `__proto__` included ({@link mapEntries}). */
export function structEntries(fields: Struct["fields"]): [string, Value][] {
	return mapEntries(fields, "google.protobuf.Value");
}

/** Whether `v` is a protobuf-es message of type `typeName`. */
function isMessage(v: unknown, typeName: string): boolean {
	return (
		typeof v === "object" &&
		v !== null &&
		Object.hasOwn(v, "$typeName") &&
		(v as { $typeName: unknown }).$typeName === typeName
	);
}

/** Sets `key` as an own data property, whatever its name (assignment would treat `__proto__` specially). */
export function defineKey(target: object, key: string, value: unknown): void {
	Object.defineProperty(target, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}

/** The JSON form of a decoded Struct, every level's keys own properties (`__proto__` included). */
export function structToJson(struct: Struct): JsonObject {
	const json: JsonObject = {};
	for (const [key, value] of structEntries(struct.fields))
		defineKey(json, key, valueToJson(value));
	return json;
}

/** The JSON form of a decoded Value (an unset kind reads as null, as protobuf-es does for a message's Struct field). */
export function valueToJson(value: Value): JsonValue {
	switch (value.kind.case) {
		case "numberValue":
		case "stringValue":
		case "boolValue":
			return value.kind.value;
		case "structValue":
			return structToJson(value.kind.value);
		case "listValue":
			return value.kind.value.values.map(valueToJson);
		default:
			return null;
	}
}

/**
 * The JSON form of the Struct field `fieldNumber` of a binary message, every key kept (protobuf-es's own decoding
 * of a message's Struct field drops a `__proto__` key). Repeated occurrences merge, as protobuf asks. `undefined`
 * when the field is absent. Throws what the binary reader throws for malformed bytes.
 */
export function structFieldFromBinary(
	bytes: Uint8Array,
	fieldNumber: number,
): JsonObject | undefined {
	const reader = new BinaryReader(bytes);
	const parts: Uint8Array[] = [];
	while (reader.pos < reader.len) {
		const [no, wireType] = reader.tag();
		if (no === fieldNumber && wireType === WireType.LengthDelimited)
			parts.push(reader.bytes());
		else reader.skip(wireType, no);
	}
	if (parts.length === 0) return undefined;
	let joined = parts[0] as Uint8Array;
	if (parts.length > 1) {
		joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
		let offset = 0;
		for (const part of parts) {
			joined.set(part, offset);
			offset += part.length;
		}
	}
	return structToJson(fromBinary(StructSchema, joined));
}

/** A `google.protobuf.Value` message for a JSON value, every object key an own property of its `fields`. */
export function valueFromJson(json: JsonValue): Value {
	if (json === null)
		return create(ValueSchema, { kind: { case: "nullValue", value: 0 } });
	switch (typeof json) {
		case "number":
			return create(ValueSchema, {
				kind: { case: "numberValue", value: json },
			});
		case "string":
			return create(ValueSchema, {
				kind: { case: "stringValue", value: json },
			});
		case "boolean":
			return create(ValueSchema, { kind: { case: "boolValue", value: json } });
	}
	if (Array.isArray(json))
		return create(ValueSchema, {
			kind: { case: "listValue", value: { values: json.map(valueFromJson) } },
		});
	return create(ValueSchema, {
		kind: { case: "structValue", value: structFromJson(json as JsonObject) },
	});
}

/** A `google.protobuf.Struct` message for a JSON object whose `fields` keep every key (`__proto__` included). */
export function structFromJson(json: JsonObject): Struct {
	const struct = create(StructSchema);
	const fields: Struct["fields"] = {};
	for (const key of Object.keys(json))
		defineKey(fields, key, valueFromJson(json[key] as JsonValue));
	// Set after create(): create() would copy the map into a new object by assignment.
	struct.fields = fields;
	return struct;
}

/**
 * The bytes of Struct field `fieldNumber` holding `json` with every key, as an unknown field to append to a
 * message: binary decoders merge it into the known field (protobuf-es's encoder of a message's Struct field would
 * drop a `__proto__` key).
 */
export function structUnknownField(
	fieldNumber: number,
	json: JsonObject,
): { no: number; wireType: WireType; data: Uint8Array } {
	return {
		no: fieldNumber,
		wireType: WireType.LengthDelimited,
		data: new BinaryWriter()
			.bytes(toBinary(StructSchema, structFromJson(json)))
			.finish(),
	};
}
