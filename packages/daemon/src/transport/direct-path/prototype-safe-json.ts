/**
 * Connect JSON that keeps keys named `__proto__`. protobuf-es writes JSON objects (map fields, Structs) by
 * assignment, so such a key is dropped from its JSON encoding. The proto3 JSON form of a `google.protobuf.Struct`
 * is the plain JSON object, and `JSON.stringify` writes own `__proto__` properties: where a Struct field or a map
 * field holds such a key, its JSON is taken from the message's own (JSON-form) data instead. Everything else is
 * protobuf-es's `toJson`, and a message without such a key is serialized by connect's serializer untouched (same
 * bytes as before). The check costs one WeakMap lookup per Struct object (flag values and metadata are shared
 * objects of a flag-set version), and builders that produce keyed messages mark them ({@link markPrototypeKeyed}).
 */
import {
	type DescField,
	type DescMessage,
	type JsonObject,
	type JsonValue,
	type JsonWriteOptions,
	type JsonWriteStringOptions,
	toJson,
} from "@bufbuild/protobuf";
import type {
	MethodSerializationLookup,
	Serialization,
} from "@connectrpc/connect/protocol";
import { defineKey, structFieldFromBinary } from "@flagd-ts/protocol";

/** connect's serializations of one method (the same type as direct-route.ts's MethodSerialization). */
type MethodSerialization = MethodSerializationLookup<DescMessage, DescMessage>;

const PROTO = "__proto__";
const STRUCT = "google.protobuf.Struct";

/** Messages known to hold a `__proto__` key in a map or Struct at some depth. */
const keyedMessages = new WeakSet<object>();
/** JSON objects and arrays → whether they hold an own `__proto__` key at any depth. */
const keyedJson = new WeakMap<object, boolean>();

/** Marks a message built with a `__proto__` map or Struct key, so its JSON encoding keeps it. */
export function markPrototypeKeyed<T extends object>(message: T): T {
	keyedMessages.add(message);
	return message;
}

/** Whether `message` was marked by {@link markPrototypeKeyed}. */
export function isPrototypeKeyed(message: unknown): boolean {
	return (
		typeof message === "object" &&
		message !== null &&
		keyedMessages.has(message)
	);
}

/** Whether a JSON value holds an own `__proto__` key at any depth (cached per object). */
export function jsonHasProtoKey(value: unknown): boolean {
	if (value === null || typeof value !== "object") return false;
	const cached = keyedJson.get(value);
	if (cached !== undefined) return cached;
	const keyed = Array.isArray(value)
		? value.some(jsonHasProtoKey)
		: Object.hasOwn(value, PROTO) || Object.values(value).some(jsonHasProtoKey);
	keyedJson.set(value, keyed);
	return keyed;
}

/** The value of `field` in `message` when set (a oneof member only when it is the selected case). */
function fieldValue(message: object, field: DescField): unknown {
	const record = message as Record<string, unknown>;
	if (field.oneof !== undefined) {
		const oneof = record[field.oneof.localName] as
			| { case?: string; value?: unknown }
			| undefined;
		return oneof?.case === field.localName ? oneof.value : undefined;
	}
	return record[field.localName];
}

function isStructField(field: DescField): boolean {
	return field.fieldKind === "message" && field.message.typeName === STRUCT;
}

/** Whether a message's JSON encoding would drop a `__proto__` key (its own Struct fields, or marked). */
export function messageHasProtoKey(
	schema: DescMessage,
	message: object,
): boolean {
	if (keyedMessages.has(message)) return true;
	for (const field of schema.fields) {
		if (isStructField(field) && jsonHasProtoKey(fieldValue(message, field)))
			return true;
	}
	return false;
}

/**
 * The proto3 JSON of `message` with every `__proto__` key of its Struct fields and message-valued map fields kept
 * (see the file comment); nested messages of such maps are handled the same way.
 */
export function prototypeSafeToJson(
	schema: DescMessage,
	message: object,
	options?: Partial<JsonWriteOptions>,
): JsonValue {
	const json = toJson(schema, message as never, options) as JsonObject;
	for (const field of schema.fields) {
		const value = fieldValue(message, field);
		if (value === undefined || value === null) continue;
		const name = options?.useProtoFieldName ? field.name : field.jsonName;
		if (isStructField(field)) {
			if (jsonHasProtoKey(value)) defineKey(json, name, value);
		} else if (field.fieldKind === "map" && field.mapKind === "message") {
			const map = value as Record<string, object>;
			const keys = Object.keys(map);
			if (
				!keys.some(
					(key) =>
						key === PROTO ||
						messageHasProtoKey(field.message, map[key] as object),
				)
			)
				continue;
			const out: JsonObject = {};
			for (const key of keys)
				defineKey(
					out,
					key,
					prototypeSafeToJson(field.message, map[key] as object, options),
				);
			defineKey(json, name, out);
		}
	}
	return json;
}

