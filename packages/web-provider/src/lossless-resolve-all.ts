/**
 * ResolveAll read without losing keys. @bufbuild/protobuf decodes a map field, and a `google.protobuf.Struct` into
 * its JSON form, by plain assignment, so a flag keyed `__proto__` (or such a key in an object value or in metadata)
 * does not arrive as a key. As the Node provider does for the EventStream (`losslessEventStream`), this client
 * calls the same RPC (`/flagd.evaluation.v1.Service/ResolveAll`, same bytes on the wire) through a descriptor that
 * declares every Struct as `bytes`, decodes those with protobuf-es (`fromBinary(StructSchema, …)`) and recovers the
 * entries protobuf-es moved into a map object's prototype (`mapEntries`, `structToJson`). Binary format only.
 */
import {
	create,
	createFileRegistry,
	type DescService,
	fromBinary,
	type JsonObject,
	toBinary,
} from "@bufbuild/protobuf";
import {
	FieldDescriptorProto_Label,
	FieldDescriptorProto_Type,
	FileDescriptorProtoSchema,
	StructSchema,
} from "@bufbuild/protobuf/wkt";
import {
	type CallOptions,
	createClient,
	type Transport,
} from "@connectrpc/connect";
import {
	defineKey,
	mapEntries,
	structFromJson,
	structToJson,
} from "@flagd-ts/provider-core";

const PKG = "flagd.evaluation.v1";
const RAW_ANY_FLAG = `${PKG}.RawAnyFlag`;

/** A decoded RawAnyFlag: AnyFlag with `object_value` and `metadata` as `bytes`. */
interface RawAnyFlag {
	readonly $typeName: string;
	readonly reason: string;
	readonly variant: string;
	readonly value:
		| { case: "boolValue"; value: boolean }
		| { case: "stringValue"; value: string }
		| { case: "doubleValue"; value: number }
		| { case: "objectValue"; value: Uint8Array }
		| { case: undefined; value?: undefined };
	readonly metadata: Uint8Array;
}

interface RawResolveAllClient {
	resolveAll(
		request: { context: Uint8Array },
		options: CallOptions,
	): Promise<{ flags: Record<string, RawAnyFlag>; metadata: Uint8Array }>;
}

let service: DescService | undefined;

function field(
	name: string,
	jsonName: string,
	number: number,
	type: FieldDescriptorProto_Type,
	extra: { typeName?: string; oneofIndex?: number; repeated?: boolean } = {},
) {
	return {
		name,
		jsonName,
		number,
		label: extra.repeated
			? FieldDescriptorProto_Label.REPEATED
			: FieldDescriptorProto_Label.OPTIONAL,
		type,
		...(extra.typeName === undefined ? {} : { typeName: extra.typeName }),
		...(extra.oneofIndex === undefined ? {} : { oneofIndex: extra.oneofIndex }),
	};
}

/** `flagd.evaluation.v1.Service` with only ResolveAll, every Struct declared as `bytes`. */
function rawResolveAllService(): DescService {
	if (service !== undefined) return service;
	const T = FieldDescriptorProto_Type;
	const flagsEntry = {
		name: "FlagsEntry",
		field: [
			field("key", "key", 1, T.STRING),
			field("value", "value", 2, T.MESSAGE, { typeName: `.${RAW_ANY_FLAG}` }),
		],
		options: { mapEntry: true },
	};
	const file = create(FileDescriptorProtoSchema, {
		name: "flagd/evaluation/v1/raw_resolve_all.proto",
		package: PKG,
		syntax: "proto3",
		messageType: [
			{
				name: "RawResolveAllRequest",
				field: [field("context", "context", 1, T.BYTES)],
			},
			{
				name: "RawAnyFlag",
				field: [
					field("reason", "reason", 1, T.STRING),
					field("variant", "variant", 2, T.STRING),
					field("bool_value", "boolValue", 3, T.BOOL, { oneofIndex: 0 }),
					field("string_value", "stringValue", 4, T.STRING, { oneofIndex: 0 }),
					field("double_value", "doubleValue", 5, T.DOUBLE, { oneofIndex: 0 }),
					field("object_value", "objectValue", 6, T.BYTES, { oneofIndex: 0 }),
					field("metadata", "metadata", 7, T.BYTES),
				],
				oneofDecl: [{ name: "value" }],
			},
			{
				name: "RawResolveAllResponse",
				field: [
					field("flags", "flags", 1, T.MESSAGE, {
						typeName: `.${PKG}.RawResolveAllResponse.FlagsEntry`,
						repeated: true,
					}),
					field("metadata", "metadata", 2, T.BYTES),
				],
				nestedType: [flagsEntry],
			},
		],
		service: [
			{
				name: "Service",
				method: [
					{
						name: "ResolveAll",
						inputType: `.${PKG}.RawResolveAllRequest`,
						outputType: `.${PKG}.RawResolveAllResponse`,
					},
				],
			},
		],
	});
	const found = createFileRegistry(file, () => undefined).getService(
		`${PKG}.Service`,
	);
	if (found === undefined)
		throw new Error(`cannot build the ${PKG} ResolveAll descriptor`);
	service = found;
	return found;
}

/** A Struct's bytes as JSON with every key; absent (empty) reads as `{}`. */
function structBytesToJson(bytes: Uint8Array): JsonObject {
	return bytes.length === 0
		? {}
		: structToJson(fromBinary(StructSchema, bytes));
}

/** The protojson form of one flag (what the JSON encoding of AnyFlag would be), keys kept. */
function anyFlagJson(flag: RawAnyFlag): JsonObject {
	const json: JsonObject = { reason: flag.reason, variant: flag.variant };
	switch (flag.value.case) {
		case "boolValue":
		case "stringValue":
		case "doubleValue":
			json[flag.value.case] = flag.value.value;
			break;
		case "objectValue":
			json.objectValue = structBytesToJson(flag.value.value);
			break;
	}
	json.metadata = structBytesToJson(flag.metadata);
	return json;
}

/**
 * ResolveAll over `transport` (binary format): the response's JSON form `{ flags, metadata }` with every flag key,
 * object value key and metadata key an own property, `__proto__` included.
 */
export async function losslessResolveAll(
	transport: Transport,
	context: JsonObject,
	options: CallOptions,
): Promise<JsonObject> {
	const client = createClient(
		rawResolveAllService(),
		transport,
	) as unknown as RawResolveAllClient;
	const response = await client.resolveAll(
		// structFromJson keeps a `__proto__` context key (fromJson would drop it).
		{ context: toBinary(StructSchema, structFromJson(context)) },
		options,
	);
	const flags: JsonObject = {};
	for (const [key, flag] of mapEntries(response.flags, RAW_ANY_FLAG))
		defineKey(flags, key, anyFlagJson(flag));
	return { flags, metadata: structBytesToJson(response.metadata) };
}
