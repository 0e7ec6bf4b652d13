import type { DescMessage } from "@bufbuild/protobuf";
import { describe, expect, it } from "@jest/globals";
import * as v1 from "./evaluation-v1.js";
import * as v2 from "./evaluation-v2.js";
import * as schema from "./schema-v1.js";
import * as sync from "./sync-v1.js";

/** Field name → [number, type, explicit presence] as the generated descriptor has it. */
function layout(desc: DescMessage): Record<string, [number, string, boolean]> {
	const out: Record<string, [number, string, boolean]> = {};
	for (const f of desc.fields) {
		const type =
			f.fieldKind === "scalar"
				? String(f.scalar)
				: f.fieldKind === "message"
					? f.message.typeName
					: f.fieldKind === "map"
						? `map<${f.mapKey},${f.mapKind === "message" ? f.message.typeName : f.mapKind}>`
						: f.fieldKind;
		// proto3 `optional` is explicit presence on a scalar field outside a oneof.
		const optional =
			f.fieldKind === "scalar" && f.oneof === undefined && f.presence === 1;
		out[f.name] = [f.number, type, optional];
	}
	return out;
}

// Scalar type numbers: 1 double, 3 int64, 8 bool, 9 string. Tables: shared/spec/flagd-protocol.md §3, §4, §8.
const STRUCT = "google.protobuf.Struct";

describe("field numbers match flagd's wire contract", () => {
	it("evaluation.v1 ResolveBooleanResponse: value=1, reason=2, variant=3, metadata=4", () => {
		expect(layout(v1.ResolveBooleanResponseSchema)).toEqual({
			value: [1, "8", false],
			reason: [2, "9", false],
			variant: [3, "9", false],
			metadata: [4, STRUCT, false],
		});
	});

	it("evaluation.v1 ResolveIntResponse carries an int64 value", () => {
		expect(layout(v1.ResolveIntResponseSchema).value).toEqual([1, "3", false]);
	});

	it("evaluation.v1 AnyFlag: reason=1, variant=2, oneof value 3..6, metadata=7", () => {
		expect(layout(v1.AnyFlagSchema)).toEqual({
			reason: [1, "9", false],
			variant: [2, "9", false],
			bool_value: [3, "8", false],
			string_value: [4, "9", false],
			double_value: [5, "1", false],
			object_value: [6, STRUCT, false],
			metadata: [7, STRUCT, false],
		});
		expect(v1.AnyFlagSchema.oneofs.map((o) => o.name)).toEqual(["value"]);
	});

	it("evaluation.v1 ResolveAllResponse: flags=1 map<string,AnyFlag>, metadata=2", () => {
		expect(layout(v1.ResolveAllResponseSchema)).toEqual({
			flags: [1, "map<9,flagd.evaluation.v1.AnyFlag>", false],
			metadata: [2, STRUCT, false],
		});
	});

	it("evaluation.v1 requests: flag_key=1, context=2; EventStreamResponse: type=1, data=2", () => {
		expect(layout(v1.ResolveStringRequestSchema)).toEqual({
			flag_key: [1, "9", false],
			context: [2, STRUCT, false],
		});
		expect(layout(v1.EventStreamResponseSchema)).toEqual({
			type: [1, "9", false],
			data: [2, STRUCT, false],
		});
	});

	it("evaluation.v2 responses have explicit presence on value and variant", () => {
		expect(layout(v2.ResolveFloatResponseSchema)).toEqual({
			value: [1, "1", true],
			reason: [2, "9", false],
			variant: [3, "9", true],
			metadata: [4, STRUCT, false],
		});
		expect(layout(v2.AnyFlagSchema).variant).toEqual([2, "9", true]);
	});

	it("sync.v1 messages", () => {
		expect(layout(sync.SyncFlagsRequestSchema)).toEqual({
			provider_id: [1, "9", false],
			selector: [2, "9", false],
		});
		expect(layout(sync.SyncFlagsResponseSchema)).toEqual({
			flag_configuration: [1, "9", false],
			sync_context: [2, STRUCT, false],
		});
		expect(layout(sync.GetMetadataResponseSchema)).toEqual({
			metadata: [2, STRUCT, false],
		});
	});

	it("service and method names are flagd's", () => {
		expect(v1.Service.typeName).toBe("flagd.evaluation.v1.Service");
		expect(v1.Service.methods.map((m) => `${m.name}:${m.methodKind}`)).toEqual([
			"ResolveAll:unary",
			"ResolveBoolean:unary",
			"ResolveString:unary",
			"ResolveFloat:unary",
			"ResolveInt:unary",
			"ResolveObject:unary",
			"EventStream:server_streaming",
		]);
		expect(v2.Service.typeName).toBe("flagd.evaluation.v2.Service");
		expect(v2.Service.methods.map((m) => m.name)).toEqual([
			"ResolveBoolean",
			"ResolveString",
			"ResolveFloat",
			"ResolveInt",
			"ResolveObject",
			"EventStream",
		]);
		expect(sync.FlagSyncService.typeName).toBe("flagd.sync.v1.FlagSyncService");
		expect(
			sync.FlagSyncService.methods.map((m) => `${m.name}:${m.methodKind}`),
		).toEqual([
			"SyncFlags:server_streaming",
			"FetchAllFlags:unary",
			"GetMetadata:unary",
		]);
	});

	it("schema.v1 (deprecated): evaluation v1's numbers, without metadata in ResolveAll and AnyFlag (§5)", () => {
		expect(schema.Service.typeName).toBe("schema.v1.Service");
		expect(Object.keys(schema.Service.method)).toEqual(
			Object.keys(v1.Service.method),
		);
		expect(layout(schema.ResolveAllResponseSchema)).toEqual({
			flags: [1, "map<9,schema.v1.AnyFlag>", false],
		});
		expect(layout(schema.AnyFlagSchema)).toEqual({
			reason: [1, "9", false],
			variant: [2, "9", false],
			bool_value: [3, "8", false],
			string_value: [4, "9", false],
			double_value: [5, "1", false],
			object_value: [6, STRUCT, false],
		});
		for (const [a, b] of [
			[schema.ResolveBooleanRequestSchema, v1.ResolveBooleanRequestSchema],
			[schema.ResolveBooleanResponseSchema, v1.ResolveBooleanResponseSchema],
			[schema.ResolveStringResponseSchema, v1.ResolveStringResponseSchema],
			[schema.ResolveFloatResponseSchema, v1.ResolveFloatResponseSchema],
			[schema.ResolveIntResponseSchema, v1.ResolveIntResponseSchema],
			[schema.ResolveObjectResponseSchema, v1.ResolveObjectResponseSchema],
			[schema.EventStreamResponseSchema, v1.EventStreamResponseSchema],
		] as const) {
			expect(layout(a)).toEqual(layout(b));
		}
	});
});
