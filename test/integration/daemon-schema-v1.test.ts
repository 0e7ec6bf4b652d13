/**
 * The deprecated `schema.v1.Service` on the evaluation port (flagd-protocol.md §5), as Go flagd still serves it,
 * driven by @grpc/grpc-js (an independent gRPC implementation) with schema.v1's own message types: every typed
 * resolve, NOT_FOUND, ResolveAll without metadata (the flags evaluation v1 returns, `__proto__` included), and an
 * EventStream that reports changes and, unlike evaluation v1/v2, is not ended by the server-side stream deadline.
 */
import {
	create,
	type DescMessage,
	fromBinary,
	type MessageShape,
	toBinary,
} from "@bufbuild/protobuf";
import { ResolveAllResponseSchema as V1ResolveAllResponseSchema } from "@flagd-ts/protocol/evaluation-v1";
import {
	EventStreamRequestSchema,
	EventStreamResponseSchema,
	ResolveAllRequestSchema,
	ResolveAllResponseSchema,
	ResolveBooleanRequestSchema,
	ResolveBooleanResponseSchema,
	ResolveFloatResponseSchema,
	ResolveIntResponseSchema,
	ResolveObjectResponseSchema,
	ResolveStringResponseSchema,
} from "@flagd-ts/protocol/schema-v1";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

const SERVICE = "/schema.v1.Service";
const FLAGS = {
	flags: {
		...BASIC_FLAGS.flags,
		["__proto__"]: {
			state: "ENABLED",
			variants: { on: true },
			defaultVariant: "on",
			metadata: { owner: "team-b" },
		},
	},
};

let source: MemorySource;
let daemon: RunningDaemon;
let client: grpc.Client;

beforeAll(async () => {
	source = new MemorySource("mem:schema", FLAGS);
	// A short deadline and keep-alive: evaluation v1/v2 streams would end after 300 ms; schema.v1's must not.
	daemon = await startTestDaemon(
		[source],
		{
			streamDeadlineMs: 300,
			staticContext: { injected: "set" },
			headerContext: { "X-From-Header": "fromHeader" },
		},
		{
			keepAliveMs: 100,
		},
	);
	await daemon.ready;
	client = new grpc.Client(
		`127.0.0.1:${daemon.ports.evaluation}`,
		grpc.credentials.createInsecure(),
	);
});

afterAll(async () => {
	client?.close();
	await daemon?.close();
});

function unary<O extends DescMessage>(
	method: string,
	request: Uint8Array,
	output: O,
): Promise<MessageShape<O>>;
function unary<T>(
	method: string,
	request: Uint8Array,
	output: { parse(buf: Buffer): T },
	service?: string,
	metadata?: grpc.Metadata,
): Promise<T>;
function unary(
	method: string,
	request: Uint8Array,
	output: DescMessage | { parse(buf: Buffer): unknown },
	service = SERVICE,
	metadata = new grpc.Metadata(),
): Promise<unknown> {
	const parse =
		"parse" in output ? output.parse : (buf: Buffer) => fromBinary(output, buf);
	return new Promise((resolve, reject) => {
		client.makeUnaryRequest(
			`${service}/${method}`,
			(req: Uint8Array) => Buffer.from(req),
			parse,
			request,
			metadata,
			(err, value) =>
				err || value === undefined ? reject(err) : resolve(value),
		);
	});
}

const typed = (flagKey: string) =>
	toBinary(
		ResolveBooleanRequestSchema,
		create(ResolveBooleanRequestSchema, { flagKey }),
	);

