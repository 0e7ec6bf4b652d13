import {
	create,
	type DescField,
	type DescMessage,
	equals,
	fromBinary,
	fromJson,
	type MessageShape,
	toBinary,
	toJson,
} from "@bufbuild/protobuf";
import { describe, expect, it } from "@jest/globals";
import { file_flagd_evaluation_v1_evaluation } from "./evaluation-v1.js";
import { file_flagd_evaluation_v2_evaluation } from "./evaluation-v2.js";
import { file_flagd_sync_v1_sync } from "./sync-v1.js";

// A Struct value that exercises every JSON kind, nested.
const sampleStruct = {
	str: "ü-text",
	num: 1.5,
	bool: true,
	nil: null,
	list: [1, "two", { three: 3 }],
	nested: { deeper: { key: "value" } },
};

/** Fills every field of a message with a non-zero value so a lost field cannot hide behind a default. */
function populate(desc: DescMessage): MessageShape<DescMessage> {
	const init: Record<string, unknown> = {};
	for (const field of desc.fields) {
		if (field.oneof !== undefined && field.oneof.fields[0] !== field) continue;
		const value = sampleFor(field);
		if (field.oneof !== undefined) {
			init[field.oneof.localName] = { case: field.localName, value };
		} else {
			init[field.localName] = value;
		}
	}
	return create(desc, init);
}

function sampleFor(field: DescField): unknown {
	switch (field.fieldKind) {
		case "scalar":
			return scalarSample(field.scalar);
		case "message":
			return field.message.typeName === "google.protobuf.Struct"
				? sampleStruct
				: populate(field.message);
		case "map":
			return field.mapKind === "message"
				? { alpha: populate(field.message), beta: populate(field.message) }
				: {};
		default:
			throw new Error(
				`no sample for field kind ${field.fieldKind} (${field.name})`,
			);
	}
}

function scalarSample(scalar: number): unknown {
	// ScalarType numbers: 1 double, 3 int64, 8 bool, 9 string.
	switch (scalar) {
		case 1:
			return 3.25;
		case 3:
			return BigInt("9007199254740993");
		case 8:
			return true;
		case 9:
			return "héllo, wörld";
		default:
			throw new Error(`no sample for scalar type ${scalar}`);
	}
}

const files = [
	file_flagd_evaluation_v1_evaluation,
	file_flagd_evaluation_v2_evaluation,
	file_flagd_sync_v1_sync,
];
const messages = files.flatMap((f) =>
	f.messages.map((m) => [m.typeName, m] as const),
);

describe("every generated message round-trips", () => {
	it("covers all messages of the three APIs", () => {
		// v1: ResolveAll req/resp, AnyFlag, 5 typed req/resp pairs, EventStream req/resp; v2: the same minus
		// ResolveAll; sync v1: three req/resp pairs.
		const perPackage: Record<string, number> = {};
		for (const [name] of messages) {
			const pkg = name.split(".").slice(0, 3).join(".");
			perPackage[pkg] = (perPackage[pkg] ?? 0) + 1;
		}
		expect(perPackage).toEqual({
			"flagd.evaluation.v1": 15,
			"flagd.evaluation.v2": 13,
			"flagd.sync.v1": 6,
		});
	});

	it.each(messages)("%s through binary", (_name, desc) => {
		const msg = populate(desc);
		const bytes = toBinary(desc, msg);
		const back = fromBinary(desc, bytes);
		expect(equals(desc, back, msg)).toBe(true);
	});

	it.each(messages)("%s through JSON", (_name, desc) => {
		const msg = populate(desc);
		const json = toJson(desc, msg);
		const back = fromJson(desc, json);
		expect(equals(desc, back, msg)).toBe(true);
	});
});
