/**
 * ResolveAll answers: the binary encodings (answered from bytes encoded once per flag set and per shared result,
 * api/evaluation/resolve-all.ts) carry exactly what the Connect JSON encoding (built per request) carries, for
 * static, targeted, disabled, erroring and object flags, per context, per selector and across a flag change; the
 * evaluation metrics count every flag of every call; a `__proto__` flag key stays on the binary wire.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { createClient, type Transport } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
	createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import {
	ResolveAllRequestSchema,
	ResolveAllResponseSchema,
} from "@flagd-ts/protocol/evaluation-v1";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { isBinaryEncoding } from "../../packages/daemon/src/api/evaluation/resolve-all.js";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon } from "./daemon-harness.js";

const TIER_RULE = {
	if: [{ "==": [{ var: "tier" }, "gold"] }, "b", null],
};

function documentWith(extra: Record<string, unknown> = {}) {
	return {
		metadata: { flagSetId: "set-a", team: "core" },
		flags: {
			staticBool: {
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: "on",
				metadata: { owner: "x", weight: 2 },
			},
			staticObject: {
				state: "ENABLED",
				variants: { small: { limit: 1, tags: ["a", "b"] }, big: { limit: 9 } },
				defaultVariant: "small",
			},
			disabledString: {
				state: "DISABLED",
				variants: { a: "A", b: "B" },
				defaultVariant: "a",
			},
			codeDefault: {
				state: "ENABLED",
				variants: { a: "A" },
				defaultVariant: null,
			},
			targetedString: {
				state: "ENABLED",
				variants: { a: "A", b: "B" },
				defaultVariant: "a",
				targeting: TIER_RULE,
			},
			targetedNumber: {
				state: "ENABLED",
				variants: { one: 1, two: 2.5 },
				defaultVariant: "one",
				targeting: { if: [{ "==": [{ var: "tier" }, "gold"] }, "two", "one"] },
			},
			targetedBadVariant: {
				state: "ENABLED",
				variants: { a: true, b: false },
				defaultVariant: "a",
				targeting: { if: [{ "==": [{ var: "tier" }, "gold"] }, "nope", "a"] },
			},
			fractional: {
				state: "ENABLED",
				variants: { x: "X", y: "Y" },
				defaultVariant: "x",
				targeting: {
					fractional: [
						["x", 50],
						["y", 50],
					],
				},
			},
			...extra,
		},
	};
}

let daemon: RunningDaemon;
let source: MemorySource;
let base: string;

beforeAll(async () => {
	source = new MemorySource("mem:resolve-all", documentWith());
	daemon = await startTestDaemon([source]);
	await daemon.ready;
	base = `http://127.0.0.1:${daemon.ports.evaluation}`;
});

afterAll(async () => {
	await daemon.close();
});

const transports: Record<string, () => Transport> = {
	"gRPC (direct path)": () => createGrpcTransport({ baseUrl: base }),
	"Connect proto, HTTP/1.1": () =>
		createConnectTransport({
			baseUrl: base,
			httpVersion: "1.1",
			useBinaryFormat: true,
		}),
	"Connect proto, HTTP/2": () =>
		createConnectTransport({
			baseUrl: base,
			httpVersion: "2",
			useBinaryFormat: true,
		}),
	"gRPC-web proto": () =>
		createGrpcWebTransport({
			baseUrl: base,
			httpVersion: "1.1",
			useBinaryFormat: true,
		}),
};

/** Connect JSON over HTTP/1.1: the encoding built per request, which the binary answers must match. */
function jsonTransport(): Transport {
	return createConnectTransport({ baseUrl: base, httpVersion: "1.1" });
}

function jsonClient() {
	return createClient(EvaluationServiceV1, jsonTransport());
}

function grpcClient() {
	return createClient(
		EvaluationServiceV1,
		transports["gRPC (direct path)"]?.() as Transport,
	);
}

