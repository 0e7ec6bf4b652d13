import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
	type Struct,
	StructSchema,
	type Value,
	ValueSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "@jest/globals";
import { structEntries, structToJson } from "./struct-json.js";

function define(target: object, key: string, value: unknown): void {
	Object.defineProperty(target, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}

/** A Struct message whose map has `entries` as own keys (what a key-preserving encoder, e.g. Go's, sends). */
function struct(entries: [string, Value][]): Struct {
	const message = create(StructSchema);
	const fields: Struct["fields"] = {};
	for (const [key, value] of entries) define(fields, key, value);
	message.fields = fields;
	return message;
}

const str = (value: string) =>
	create(ValueSchema, { kind: { case: "stringValue", value } });
const nested = (s: Struct) =>
	create(ValueSchema, { kind: { case: "structValue", value: s } });

/** Encoded and decoded by protobuf-es, as the provider receives it. */
const roundTrip = (s: Struct) =>
	fromBinary(StructSchema, toBinary(StructSchema, s));

describe("structEntries", () => {
	it("recovers the __proto__ entry protobuf-es moved into the prototype", () => {
		const decoded = roundTrip(
			struct([
				["a", str("1")],
				["__proto__", str("2")],
				["constructor", str("3")],
			]),
		);
		// What protobuf-es does: the key is gone and the prototype is the entry's value.
		expect(Object.keys(decoded.fields)).toEqual(["a", "constructor"]);
		expect(
			structEntries(decoded.fields).map(([k, v]) => [k, v.kind.value]),
		).toEqual([
			["a", "1"],
			["constructor", "3"],
			["__proto__", "2"],
		]);
	});

	it("lists a map without the key as it is", () => {
		const decoded = roundTrip(struct([["a", str("1")]]));
		expect(structEntries(decoded.fields).map(([k]) => k)).toEqual(["a"]);
		expect(structEntries({}).map(([k]) => k)).toEqual([]);
	});

	it("reads an own __proto__ key as the entry", () => {
		const fields = struct([["__proto__", str("own")]]).fields;
		expect(structEntries(fields).map(([k, v]) => [k, v.kind.value])).toEqual([
			["__proto__", "own"],
		]);
	});
});

describe("structToJson", () => {
	it("keeps __proto__ keys at every level as own properties", () => {
		const inner = struct([
			[
				"__proto__",
				create(ValueSchema, { kind: { case: "numberValue", value: 1 } }),
			],
			[
				"list",
				create(ValueSchema, {
					kind: {
						case: "listValue",
						value: {
							values: [
								create(ValueSchema, {
									kind: { case: "boolValue", value: true },
								}),
								create(ValueSchema, { kind: { case: "nullValue", value: 0 } }),
								nested(struct([["__proto__", str("deep")]])),
							],
						},
					},
				}),
			],
		]);
		const json = structToJson(
			roundTrip(
				struct([["flags", nested(struct([["__proto__", nested(inner)]]))]]),
			),
		);
		const flags = json.flags as Record<string, Record<string, unknown>>;
		expect(Object.getPrototypeOf(flags)).toBe(Object.prototype);
		expect(Object.keys(flags)).toEqual(["__proto__"]);
		const proto = Object.getOwnPropertyDescriptor(flags, "__proto__")
			?.value as Record<string, unknown>;
		expect(Object.keys(proto)).toEqual(["list", "__proto__"]);
		expect(Object.getOwnPropertyDescriptor(proto, "__proto__")?.value).toBe(1);
		const list = proto.list as unknown[];
		expect(list.slice(0, 2)).toEqual([true, null]);
		const deep = list[2] as object;
		expect(Object.getOwnPropertyDescriptor(deep, "__proto__")?.value).toBe(
			"deep",
		);
		expect(JSON.stringify(json)).toBe(
			'{"flags":{"__proto__":{"list":[true,null,{"__proto__":"deep"}],"__proto__":1}}}',
		);
	});
});
