import {
	create,
	createFileRegistry,
	type DescField,
	type DescMessage,
	fromBinary,
	type JsonObject,
	type JsonValue,
	ScalarType,
	toBinary,
} from "@bufbuild/protobuf";
import {
	FieldDescriptorProto_Label,
	FieldDescriptorProto_Type,
	FileDescriptorProtoSchema,
	ListValueSchema,
	StructSchema,
	TimestampSchema,
	ValueSchema,
} from "@bufbuild/protobuf/wkt";
import {
	EvaluationServiceV1,
	EvaluationServiceV2,
	FlagSyncService,
} from "@flagd-ts/protocol";
import { AnyFlagSchema as AnyFlagV1Schema } from "@flagd-ts/protocol/evaluation-v1";
import { AnyFlagSchema as AnyFlagV2Schema } from "@flagd-ts/protocol/evaluation-v2";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { fastMessageCodec } from "./fast-message-codec.js";

// Hand-built descriptors for the field kinds and numbers the flagd protos do not contain.
const registry = createFileRegistry(
	create(FileDescriptorProtoSchema, {
		name: "codec_test.proto",
		package: "codectest",
		syntax: "proto3",
		messageType: [
			{ name: "Fifteen", field: [scalarField("s", 15, "STRING")] },
			// Tag of field 16 needs two bytes; the codec writes tags as one byte, so it must refuse.
			{ name: "Sixteen", field: [scalarField("s", 16, "STRING")] },
			{ name: "WithBytes", field: [scalarField("b", 1, "BYTES")] },
			{ name: "WithFloat", field: [scalarField("f", 1, "FLOAT")] },
			{ name: "WithUint32", field: [scalarField("u", 1, "UINT32")] },
			{
				name: "WithRepeated",
				field: [
					{
						...scalarField("r", 1, "STRING"),
						label: FieldDescriptorProto_Label.REPEATED,
					},
				],
			},
			{
				name: "WithNested",
				field: [
					{
						...scalarField("n", 1, "MESSAGE"),
						typeName: ".codectest.Fifteen",
					},
				],
			},
		],
	}),
	() => undefined,
);

function scalarField(
	name: string,
	number: number,
	type: keyof typeof FieldDescriptorProto_Type,
) {
	return {
		name,
		number,
		jsonName: name,
		type: FieldDescriptorProto_Type[type],
		label: FieldDescriptorProto_Label.OPTIONAL,
	};
}

function testMessage(name: string): DescMessage {
	const desc = registry.getMessage(`codectest.${name}`);
	if (desc === undefined) throw new Error(`no message ${name}`);
	return desc;
}

/** Every request and response schema of the unary and streaming methods of the three services. */
function serviceSchemas(): DescMessage[] {
	const seen = new Map<string, DescMessage>();
	for (const service of [
		EvaluationServiceV1,
		EvaluationServiceV2,
		FlagSyncService,
	]) {
		for (const method of service.methods) {
			seen.set(method.input.typeName, method.input);
			seen.set(method.output.typeName, method.output);
		}
	}
	return [...seen.values()];
}