describe("schema.v1.Service over gRPC (@grpc/grpc-js)", () => {
	it("resolves every type with value, reason, variant and metadata", async () => {
		expect(
			await unary(
				"ResolveBoolean",
				typed("bool-flag"),
				ResolveBooleanResponseSchema,
			),
		).toMatchObject({ value: false, reason: "STATIC", variant: "off" });
		expect(
			await unary(
				"ResolveString",
				typed("headerColor"),
				ResolveStringResponseSchema,
			),
		).toMatchObject({ value: "#FF0000", reason: "DEFAULT", variant: "red" });
		expect(
			await unary("ResolveInt", typed("int-flag"), ResolveIntResponseSchema),
		).toMatchObject({ value: 10n, reason: "STATIC", variant: "ten" });
		expect(
			await unary(
				"ResolveFloat",
				typed("float-flag"),
				ResolveFloatResponseSchema,
			),
		).toMatchObject({ value: 0.5, reason: "STATIC", variant: "half" });
		expect(
			await unary(
				"ResolveObject",
				typed("object-flag"),
				ResolveObjectResponseSchema,
			),
		).toMatchObject({
			value: { a: 1, nested: { b: [true, "x"] } },
			reason: "STATIC",
			variant: "obj",
			metadata: { owner: "team-a" },
		});
	});

	it("takes static -X context but not -H header mappings, as flagd", async () => {
		const metadata = new grpc.Metadata();
		metadata.set("x-from-header", "yes");
		const request = toBinary(
			ResolveBooleanRequestSchema,
			create(ResolveBooleanRequestSchema, { flagKey: "context-flag" }),
		);
		// Evaluation v1 maps the header into the context and targets on it; schema.v1 sees only the static value.
		expect(
			await unary(
				"ResolveString",
				request,
				{
					parse: (buf: Buffer) => fromBinary(ResolveStringResponseSchema, buf),
				},
				"/flagd.evaluation.v1.Service",
				metadata,
			),
		).toMatchObject({ value: "HEADER", variant: "header" });
		expect(
			await unary(
				"ResolveString",
				request,
				{
					parse: (buf: Buffer) => fromBinary(ResolveStringResponseSchema, buf),
				},
				SERVICE,
				metadata,
			),
		).toMatchObject({ value: "INTERNAL", variant: "internal" });
	});

	it("answers an unknown flag with NOT_FOUND, as flagd", async () => {
		await expect(
			unary("ResolveBoolean", typed("nope"), ResolveBooleanResponseSchema),
		).rejects.toMatchObject({
			code: grpc.status.NOT_FOUND,
			details: "Flag not found",
		});
	});

	it("ResolveAll carries the flags without metadata, every key kept", async () => {
		const raw = await unary(
			"ResolveAll",
			toBinary(ResolveAllRequestSchema, create(ResolveAllRequestSchema)),
			{ parse: (buf: Buffer) => buf },
		);
		const all = fromBinary(ResolveAllResponseSchema, raw);
		// Nothing on the wire that schema.v1 does not define (evaluation v1's metadata fields would be unknown here).
		expect(all.$unknown).toBeUndefined();
		for (const flag of Object.values(all.flags))
			expect(flag.$unknown).toBeUndefined();
		// Evaluation v1's ResolveAll minus the flags v1 skips or fails (flagd-protocol.md §6).
		expect(Object.keys(all.flags).sort()).toEqual(
			Object.keys(
				(
					await unary(
						"ResolveAll",
						toBinary(ResolveAllRequestSchema, create(ResolveAllRequestSchema)),
						{
							parse: (buf: Buffer) =>
								fromBinary(V1ResolveAllResponseSchema, buf),
						},
						"/flagd.evaluation.v1.Service",
					)
				).flags,
			).sort(),
		);
		expect(all.flags["bool-flag"]).toMatchObject({
			reason: "STATIC",
			variant: "off",
			value: { case: "boolValue", value: false },
		});
		expect(all.flags["object-flag"]?.value).toEqual({
			case: "objectValue",
			value: { a: 1, nested: { b: [true, "x"] } },
		});
		// protobuf-es decodes map keys by assignment and so drops "__proto__"; the bytes show it was sent: a map
		// entry (field 1) whose key (field 1 of the entry) is "__proto__".
		const key = Buffer.from("__proto__");
		expect(
			raw.includes(Buffer.concat([Buffer.from([0x0a, key.length]), key])),
		).toBe(true);
	});

	it("streams provider_ready, changes and keep_alive past the stream deadline evaluation v1/v2 would end at", async () => {
		const call = client.makeServerStreamRequest(
			`${SERVICE}/EventStream`,
			(req: Uint8Array) => Buffer.from(req),
			(buf: Buffer) => fromBinary(EventStreamResponseSchema, buf),
			toBinary(EventStreamRequestSchema, create(EventStreamRequestSchema)),
		);
		const received: { type: string; data?: unknown }[] = [];
		let wake = () => {};
		let failure: unknown;
		call.on("data", (m: { type: string; data?: unknown }) => {
			received.push({ type: m.type, data: m.data });
			wake();
		});
		call.on("error", (e: unknown) => {
			failure = e;
			wake();
		});
		const waitFor = async (
			predicate: () => boolean,
			what: string,
		): Promise<void> => {
			const deadline = Date.now() + 10_000;
			while (!predicate()) {
				if (failure !== undefined) throw failure;
				if (Date.now() > deadline) throw new Error(`no ${what} in 10 s`);
				await new Promise<void>((resolve) => {
					wake = resolve;
					setTimeout(resolve, 100);
				});
			}
		};
		try {
			await waitFor(() => received.length > 0, "provider_ready");
			expect(received[0]).toEqual({ type: "provider_ready", data: {} });
			const opened = Date.now();
			source.push({
				flags: {
					...FLAGS.flags,
					"bool-flag": { ...FLAGS.flags["bool-flag"], defaultVariant: "on" },
				},
			});
			await waitFor(
				() => received.some((m) => m.type === "configuration_change"),
				"configuration_change",
			);
			expect(
				received.find((m) => m.type === "configuration_change")?.data,
			).toEqual({ flags: { "bool-flag": { type: "update" } } });
			// Well past the 300 ms deadline: still open, still sending keep_alive.
			await waitFor(
				() =>
					Date.now() - opened > 900 &&
					received.filter((m) => m.type === "keep_alive").length >= 3,
				"keep_alive after the deadline",
			);
			expect(failure).toBeUndefined();
			expect(received.find((m) => m.type === "keep_alive")).toEqual({
				type: "keep_alive",
				data: undefined,
			});
		} finally {
			call.cancel();
		}
	});
});
