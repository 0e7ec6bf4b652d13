import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
	EventStreamResponseSchema as EventV1,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { EventStreamResponseSchema as EventV2 } from "@flagd-ts/protocol/evaluation-v2";
import { fastMessageCodec } from "@flagd-ts/protocol/fast-message-codec";
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
			// A key-preserving decoder sees every key once protobuf's merge of the repeated field is applied.
			const decoded = fastMessageCodec(schema)?.decode(bytes) as {
				type: string;
				data: { flags: object };
			};
			expect(decoded.type).toBe("configuration_change");
			expect(Object.keys(decoded.data.flags)).toEqual(keys);
			// The plain encoding loses it: this is what the helper is for.
			const plain = fastMessageCodec(schema)?.decode(
				toBinary(schema, create(schema, event as never)),
			) as { data: { flags: object } };
			expect(Object.keys(plain.data.flags)).toEqual(["a", "constructor"]);
			// protobuf-es still decodes the message (without the key it cannot represent), and JSON is unchanged.
			const generic = fromBinary(schema, bytes);
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