/**
 * connect's serialization for a method, whose JSON output keeps `__proto__` keys (see the file comment); binary
 * and every message without such a key go through connect's serializer unchanged.
 */
export function prototypeSafeSerialization(
	lookup: MethodSerialization,
	inputSchema: DescMessage,
	output: DescMessage,
	jsonOptions:
		| (Partial<JsonWriteStringOptions> & {
				textEncoder?: { encode(s: string): Uint8Array<ArrayBuffer> };
		  })
		| undefined,
): MethodSerialization {
	const json = lookup.getO(false);
	const encoder = jsonOptions?.textEncoder ?? new TextEncoder();
	const input = lookup.getI(false);
	const inputBinary = lookup.getI(true);
	const safeJson: Serialization<unknown> = {
		parse: (data) => json.parse(data),
		serialize(message) {
			if (!messageHasProtoKey(output, message as object))
				return json.serialize(message as never);
			return encoder.encode(
				JSON.stringify(
					prototypeSafeToJson(output, message as object, jsonOptions),
					null,
					jsonOptions?.prettySpaces ?? 0,
				),
			);
		},
	};
	const safeInput: Serialization<unknown> = {
		parse(data) {
			const message = input.parse(data) as Record<string, unknown>;
			if (mayHoldProtoKey(data, true))
				restoreJsonStructs(inputSchema, message, data);
			return message;
		},
		serialize: (message) => input.serialize(message as never),
	};
	const safeInputBinary: Serialization<unknown> = {
		parse(data) {
			const message = inputBinary.parse(data) as Record<string, unknown>;
			if (mayHoldProtoKey(data, false))
				restoreBinaryStructs(inputSchema, message, data);
			return message;
		},
		serialize: (message) => inputBinary.serialize(message as never),
	};
	return {
		getI: (binary) => (binary ? safeInputBinary : safeInput),
		getO: (binary) => (binary ? lookup.getO(true) : safeJson),
	} as MethodSerialization;
}

const PROTO_BYTES = Buffer.from(PROTO);
const ESCAPE_BYTES = Buffer.from("\\u");

/**
 * Whether request bytes may hold a `__proto__` key: the key's bytes appear literally in binary map entries and in
 * JSON text (unless escaped, hence the `\u` check for JSON). A miss costs one byte search.
 */
function mayHoldProtoKey(data: Uint8Array, json: boolean): boolean {
	const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	return (
		buffer.includes(PROTO_BYTES) || (json && buffer.includes(ESCAPE_BYTES))
	);
}

/**
 * Request Structs (the evaluation context) from the JSON body itself: protobuf-es's fromJson drops a `__proto__`
 * key, JSON.parse keeps it as an own property, and the proto3 JSON form of a Struct is the plain object.
 */
function restoreJsonStructs(
	schema: DescMessage,
	message: Record<string, unknown>,
	data: Uint8Array,
): void {
	const body: unknown = JSON.parse(new TextDecoder().decode(data));
	if (body === null || typeof body !== "object" || Array.isArray(body)) return;
	for (const field of schema.fields) {
		if (!isStructField(field) || field.oneof !== undefined) continue;
		for (const name of [field.jsonName, field.name]) {
			if (!Object.hasOwn(body, name)) continue;
			const value = (body as Record<string, unknown>)[name];
			if (
				value !== null &&
				typeof value === "object" &&
				!Array.isArray(value) &&
				jsonHasProtoKey(value)
			)
				message[field.localName] = value;
		}
	}
}

/** Request Structs from the binary body with every key (struct-json.ts in @flagd-ts/protocol). */
function restoreBinaryStructs(
	schema: DescMessage,
	message: Record<string, unknown>,
	data: Uint8Array,
): void {
	for (const field of schema.fields) {
		if (!isStructField(field) || field.oneof !== undefined) continue;
		const value = structFieldFromBinary(data, field.number);
		if (value !== undefined && jsonHasProtoKey(value))
			message[field.localName] = value;
	}
}
