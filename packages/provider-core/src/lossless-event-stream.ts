/**
 * The EventStream read without losing flag keys. @bufbuild/protobuf decodes a `google.protobuf.Struct` into its
 * JSON form by plain assignment, so a `configuration_change` naming a flag `__proto__` arrives without that key and
 * the provider would keep serving the flag's old cached value. This client calls the same RPC
 * (`/flagd.evaluation.v{1,2}.Service/EventStream`, same bytes on the wire) through a descriptor that declares `data`
 * as `bytes`, decodes those bytes with protobuf-es (`fromBinary(StructSchema, …)`) and converts the Struct with
 * `structToJson`, which recovers the entry protobuf-es moved into a map object's prototype. The descriptor is
 * binary-only: the providers call it over binary-format transports.
 */
import {
	create,
	createFileRegistry,
	type DescService,
	fromBinary,
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
import { structToJson } from "@flagd-ts/protocol";
import type { StreamMessage } from "./event-stream-supervisor-options.js";
import type { ApiVersion } from "./options.js";

const services = new Map<ApiVersion, DescService>();

/** The client connect builds for the descriptor below (a runtime descriptor has no generated types). */
interface RawEventStreamClient {
	eventStream(
		request: Record<string, never>,
		options: CallOptions,
	): AsyncIterable<{ type: string; data: Uint8Array }>;
}

/** `flagd.evaluation.<version>.Service` with only EventStream, whose response has `bytes data = 2`. */
function rawEventStreamService(version: ApiVersion): DescService {
	const cached = services.get(version);
	if (cached !== undefined) return cached;
	const pkg = `flagd.evaluation.${version}`;
	const optional = FieldDescriptorProto_Label.OPTIONAL;
	const file = create(FileDescriptorProtoSchema, {
		name: `flagd/evaluation/${version}/raw_event_stream.proto`,
		package: pkg,
		syntax: "proto3",
		messageType: [
			{ name: "RawEventStreamRequest" },
			{
				name: "RawEventStreamResponse",
				field: [
					{
						name: "type",
						jsonName: "type",
						number: 1,
						label: optional,
						type: FieldDescriptorProto_Type.STRING,
					},
					{
						name: "data",
						jsonName: "data",
						number: 2,
						label: optional,
						type: FieldDescriptorProto_Type.BYTES,
					},
				],
			},
		],
		service: [
			{
				name: "Service",
				method: [
					{
						name: "EventStream",
						inputType: `.${pkg}.RawEventStreamRequest`,
						outputType: `.${pkg}.RawEventStreamResponse`,
						serverStreaming: true,
					},
				],
			},
		],
	});
	const service = createFileRegistry(file, () => undefined).getService(
		`${pkg}.Service`,
	);
	if (service === undefined)
		throw new Error(`cannot build the ${pkg} EventStream descriptor`);
	services.set(version, service);
	return service;
}

/** The EventStream of `version` over `transport`, with `data` decoded key for key. */
export async function* losslessEventStream(
	transport: Transport,
	version: ApiVersion,
	options: CallOptions,
): AsyncGenerator<StreamMessage> {
	const client = createClient(
		rawEventStreamService(version),
		transport,
	) as unknown as RawEventStreamClient;
	for await (const message of client.eventStream({}, options)) {
		// `bytes` has no presence: an empty Struct and an absent one read alike, and neither carries keys.
		// Of repeated occurrences of `data` (how this project's daemon carries a `__proto__` key) a `bytes` field
		// keeps the last; the daemon writes the complete Struct last.
		const data =
			message.data.length === 0
				? {}
				: structToJson(fromBinary(StructSchema, message.data));
		yield { type: message.type, data };
	}
}
