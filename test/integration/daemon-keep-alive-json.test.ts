/**
 * The `keep_alive` EventStream message over Connect JSON, byte for byte. Go flagd sends `{"type":"keep_alive",
 * "data":null}`: its message leaves `data` (a google.protobuf.Struct) nil and its protojson codec emits unpopulated
 * message fields as `null`. protobuf-es, which this daemon encodes with, never writes `null` for an unset message
 * field (`alwaysEmitImplicit` covers implicit-presence fields only), so the daemon sends `{"type":"keep_alive"}`.
 * Under the proto3 JSON mapping the two are the same message: `null` is accepted for any field and means "not
 * set" (google.protobuf.Value excepted, and `data` is a Struct). This test pins both facts: the exact bytes sent,
 * and that a proto3 JSON parser reads flagd's form and ours into equal messages. Over gRPC and gRPC-web the field
 * is absent in both daemons (protobuf binary has no null).
 */
import { equals, fromJsonString, toBinary } from "@bufbuild/protobuf";
import { createEnvelopeReadableStream } from "@connectrpc/connect/protocol";
import { EventStreamResponseSchema as V1EventStreamResponseSchema } from "@flagd-ts/protocol/evaluation-v1";
import { EventStreamResponseSchema as V2EventStreamResponseSchema } from "@flagd-ts/protocol/evaluation-v2";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

let daemon: RunningDaemon;

beforeAll(async () => {
	daemon = await startTestDaemon(
		[new MemorySource("mem:keep-alive", BASIC_FLAGS)],
		{},
		{ keepAliveMs: 100 },
	);
	await daemon.ready;
});

afterAll(async () => {
	await daemon?.close();
});

/** The JSON texts of the first `count` messages of a Connect JSON EventStream. */
async function firstMessages(path: string, count: number): Promise<string[]> {
	const controller = new AbortController();
	const res = await fetch(
		`http://127.0.0.1:${daemon.ports.evaluation}${path}`,
		{
			method: "POST",
			headers: { "Content-Type": "application/connect+json" },
			// One enveloped `{}` request (flags 0, length 2).
			body: new Uint8Array([0, 0, 0, 0, 2, 0x7b, 0x7d]),
			signal: controller.signal,
		},
	);
	expect(res.status).toBe(200);
	if (res.body === null) throw new Error("no body");
	const texts: string[] = [];
	const reader = createEnvelopeReadableStream(res.body).getReader();
	try {
		while (texts.length < count) {
			const { done, value } = await reader.read();
			if (done) throw new Error("the stream ended");
			texts.push(new TextDecoder().decode(value.data));
		}
	} finally {
		controller.abort();
		await reader.cancel().catch(() => {});
	}
	return texts;
}

describe("keep_alive over Connect JSON", () => {
	it.each([
		["v1", "/flagd.evaluation.v1.Service/EventStream"],
		["v2", "/flagd.evaluation.v2.Service/EventStream"],
		["schema.v1", "/schema.v1.Service/EventStream"],
	])("%s sends it without data", async (_name, path) => {
		const [ready, keepAlive] = await firstMessages(path, 2);
		expect(ready).toBe('{"type":"provider_ready","data":{}}');
		expect(keepAlive).toBe('{"type":"keep_alive"}');
	});

	it.each([
		["v1", V1EventStreamResponseSchema],
		["v2", V2EventStreamResponseSchema],
	])(
		"%s: flagd's `\"data\":null` and the daemon's form are the same message under proto3 JSON",
		(_name, schema) => {
			const flagd = fromJsonString(schema, '{"type":"keep_alive","data":null}');
			const ours = fromJsonString(schema, '{"type":"keep_alive"}');
			expect(equals(schema, flagd, ours)).toBe(true);
			expect(flagd.data).toBeUndefined();
			// And so the binary encodings (gRPC, gRPC-web) are identical too.
			expect(toBinary(schema, flagd)).toEqual(toBinary(schema, ours));
		},
	);
});
