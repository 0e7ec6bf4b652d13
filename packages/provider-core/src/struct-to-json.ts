/**
 * `google.protobuf.Struct` messages to JSON with every key kept. @bufbuild/protobuf stores a decoded map entry by
 * plain assignment into a fresh `{}` (`fields[key] = value`), so an entry keyed `__proto__` does not become a key:
 * it replaces the map object's prototype with the entry's value (a `google.protobuf.Value` message). The entry is
 * not lost, only moved, and these helpers move it back. Its position among the other keys is not recoverable; it
 * is listed last. Built objects get their keys with `Object.defineProperty`, so `__proto__` stays an own key.
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Struct, Value } from "@bufbuild/protobuf/wkt";

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
