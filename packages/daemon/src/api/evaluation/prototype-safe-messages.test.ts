import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
	type Struct,
	StructSchema,
	type Value,
	ValueSchema,
} from "@bufbuild/protobuf/wkt";
import {
	EventStreamResponseSchema as EventV1,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { EventStreamResponseSchema as EventV2 } from "@flagd-ts/protocol/evaluation-v2";
import { describe, expect, it } from "@jest/globals";
import {
	eventStreamMessage,
	resolveAllMessage,
} from "./prototype-safe-messages.js";

/** `{flags: {<key>: {type}}}` with every key an own property, as the event stream builds it. */
function changeData(keys: readonly string[]) {
	const flags = {};
	for (const key of keys)
		Object.defineProperty(flags, key, {
			value: { type: "update" },
			enumerable: true,
			writable: true,
			configurable: true,
		});
	return { flags };
}

/** The entries of a map field `no` in `bytes`, key (field 1) to value bytes (field 2); a repeated key's last wins. */
function wireMap(bytes: Uint8Array, no: number): Map<string, Uint8Array> {
	const map = new Map<string, Uint8Array>();
	const reader = new BinaryReader(bytes);
	while (reader.pos < reader.len) {
		const [n, wireType] = reader.tag();
		if (n !== no || wireType !== WireType.LengthDelimited) {
			reader.skip(wireType);
			continue;
		}
		const entry = new BinaryReader(reader.bytes());
		let key = "";
		let value: Uint8Array = new Uint8Array();
		while (entry.pos < entry.len) {
			const [f, t] = entry.tag();
			if (f === 1) key = entry.string();
			else if (f === 2) value = entry.bytes();
			else entry.skip(t);
		}
		map.set(key, value);
	}
	return map;
}

/** Every occurrence of length-delimited field `no`, concatenated: protobuf's merge of a repeated message field. */
function mergedField(bytes: Uint8Array, no: number): Uint8Array {
	const parts: Uint8Array[] = [];
	const reader = new BinaryReader(bytes);
	while (reader.pos < reader.len) {
		const [n, wireType] = reader.tag();
		if (n === no && wireType === WireType.LengthDelimited)
			parts.push(reader.bytes());
		else reader.skip(wireType);
	}
	const merged = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
	let at = 0;
	for (const part of parts) {
		merged.set(part, at);
		at += part.length;
	}
	return merged;
}

/**
 * The keys of `data.flags` in an EventStream response as a protobuf decoder that keeps every map key (Go's) reads
 * them: `data` (field 2) merged over its occurrences, the Struct's `fields` (1) entry "flags", its Value's
 * `struct_value` (5), that Struct's `fields` keys.
 */
function wireFlagKeys(bytes: Uint8Array): string[] {
	const flags = wireMap(mergedField(bytes, 2), 1).get("flags");
	if (flags === undefined) return [];
	return [...wireMap(mergedField(flags, 5), 1).keys()];
}

describe("eventStreamMessage", () => {
	it("passes events without a __proto__ key through untouched", () => {
		const event = { type: "configuration_change", data: changeData(["a"]) };
		expect(eventStreamMessage(EventV1, event)).toBe(event);
		const ready = { type: "provider_ready", data: {} };
		expect(eventStreamMessage(EventV1, ready)).toBe(ready);
	});

	it.each([
		["v1", EventV1],
		["v2", EventV2],
	] as const)(
		"keeps a __proto__ flag key on the binary wire (%s)",
		(_v, schema) => {
			const keys = ["a", "__proto__", "constructor"];
			const event = { type: "configuration_change", data: changeData(keys) };
			const bytes = toBinary(
				schema,
				eventStreamMessage(schema, event) as never,
			);
			// A decoder that keeps every key sees all of them once protobuf's merge of the repeated field is applied.
			expect(wireFlagKeys(bytes)).toEqual(keys);
			// The plain encoding loses it: this is what the helper is for.
			const plain = toBinary(schema, create(schema, event as never));
			expect(wireFlagKeys(plain)).toEqual(["a", "constructor"]);
			// protobuf-es still decodes the message (the key moves into the prototype), and JSON is unchanged.
			const generic = fromBinary(schema, bytes);
			expect(generic.type).toBe("configuration_change");
			expect(Object.keys((generic.data as { flags: object }).flags)).toEqual([
				"a",
				"constructor",
			]);
			expect(
				toJson(schema, eventStreamMessage(schema, event) as never),
			).toEqual({
				type: "configuration_change",
				data: {
					flags: { a: { type: "update" }, constructor: { type: "update" } },
				},
			});
		},
	);

	it("keeps __proto__ keys at any depth and every JSON value kind", () => {
		const nested = {};
		Object.defineProperty(nested, "__proto__", {
			value: { list: [1, "two", true, null, { x: 1 }] },
			enumerable: true,
			writable: true,
			configurable: true,
		});
		const event = {
			type: "configuration_change",
			data: { flags: { a: nested } },
		};
		const bytes = toBinary(
			EventV2,
			eventStreamMessage(EventV2, event) as never,
		);
		const data = mergedField(bytes, 2);
		const a = wireMap(
			mergedField(wireMap(data, 1).get("flags") ?? data, 5),
			1,
		).get("a");
		const aKeys = [...wireMap(mergedField(a ?? data, 5), 1).keys()];
		expect(aKeys).toEqual(["__proto__"]);
		// protobuf-es reads the merged Struct back with the entry as the prototype of `a`'s map, values intact.
		const struct = fromBinary(StructSchema, data);
		const flags = struct.fields.flags?.kind.value as Struct;
		const aStruct = flags.fields.a?.kind.value as Struct;
		const proto = Object.getPrototypeOf(aStruct.fields) as Value;
		expect(toJson(ValueSchema, proto as never)).toEqual({
			list: [1, "two", true, null, { x: 1 }],
		});
	});
});

/** The keys of ResolveAll's `flags` map as they are on the wire (field 1, map entries with key field 1). */
function wireMapKeys(bytes: Uint8Array): string[] {
	const keys: string[] = [];
	const reader = new BinaryReader(bytes);
	while (reader.pos < reader.len) {
		const [no, wireType] = reader.tag();
		if (no !== 1 || wireType !== WireType.LengthDelimited) {
			reader.skip(wireType);
			continue;
		}
		const entry = new BinaryReader(reader.bytes());
		while (entry.pos < entry.len) {
			const [n, t] = entry.tag();
			if (n === 1) keys.push(entry.string());
			else entry.skip(t);
		}
	}
	return keys;
}

describe("resolveAllMessage", () => {
	const entry = {
		reason: "STATIC",
		variant: "on",
		value: { case: "boolValue" as const, value: true },
		metadata: {},
	};

	it("returns a response without a __proto__ key as it is", () => {
		const init = { flags: { a: entry }, metadata: {} };
		expect(resolveAllMessage(init)).toBe(init);
	});

	it("keeps a __proto__ flag key in the encoded flags map", () => {
		const flags: Record<string, typeof entry> = {};
		for (const key of ["__proto__", "constructor", "b"])
			Object.defineProperty(flags, key, {
				value: entry,
				enumerable: true,
				writable: true,
				configurable: true,
			});
		const message = resolveAllMessage({ flags, metadata: {} });
		const bytes = toBinary(ResolveAllResponseSchema, message as never);
		expect(wireMapKeys(bytes)).toEqual(["__proto__", "constructor", "b"]);
		expect(
			wireMapKeys(
				toBinary(
					ResolveAllResponseSchema,
					create(ResolveAllResponseSchema, { flags, metadata: {} } as never),
				),
			),
		).toEqual(["constructor", "b"]);
	});
});