// Whether each schema gets a codec, stated per schema so a change in the protos or in the codec's rules shows here.
const codecExpected: Record<string, boolean> = {
	"flagd.evaluation.v1.ResolveAllRequest": true,
	// map<string, AnyFlag> flags: maps stay on @bufbuild/protobuf.
	"flagd.evaluation.v1.ResolveAllResponse": false,
	"flagd.evaluation.v1.ResolveBooleanRequest": true,
	"flagd.evaluation.v1.ResolveBooleanResponse": true,
	"flagd.evaluation.v1.ResolveStringRequest": true,
	"flagd.evaluation.v1.ResolveStringResponse": true,
	"flagd.evaluation.v1.ResolveFloatRequest": true,
	"flagd.evaluation.v1.ResolveFloatResponse": true,
	"flagd.evaluation.v1.ResolveIntRequest": true,
	"flagd.evaluation.v1.ResolveIntResponse": true,
	"flagd.evaluation.v1.ResolveObjectRequest": true,
	"flagd.evaluation.v1.ResolveObjectResponse": true,
	"flagd.evaluation.v1.EventStreamRequest": true,
	"flagd.evaluation.v1.EventStreamResponse": true,
	"flagd.evaluation.v2.ResolveBooleanRequest": true,
	"flagd.evaluation.v2.ResolveBooleanResponse": true,
	"flagd.evaluation.v2.ResolveStringRequest": true,
	"flagd.evaluation.v2.ResolveStringResponse": true,
	"flagd.evaluation.v2.ResolveFloatRequest": true,
	"flagd.evaluation.v2.ResolveFloatResponse": true,
	"flagd.evaluation.v2.ResolveIntRequest": true,
	"flagd.evaluation.v2.ResolveIntResponse": true,
	"flagd.evaluation.v2.ResolveObjectRequest": true,
	"flagd.evaluation.v2.ResolveObjectResponse": true,
	"flagd.evaluation.v2.EventStreamRequest": true,
	"flagd.evaluation.v2.EventStreamResponse": true,
	// The sync messages are flat too (strings, an optional Struct, a reserved number): all get a codec.
	"flagd.sync.v1.SyncFlagsRequest": true,
	"flagd.sync.v1.SyncFlagsResponse": true,
	"flagd.sync.v1.FetchAllFlagsRequest": true,
	"flagd.sync.v1.FetchAllFlagsResponse": true,
	"flagd.sync.v1.GetMetadataRequest": true,
	"flagd.sync.v1.GetMetadataResponse": true,
};

const withCodec = serviceSchemas().filter(
	(desc) => codecExpected[desc.typeName] === true,
);
// Beyond the service schemas: int32 (Timestamp.nanos) and the highest one-byte tag.
const propertySchemas: DescMessage[] = [
	...withCodec,
	TimestampSchema,
	testMessage("Fifteen"),
];

function codecOf(desc: DescMessage) {
	const codec = fastMessageCodec(desc);
	if (codec === undefined) throw new Error(`no codec for ${desc.typeName}`);
	return codec;
}

/** What fromBinary returns, without the unknown-field bookkeeping the codec does not keep. */
function reference(desc: DescMessage, bytes: Uint8Array): unknown {
	const { $unknown: _, ...rest } = fromBinary(desc, bytes) as Record<
		string,
		unknown
	>;
	return rest;
}

/** Byte equality; Jest's element-wise diff of 16 KiB arrays would dominate the run time, so compare as hex. */
function expectSameBytes(
	actual: Uint8Array | undefined,
	expected: Uint8Array,
): void {
	if (actual === undefined) throw new Error("the codec declined the value");
	const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
	const e = Buffer.from(
		expected.buffer,
		expected.byteOffset,
		expected.byteLength,
	);
	if (!a.equals(e)) expect(a.toString("hex")).toBe(e.toString("hex"));
}

function concat(...parts: Uint8Array[]): Uint8Array {
	return Uint8Array.from(Buffer.concat(parts));
}

// ---- generators -------------------------------------------------------------------------------------------------

const shortText = fc.oneof(
	fc.string({ unit: "grapheme", maxLength: 12 }),
	fc.string({ unit: "binary", maxLength: 12 }),
	fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
	// Lone surrogates: both encoders must write U+FFFD for them.
	fc.constantFrom("\ud800", "a\udfffb"),
);
const text = fc.oneof(
	{ weight: 6, arbitrary: shortText },
	// >127 bytes: two-byte length varint, on the ASCII path and on the path for short non-ASCII strings.
	{
		weight: 1,
		arbitrary: fc.string({
			unit: "grapheme-ascii",
			minLength: 128,
			maxLength: 400,
		}),
	},
	{
		weight: 1,
		arbitrary: fc.string({ unit: "grapheme", minLength: 45, maxLength: 127 }),
	},
	// >16 KiB: three-byte length varint.
	{
		weight: 1,
		arbitrary: fc
			.tuple(
				fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }),
				fc.integer({ min: 16 * 1024, max: 20 * 1024 }),
			)
			.map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length))),
	},
);
const double = fc.oneof(
	fc.double(),
	fc.integer(),
	fc.constantFrom(
		0,
		-0,
		Number.NaN,
		Number.POSITIVE_INFINITY,
		Number.NEGATIVE_INFINITY,
		Number.MIN_VALUE,
		Number.MAX_VALUE,
	),
);
const int64 = fc.oneof(
	fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
	fc.constantFrom(0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n)),
);
const int32 = fc.oneof(
	fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
	fc.constantFrom(0, -1, -(2 ** 31), 2 ** 31 - 1),
);
// protobuf-es turns a `__proto__` key into a prototype; that case has its own tests.
const key = shortText.filter((k) => k !== "__proto__");
const { object } = fc.letrec<{ json: JsonValue; object: JsonObject }>(
	(tie) => ({
		json: fc.oneof(
			{ depthSize: "small" },
			fc.constant(null),
			fc.boolean(),
			double,
			text,
			fc.array(tie("json"), { maxLength: 4 }),
			tie("object"),
		),
		object: fc.dictionary(key, tie("json"), { maxKeys: 5 }),
	}),
);