/** One ResolveAll as application/proto to a daemon's evaluation port: its status and the response bytes. */
async function postResolveAllProto(
	target: RunningDaemon,
	context: Record<string, string>,
): Promise<{ status: number; bytes: Uint8Array }> {
	const res = await fetch(
		`http://127.0.0.1:${target.ports.evaluation}/flagd.evaluation.v1.Service/ResolveAll`,
		{
			method: "POST",
			headers: { "Content-Type": "application/proto" },
			body: Buffer.from(
				toBinary(
					ResolveAllRequestSchema,
					create(ResolveAllRequestSchema, { context }),
				),
			),
		},
	);
	return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** A comparable form of a ResolveAll answer (message objects compared by their fields). */
async function answerOf(
	transport: Transport,
	context: Record<string, string>,
	selector?: string,
) {
	const client = createClient(EvaluationServiceV1, transport);
	const res = await client.resolveAll(
		{ context },
		selector === undefined ? {} : { headers: { "Flagd-Selector": selector } },
	);
	return {
		flags: Object.fromEntries(
			Object.entries(res.flags)
				.sort(([a], [b]) => (a < b ? -1 : 1))
				.map(([key, flag]) => [
					key,
					{
						reason: flag.reason,
						variant: flag.variant,
						value: flag.value,
						metadata: flag.metadata,
					},
				]),
		),
		metadata: res.metadata,
	};
}

describe("ResolveAll in binary encodings", () => {
	it.each(Object.keys(transports))(
		"answers like Connect JSON for every context (%s)",
		async (name) => {
			const transport = (transports[name] as () => Transport)();
			const contexts: Record<string, string>[] = [
				{},
				{ tier: "gold", targetingKey: "user-1" },
				{ tier: "silver", targetingKey: "user-2" },
				{ tier: "gold", targetingKey: "user-3" },
			];
			for (const context of contexts) {
				const json = await answerOf(jsonTransport(), context);
				const binary = await answerOf(transport, context);
				expect(binary).toEqual(json);
				// Twice: the second answer comes from the cached encodings.
				expect(await answerOf(transport, context)).toEqual(json);
			}
		},
	);

	it("evaluates targeted flags per request and keeps static ones", async () => {
		const client = grpcClient();
		const gold = await client.resolveAll({ context: { tier: "gold" } });
		const none = await client.resolveAll({ context: {} });
		expect(gold.flags.targetedString?.value).toEqual({
			case: "stringValue",
			value: "B",
		});
		expect(gold.flags.targetedString?.reason).toBe("TARGETING_MATCH");
		expect(none.flags.targetedString?.reason).toBe("DEFAULT");
		expect(none.flags.targetedString?.value.value).toBe("A");
		expect(gold.flags.targetedNumber?.value).toEqual({
			case: "doubleValue",
			value: 2.5,
		});
		expect(gold.flags.targetedBadVariant?.reason).toBe("ERROR");
		expect(none.flags.targetedBadVariant?.value).toEqual({
			case: "boolValue",
			value: true,
		});
		expect(gold.flags.staticBool).toMatchObject({
			reason: "STATIC",
			variant: "on",
			value: { case: "boolValue", value: true },
			metadata: { owner: "x", weight: 2, flagSetId: "set-a", team: "core" },
		});
		expect(gold.flags.disabledString).toMatchObject({
			reason: "DISABLED",
			variant: "",
			value: { case: "stringValue", value: "" },
		});
		expect(gold.flags.staticObject?.value).toEqual({
			case: "objectValue",
			value: { limit: 1, tags: ["a", "b"] },
		});
		expect("codeDefault" in gold.flags).toBe(false);
		expect(Object.keys(gold.flags).sort()).toEqual(
			Object.keys((await jsonClient().resolveAll({})).flags).sort(),
		);
	});

	it("answers per selector and follows a flag change", async () => {
		const transport = transports["gRPC (direct path)"]?.() as Transport;
		const bySet = await answerOf(transport, {}, "flagSetId=set-a");
		expect(bySet).toEqual(
			await answerOf(jsonTransport(), {}, "flagSetId=set-a"),
		);
		expect(bySet.metadata).toEqual({ flagSetId: "set-a" });
		expect(await answerOf(transport, {}, "flagSetId=other")).toEqual({
			flags: {},
			metadata: { flagSetId: "other" },
		});
		const version = daemon.store.version;
		source.push(
			documentWith({
				added: {
					state: "ENABLED",
					variants: { on: "yes" },
					defaultVariant: "on",
				},
				staticBool: {
					state: "ENABLED",
					variants: { on: true, off: false },
					defaultVariant: "off",
				},
			}),
		);
		const deadline = Date.now() + 5_000;
		while (daemon.store.version === version && Date.now() < deadline)
			await new Promise((resolve) => setImmediate(resolve));
		const after = await answerOf(transport, {});
		expect(after.flags.added?.value).toEqual({
			case: "stringValue",
			value: "yes",
		});
		expect(after.flags.staticBool?.variant).toBe("off");
		source.push(documentWith());
	});

	it("counts every flag of every call in the evaluation metrics", async () => {
		const client = grpcClient();
		const metricsUrl = `http://127.0.0.1:${daemon.ports.management}/metrics`;
		const count = async (key: string, reason: string): Promise<number> => {
			const text = await (await fetch(metricsUrl)).text();
			const line = text
				.split("\n")
				.find(
					(l) =>
						l.startsWith("feature_flag_flagd_impression_total{") &&
						l.includes(`feature_flag_key="${key}"`) &&
						l.includes(`feature_flag_reason="${reason}"`),
				);
			return line === undefined ? 0 : Number(line.split(" ").pop());
		};
		const staticBefore = await count("staticBool", "STATIC");
		const targetedBefore = await count("targetedString", "TARGETING_MATCH");
		await client.resolveAll({ context: { tier: "gold" } });
		await client.resolveAll({ context: { tier: "gold" } });
		expect(await count("staticBool", "STATIC")).toBe(staticBefore + 2);
		expect(await count("targetedString", "TARGETING_MATCH")).toBe(
			targetedBefore + 2,
		);
	});
});

describe("isBinaryEncoding", () => {
	it("takes the encoded path only for the protobuf binary content types", () => {
		for (const type of [
			"application/grpc",
			"application/grpc+proto",
			"application/grpc-web",
			"application/grpc-web+proto",
			"application/grpc-web-text",
			"application/grpc-web-text+proto",
			"application/proto",
			"application/connect+proto",
			"Application/GRPC+Proto; charset=utf-8",
		])
			expect([type, isBinaryEncoding(type)]).toEqual([type, true]);
		for (const type of [
			null,
			"",
			"application/json",
			"application/json; charset=utf-8",
			"application/grpc+json",
			"application/grpc-web+json",
			"application/connect+json",
			"application/protobuf-ish",
			"text/plain",
		])
			expect([type, isBinaryEncoding(type)]).toEqual([type, false]);
	});
});

describe("ResolveAll with a __proto__ flag key", () => {
	it("keeps it on the binary wire whether static or targeted", async () => {
		const hostile = new MemorySource(
			"mem:proto",
			`{"flags":{
				"__proto__":{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"},
				"constructor":{"state":"ENABLED","variants":{"a":"A","b":"B"},"defaultVariant":"a",
					"targeting":{"if":[{"==":[{"var":"tier"},"gold"]},"b",null]}},
				"plain":{"state":"ENABLED","variants":{"a":"A"},"defaultVariant":"a"}
			}}`,
		);
		const other = await startTestDaemon([hostile]);
		try {
			await other.ready;
			const contexts: Record<string, string>[] = [{}, { tier: "gold" }];
			for (const context of contexts) {
				const { status, bytes } = await postResolveAllProto(other, context);
				expect(status).toBe(200);
				expect(wireMapKeys(bytes).sort()).toEqual([
					"__proto__",
					"constructor",
					"plain",
				]);
				const decoded = fromBinary(ResolveAllResponseSchema, bytes);
				expect(decoded.flags.plain?.variant).toBe("a");
				const flags = new Map(Object.entries(decoded.flags));
				expect(flags.get("constructor")?.variant).toBe(
					"tier" in context ? "b" : "a",
				);
			}
		} finally {
			await other.close();
		}
	});
});

describe("ResolveAll static entries", () => {
	it("go out in the order one encoded message puts them (array-index keys first, ascending)", async () => {
		const source = new MemorySource(
			"mem:order",
			`{"flags":{
				"b":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"},
				"10":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"},
				"a":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"},
				"2":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"},
				"4294967295":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on"}
			}}`,
		);
		const other = await startTestDaemon([source]);
		try {
			await other.ready;
			const { status, bytes } = await postResolveAllProto(other, {});
			expect(status).toBe(200);
			// 4294967295 is not an array index (the largest is 2^32 - 2): it keeps its place among the other keys.
			expect(wireMapKeys(bytes)).toEqual(["2", "10", "4294967295", "a", "b"]);
		} finally {
			await other.close();
		}
	});
});

/** The keys of a ResolveAllResponse's `flags` entries as they are on the wire. */
function wireMapKeys(bytes: Uint8Array): string[] {
	const keys: string[] = [];
	const reader = new BinaryReader(bytes);
	while (reader.pos < reader.len) {
		const [no, wireType] = reader.tag();
		if (no !== 1 || wireType !== WireType.LengthDelimited) {
			reader.skip(wireType, no);
			continue;
		}
		const entry = new BinaryReader(reader.bytes());
		while (entry.pos < entry.len) {
			const [field, type] = entry.tag();
			if (field === 1) keys.push(entry.string());
			else entry.skip(type, field);
		}
	}
	return keys;
}
