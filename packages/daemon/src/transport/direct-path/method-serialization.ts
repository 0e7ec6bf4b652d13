/**
 * The serialization the direct paths use for a method: connect's own (protobuf-es binary and JSON, the router's
 * JSON options and limits), with one change to JSON output. protobuf-es writes the JSON objects of maps and of
 * `google.protobuf.Struct` fields by assignment, so a key named `__proto__` (a flag key, an object-value key or a
 * metadata key like any other) would vanish from a Connect JSON answer. After protobuf-es's `toJson`, the tree is
 * walked along the message's fields and such keys are put back:
 *
 * - a Struct (or Value) field holds its JSON object as it is (protobuf-es represents these fields as JsonObject /
 *   JsonValue), and the proto3 JSON form of a Struct is that very object: when it holds such a key, the field's
 *   JSON is the object itself, written by JSON.stringify with every own key;
 * - a map of messages keeps its entries in a plain object: an own `__proto__` entry is converted on its own and
 *   defined on the JSON map, and every message value is walked the same way.
 *
 * Without such keys the output is protobuf-es's, byte for byte (the direct-path tests compare it with connect's).
 */
import {
	type DescField,
	type DescMessage,
	type DescMethodServerStreaming,
	type DescMethodUnary,
	type JsonObject,
	type JsonReadOptions,
	type JsonValue,
	type JsonWriteOptions,
	type Message,
	toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
	createMethodSerializationLookup,
	getJsonOptions,
	limitSerialization,
	type Serialization,
} from "@connectrpc/connect/protocol";
import { defineKey, hasProtoKey } from "../prototype-keys.js";
import type { MethodSerialization } from "./direct-route.js";

const PROTO = "__proto__";
const encoder = new TextEncoder();

/** connect's serialization for `method` with JSON output that keeps `__proto__` keys (see the file comment). */
export function methodSerialization(
	method: DescMethodUnary | DescMethodServerStreaming,
	jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined,
	limits: { readMaxBytes: number; writeMaxBytes: number },
): MethodSerialization {
	const connect = createMethodSerializationLookup(
		method,
		undefined,
		jsonOptions,
		limits,
	);
	const outputJson = limitSerialization(
		prototypeSafeJsonSerialization(method.output, jsonOptions),
		limits,
	);
	return {
		getI: (binary) => connect.getI(binary),
		getO: (binary) => (binary ? connect.getO(true) : outputJson),
	};
}

/** JSON output of `desc` as connect's createJsonSerialization writes it, `__proto__` keys kept. */
function prototypeSafeJsonSerialization(
	desc: DescMessage,
	jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined,
): Serialization<Message> {
	const options = getJsonOptions(jsonOptions);
	return {
		parse: () => {
			throw new Error("output serialization only");
		},
		serialize(data: Message) {
			try {
				const json = prototypeSafeToJson(desc, data, options);
				return encoder.encode(JSON.stringify(json));
			} catch (e) {
				throw ConnectError.from(e, Code.Internal);
			}
		},
	};
}

/** protobuf-es's `toJson`, then every `__proto__` key of a map or Struct put back. */
export function prototypeSafeToJson(
	desc: DescMessage,
	message: unknown,
	options: Partial<JsonWriteOptions>,
): JsonValue {
	const json = toJson(desc, message as never, options);
	if (json !== null && typeof json === "object" && !Array.isArray(json))
		restore(desc, message as Record<string, unknown>, json, options);
	return json;
}

function restore(
	desc: DescMessage,
	message: Record<string, unknown>,
	json: JsonObject,
	options: Partial<JsonWriteOptions>,
): void {
	for (const field of desc.fields) {
		const value = fieldValue(field, message);
		if (value === undefined || value === null) continue;
		const name =
			options.useProtoFieldName === true ? field.name : field.jsonName;
		switch (field.fieldKind) {
			case "message": {
				const type = field.message.typeName;
				if (
					type === "google.protobuf.Struct" ||
					type === "google.protobuf.Value"
				) {
					// Held as its JSON form (see the file comment); only a key protobuf-es lost needs it back.
					if (hasProtoKey(value)) defineKey(json, name, value);
				} else if (!type.startsWith("google.protobuf.")) {
					const child = json[name];
					if (isObject(child))
						restore(
							field.message,
							value as Record<string, unknown>,
							child,
							options,
						);
				}
				break;
			}
			case "list": {
				if (field.listKind !== "message") break;
				if (field.message.typeName.startsWith("google.protobuf.")) break;
				const items = json[name];
				if (!Array.isArray(items)) break;
				(value as unknown[]).forEach((item, i) => {
					const child = items[i];
					if (isObject(child))
						restore(
							field.message,
							item as Record<string, unknown>,
							child,
							options,
						);
				});
				break;
			}
			case "map":
				restoreMap(
					field,
					value as Record<string, unknown>,
					json,
					name,
					options,
				);
				break;
		}
	}
}

function restoreMap(
	field: DescField & { fieldKind: "map" },
	map: Record<string, unknown>,
	json: JsonObject,
	name: string,
	options: Partial<JsonWriteOptions>,
): void {
	// Every map of the flagd responses holds messages (ResolveAll's `flags`); other maps are written as they are.
	if (field.mapKind !== "message") return;
	if (field.message.typeName.startsWith("google.protobuf.")) return;
	let jsonMap = json[name];
	if (Object.hasOwn(map, PROTO)) {
		// Rebuilt in the map's own key order, `__proto__` converted on its own.
		const written = isObject(jsonMap) ? jsonMap : {};
		const rebuilt: JsonObject = {};
		for (const key of Object.keys(map))
			defineKey(
				rebuilt,
				key,
				key === PROTO
					? prototypeSafeToJson(field.message, map[PROTO], options)
					: written[key],
			);
		defineKey(json, name, rebuilt);
		jsonMap = rebuilt;
	}
	if (!isObject(jsonMap)) return;
	for (const key of Object.keys(map)) {
		if (key === PROTO) continue;
		const child = jsonMap[key];
		if (isObject(child))
			restore(
				field.message,
				map[key] as Record<string, unknown>,
				child,
				options,
			);
	}
}

function fieldValue(
	field: DescField,
	message: Record<string, unknown>,
): unknown {
	if (field.oneof === undefined) return message[field.localName];
	const group = message[field.oneof.localName] as
		| { case?: string; value?: unknown }
		| undefined;
	return group?.case === field.localName ? group.value : undefined;
}

function isObject(value: unknown): value is JsonObject {
	return value !== null && typeof value === "object" && !Array.isArray(value);
}