function fieldValue(f: DescField): fc.Arbitrary<unknown> {
	if (f.fieldKind === "message") return object;
	if (f.fieldKind !== "scalar") throw new Error(`unexpected ${f.toString()}`);
	switch (f.scalar) {
		case ScalarType.STRING:
			return text;
		case ScalarType.BOOL:
			return fc.boolean();
		case ScalarType.DOUBLE:
			return double;
		case ScalarType.INT64:
			return int64;
		case ScalarType.INT32:
			return int32;
		default:
			throw new Error(`unexpected ${f.toString()}`);
	}
}

/** An init object: every field sometimes absent, sometimes explicitly undefined, otherwise a generated value. */
function initOf(desc: DescMessage): fc.Arbitrary<Record<string, unknown>> {
	const fields: Record<string, fc.Arbitrary<unknown>> = {};
	for (const f of desc.fields) {
		fields[f.localName] = fc.option(fieldValue(f), {
			nil: undefined,
			freq: 4,
		});
	}
	return fc.record(fields, { requiredKeys: [] });
}

// ---- tests ------------------------------------------------------------------------------------------------------

describe("fastMessageCodec: which schemas get a codec", () => {
	it.each(serviceSchemas().map((desc) => [desc.typeName, desc] as const))(
		"%s",
		(typeName, desc) => {
			expect(codecExpected).toHaveProperty([typeName]);
			expect(fastMessageCodec(desc) !== undefined).toBe(
				codecExpected[typeName],
			);
		},
	);

	it.each([
		["oneof (v1 AnyFlag)", false, AnyFlagV1Schema],
		["oneof (v2 AnyFlag)", false, AnyFlagV2Schema],
		["map (Struct)", false, StructSchema],
		["oneof (Value)", false, ValueSchema],
		["repeated message (ListValue)", false, ListValueSchema],
		["field number 16", false, testMessage("Sixteen")],
		["bytes", false, testMessage("WithBytes")],
		["float", false, testMessage("WithFloat")],
		["uint32", false, testMessage("WithUint32")],
		["repeated string", false, testMessage("WithRepeated")],
		["message other than Struct", false, testMessage("WithNested")],
		["field number 15", true, testMessage("Fifteen")],
		["int64 + int32 (Timestamp)", true, TimestampSchema],
	] as const)("%s → codec %p", (_name, expected, desc) => {
		expect(fastMessageCodec(desc) !== undefined).toBe(expected);
	});

	it("hands out one codec per schema", () => {
		const desc = EvaluationServiceV2.method.resolveString.input;
		expect(fastMessageCodec(desc)).toBe(fastMessageCodec(desc));
	});
});

describe.each(propertySchemas.map((desc) => [desc.typeName, desc] as const))(
	"fastMessageCodec(%s)",
	(_typeName, desc) => {
		const codec = codecOf(desc);
		const init = initOf(desc);

		it("encodes an init object to exactly the bytes of toBinary(create())", () => {
			fc.assert(
				fc.property(init, (value) => {
					const expected = toBinary(desc, create(desc, value));
					expectSameBytes(codec.encode(value), expected);
					// The transport also passes ready-made messages.
					expectSameBytes(codec.encode(create(desc, value)), expected);
				}),
			);
		});

		it("decodes to what fromBinary returns", () => {
			fc.assert(
				fc.property(init, (value) => {
					const bytes = toBinary(desc, create(desc, value));
					expect(codec.decode(bytes)).toEqual(reference(desc, bytes));
				}),
			);
		});

		it("leaves `reserve` free bytes in front of the same encoding", () => {
			fc.assert(
				fc.property(init, (value) => {
					const plain = encoded(codec.encode(value));
					const framed = encoded(codec.encode(value, 5));
					expect(framed.length).toBe(plain.length + 5);
					expectSameBytes(framed.subarray(5), plain);
				}),
			);
		});

		it("merges a repeated message like fromBinary (two encodings concatenated)", () => {
			fc.assert(
				fc.property(init, init, (a, b) => {
					const bytes = concat(
						toBinary(desc, create(desc, a)),
						toBinary(desc, create(desc, b)),
					);
					expect(codec.decode(bytes)).toEqual(reference(desc, bytes));
				}),
			);
		});
	},
);

