import { create, type DescMethod, type JsonObject } from "@bufbuild/protobuf";
import { createMethodSerializationLookup } from "@connectrpc/connect/protocol";
import {
	Service as EvaluationService,
	EventStreamResponseSchema,
	ResolveAllResponseSchema,
	ResolveObjectResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { describe, expect, it } from "@jest/globals";
import {
	eventStreamMessage,
	resolveAllMessage,
} from "../../api/evaluation/prototype-safe-messages.js";
import { prototypeSafeSerialization } from "./prototype-safe-json.js";

/** JSON text: a literal `__proto__` key in source code would set a prototype instead of a key. */
const KEYED =
	'{"__proto__":{"polluted":true,"constructor":"c"},"plain":[1,{"__proto__":"deep"}]}';

function jsonSerializer(method: DescMethod) {
	const inner = createMethodSerializationLookup(
		method as never,
		undefined,
		undefined,
		{
			readMaxBytes: 1 << 20,
			writeMaxBytes: 1 << 20,
		},
	);
	return {
		safe: prototypeSafeSerialization(
			inner,
			method.input,
			method.output,
			undefined,
		).getO(false),
		plain: inner.getO(false),
	};
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("prototypeSafeSerialization (Connect JSON)", () => {
	it("keeps __proto__ keys of a typed response's object value and metadata", () => {
		const { safe } = jsonSerializer(EvaluationService.method.resolveObject);
		const value = JSON.parse(KEYED) as JsonObject;
		const metadata = JSON.parse(
			'{"__proto__":"meta","scope":"s"}',
		) as JsonObject;
		const message = create(ResolveObjectResponseSchema, {
			value,
			variant: "v",
			reason: "STATIC",
			metadata,
		});
		expect(JSON.parse(text(safe.serialize(message as never)))).toStrictEqual(
			JSON.parse(
				`{"value":${KEYED},"reason":"STATIC","variant":"v","metadata":{"__proto__":"meta","scope":"s"}}`,
			),
		);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("writes the same bytes as connect when no such key is present", () => {
		const { safe, plain } = jsonSerializer(
			EvaluationService.method.resolveObject,
		);
		const message = create(ResolveObjectResponseSchema, {
			value: { a: { b: [1, "x", null] }, constructor: 1 },
			variant: "v",
			reason: "STATIC",
			metadata: { scope: "s" },
		});
		expect(text(safe.serialize(message as never))).toBe(
			text(plain.serialize(message as never)),
		);
	});

	it("keeps __proto__ flag keys, object keys and metadata keys of ResolveAll", () => {
		const { safe } = jsonSerializer(EvaluationService.method.resolveAll);
		const flags = JSON.parse(
			`{"__proto__":{"reason":"STATIC","variant":"on","value":{"case":"boolValue","value":true}},"o":{"reason":"STATIC","variant":"x","value":{"case":"objectValue","value":${KEYED}},"metadata":{"__proto__":1}}}`,
		) as Record<string, object>;
		const message = resolveAllMessage({
			flags,
			metadata: JSON.parse('{"__proto__":"top"}') as JsonObject,
		});
		const parsed = JSON.parse(text(safe.serialize(message as never)));
		expect(Object.keys(parsed.flags)).toEqual(["__proto__", "o"]);
		expect(
			Object.getOwnPropertyDescriptor(parsed.flags, "__proto__")?.value,
		).toStrictEqual(
			JSON.parse('{"reason":"STATIC","variant":"on","boolValue":true}'),
		);
		expect(parsed.flags.o.objectValue).toStrictEqual(JSON.parse(KEYED));
		expect(Object.keys(parsed.flags.o.metadata)).toEqual(["__proto__"]);
		expect(Object.keys(parsed.metadata)).toEqual(["__proto__"]);
		expect(create(ResolveAllResponseSchema).$typeName).toBe(
			"flagd.evaluation.v1.ResolveAllResponse",
		);
	});

	it("keeps __proto__ flag keys of an EventStream configuration_change", () => {
		const { safe } = jsonSerializer(EvaluationService.method.eventStream);
		const data = JSON.parse(
			'{"flags":{"__proto__":{"type":"update","source":""},"a":{"type":"write"}}}',
		) as JsonObject;
		const message = eventStreamMessage(EventStreamResponseSchema, {
			type: "configuration_change",
			data,
		});
		const framed = safe.serialize(message as never);
		const parsed = JSON.parse(text(framed));
		expect(parsed.type).toBe("configuration_change");
		expect(Object.keys(parsed.data.flags)).toEqual(["__proto__", "a"]);
	});
});