describe("fastMessageCodec: decoding details", () => {
	const stringResponseV1 = EvaluationServiceV1.method.resolveString.output;
	const stringRequestV2 = EvaluationServiceV2.method.resolveString.input;
	const floatResponseV1 = EvaluationServiceV1.method.resolveFloat.output;
	const floatResponseV2 = EvaluationServiceV2.method.resolveFloat.output;

	it("keeps -0 and NaN of doubles, with implicit and explicit presence", () => {
		for (const desc of [floatResponseV1, floatResponseV2]) {
			const codec = codecOf(desc);
			for (const value of [-0, Number.NaN]) {
				const bytes = encoded(codec.encode({ value }));
				expectSameBytes(bytes, toBinary(desc, create(desc, { value })));
				// Written in both cases: -0 and NaN are not the implicit zero value.
				expect(bytes.length).toBe(9);
				expect(Object.is(codec.decode(bytes).value, value)).toBe(true);
			}
		}
	});

	it("fills implicit fields with their zero value and leaves explicit ones undefined", () => {
		expect(codecOf(stringResponseV1).decode(new Uint8Array(0))).toEqual({
			$typeName: "flagd.evaluation.v1.ResolveStringResponse",
			value: "",
			reason: "",
			variant: "",
			metadata: undefined,
		});
		const v2 = codecOf(EvaluationServiceV2.method.resolveInt.output).decode(
			new Uint8Array(0),
		);
		expect(v2.value).toBeUndefined();
		expect(v2.variant).toBeUndefined();
		expect(v2.reason).toBe("");
	});

	it("skips unknown fields of every wire type, at the top and inside a Struct", () => {
		const codec = codecOf(stringRequestV2);
		const valid = toBinary(
			stringRequestV2,
			create(stringRequestV2, {
				flagKey: "my-flag",
				context: { a: "b", n: 1 },
			}),
		);
		const unknown = Uint8Array.from([
			// field 100, varint 300
			0xa0, 0x06, 0xac, 0x02,
			// field 99, fixed64
			0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,
			// field 98, length-delimited "xyz"
			0x92, 0x06, 3, 0x78, 0x79, 0x7a,
			// field 97, fixed32
			0x8d, 0x06, 1, 2, 3, 4,
		]);
		for (const bytes of [concat(valid, unknown), concat(unknown, valid)]) {
			const decoded = codec.decode(bytes);
			expect(decoded).toEqual(reference(stringRequestV2, bytes));
			expect(decoded).toEqual({
				$typeName: "flagd.evaluation.v2.ResolveStringRequest",
				flagKey: "my-flag",
				context: { a: "b", n: 1 },
			});
		}
		// context (field 2) = Struct { unknown field 3 = varint 1; fields: { "k": Value { unknown field 9; string "v" } } }
		const nested = Uint8Array.from([
			0x12, 15, 0x18, 0x01, 0x0a, 11, 0x0a, 1, 0x6b, 0x12, 6, 0x48, 0x01, 0x1a,
			2, 0x76, 0x31,
		]);
		expect(codec.decode(nested)).toEqual(reference(stringRequestV2, nested));
		expect(codec.decode(nested).context).toEqual({ k: "v1" });
	});

	it("throws on every prefix that cuts inside a length-delimited field, and agrees with fromBinary elsewhere", () => {
		const codec = codecOf(stringRequestV2);
		const flagKey = "ü".repeat(150); // 300 bytes: two-byte length
		const bytes = encoded(
			codec.encode({ flagKey, context: { k: "x".repeat(200) } }),
		);
		expectSameBytes(
			bytes,
			toBinary(
				stringRequestV2,
				create(stringRequestV2, { flagKey, context: { k: "x".repeat(200) } }),
			),
		);
		// Layout: tag(1) len(2) key(300) | tag(1) len(2) struct…
		const keyEnd = 3 + 300;
		for (let end = 1; end < bytes.length; end++) {
			const prefix = bytes.subarray(0, end);
			let expected: unknown;
			let referenceThrew = false;
			try {
				expected = reference(stringRequestV2, prefix);
			} catch {
				referenceThrew = true;
			}
			if (referenceThrew) {
				expect(() => codec.decode(prefix)).toThrow();
			} else {
				expect(codec.decode(prefix)).toEqual(expected);
			}
			const insideKey = end < keyEnd;
			const insideContext = end > keyEnd && end < bytes.length;
			if (insideKey || insideContext) {
				expect(() => codec.decode(prefix)).toThrow(/premature end/);
			}
		}
	});
});

describe("fastMessageCodec: __proto__ keys in a Struct", () => {
	const desc = EvaluationServiceV2.method.resolveObject.output;
	const codec = codecOf(desc);
	const attack = JSON.parse(
		'{"__proto__": {"polluted": "yes"}, "inner": {"__proto__": {"polluted": "yes"}}}',
	) as JsonObject;

	function expectOwnProto(object: unknown): void {
		expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
		const own = Object.getOwnPropertyDescriptor(object, "__proto__");
		expect(own?.value).toEqual({ polluted: "yes" });
		expect(own?.enumerable).toBe(true);
		expect((object as { polluted?: unknown }).polluted).toBeUndefined();
	}

	it("decodes `__proto__` to an own enumerable property, not a prototype", () => {
		const decoded = codec.decode(encoded(codec.encode({ value: attack })));
		const value = decoded.value as JsonObject;
		expectOwnProto(value);
		expectOwnProto(value.inner);
		expect(Object.keys(value)).toEqual(["__proto__", "inner"]);
		expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
	});

	it("does so when merging a repeated Struct field into an earlier one", () => {
		const first = encoded(codec.encode({ metadata: { a: 1 } }));
		const second = encoded(codec.encode({ metadata: attack }));
		const metadata = codec.decode(concat(first, second)).metadata as JsonObject;
		expectOwnProto(metadata);
		expect(metadata.a).toBe(1);
		expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
	});
});

describe("fastMessageCodec: values of the wrong type or range", () => {
	const stringResponse = EvaluationServiceV2.method.resolveString.output;
	const intResponse = EvaluationServiceV1.method.resolveInt.output;

	it("declines them, so toBinary can report them", () => {
		const s = codecOf(stringResponse);
		expect(s.encode({ value: 42, reason: "STATIC" })).toBeUndefined();
		expect(s.encode({ reason: 7 })).toBeUndefined();
		expect(s.encode({ reason: "STATIC", metadata: [1] })).toBeUndefined();
		const i = codecOf(intResponse);
		expect(i.encode({ value: 2n ** 63n })).toBeUndefined();
		expect(i.encode({ value: -(2n ** 63n) - 1n })).toBeUndefined();
		expect(() =>
			toBinary(intResponse, create(intResponse, { value: 2n ** 63n })),
		).toThrow();
		expectSameBytes(
			i.encode({ value: 2n ** 63n - 1n }),
			toBinary(intResponse, create(intResponse, { value: 2n ** 63n - 1n })),
		);
	});
});

function encoded(bytes: Uint8Array | undefined): Uint8Array {
	if (bytes === undefined) throw new Error("the codec declined the value");
	return bytes;
}

describe("fastMessageCodec: UTF-8", () => {
	const desc = EvaluationServiceV2.method.resolveString.input;
	const codec = fastMessageCodec(desc);

	it("rejects invalid UTF-8 in a string field, as fromBinary does", () => {
		// field 1 (flag_key), length 3: "a", a lone continuation byte, "b"
		const bytes = new Uint8Array([0x0a, 0x03, 0x61, 0xff, 0x62]);
		expect(() => fromBinary(desc, bytes)).toThrow();
		expect(() => codec?.decode(bytes)).toThrow("invalid UTF-8");
	});

	it("keeps a real U+FFFD character", () => {
		const bytes = toBinary(desc, create(desc, { flagKey: "a\uFFFDb" }));
		expect(codec?.decode(bytes).flagKey).toBe("a\uFFFDb");
	});
});
