/**
 * The sync port (8015) as real gRPC over HTTP/2: SyncFlags snapshots in flagd's flag_configuration format with
 * sync_context, a new snapshot per change, selector from metadata header or request body, FetchAllFlags,
 * GetMetadata (and UNIMPLEMENTED when disabled), with connect-node's gRPC client and @grpc/grpc-js (keepalive
 * pings enabled, as in-process providers send them).
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { FlagSyncService } from "@flagd-ts/protocol";
import {
	SyncFlagsRequestSchema,
	type SyncFlagsResponse,
	SyncFlagsResponseSchema,
} from "@flagd-ts/protocol/sync-v1";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { MemorySource, startTestDaemon, waitFor } from "./daemon-harness.js";

function flag(variant: string, extra: Record<string, unknown> = {}) {
	return {
		state: "ENABLED",
		variants: { a: "A", b: "B" },
		defaultVariant: variant,
		...extra,
	};
}

let daemon: RunningDaemon;
let main: MemorySource;
let payments: MemorySource;
let baseUrl: string;

beforeAll(async () => {
	main = new MemorySource("mem:main", {
		$evaluators: { isAdmin: { "==": [{ var: "role" }, "admin"] } },
		flags: {
			targeted: flag("a", {
				targeting: { if: [{ $ref: "isAdmin" }, "b", null] },
			}),
			plain: { state: "DISABLED", variants: { x: 1 } },
		},
	});
	payments = new MemorySource("mem:payments", {
		metadata: { flagSetId: "payments", version: "7" },
		flags: { checkout: flag("b", { metadata: { owner: "pay" } }) },
	});
	daemon = await startTestDaemon([main, payments], {
		staticContext: { region: "eu" },
		// Lets the grpc-js client below ping every 100 ms (the default, 30 s, answers it with too_many_pings).
		keepAliveMinTimeMs: 50,
	});
	await daemon.ready;
	baseUrl = `http://127.0.0.1:${daemon.ports.sync}`;
});

afterAll(async () => {
	await daemon.close();
});

describe("SyncFlags", () => {
	it("streams full snapshots in flagd's format with sync_context, then one per change", async () => {
		const controller = new AbortController();
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl }),
		);
		const iterator = client
			.syncFlags({ providerId: "test" }, { signal: controller.signal })
			[Symbol.asyncIterator]();
		try {
			const first = (await iterator.next()).value as SyncFlagsResponse;
			expect(first.syncContext).toEqual({ region: "eu" });
			expect(JSON.parse(first.flagConfiguration)).toEqual({
				flags: {
					targeted: {
						state: "ENABLED",
						defaultVariant: "a",
						variants: { a: "A", b: "B" },
						targeting: {
							if: [{ "==": [{ var: "role" }, "admin"] }, "b", null],
						},
						source: "mem:main",
						metadata: {},
					},
					plain: {
						state: "DISABLED",
						defaultVariant: "",
						variants: { x: 1 },
						source: "mem:main",
						metadata: {},
					},
					checkout: {
						state: "ENABLED",
						defaultVariant: "b",
						variants: { a: "A", b: "B" },
						source: "mem:payments",
						metadata: { flagSetId: "payments", version: "7", owner: "pay" },
					},
				},
			});
			payments.push({
				metadata: { flagSetId: "payments" },
				flags: { checkout: flag("a") },
			});
			const second = (await iterator.next()).value as SyncFlagsResponse;
			expect(
				JSON.parse(second.flagConfiguration).flags.checkout.defaultVariant,
			).toBe("a");
		} finally {
			controller.abort();
		}
	});

	it("takes the selector from the flagd-selector header first, then the request body", async () => {
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl }),
		);
		const fromBody = await client.fetchAllFlags({
			selector: "flagSetId=payments",
		});
		expect(Object.keys(JSON.parse(fromBody.flagConfiguration).flags)).toEqual([
			"checkout",
		]);
		const fromHeader = await client.fetchAllFlags(
			{ selector: "flagSetId=payments" },
			{ headers: { "flagd-selector": "source=mem:main" } },
		);
		expect(
			Object.keys(JSON.parse(fromHeader.flagConfiguration).flags).sort(),
		).toEqual(["plain", "targeted"]);
	});

	it("rejects an invalid selector with INVALID_ARGUMENT", async () => {
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl }),
		);
		const failure = await client
			.fetchAllFlags({ selector: "what=ever" })
			.catch((e: unknown) => e);
		expect((failure as ConnectError).code).toBe(Code.InvalidArgument);
	});

	it("answers GetMetadata with the static context", async () => {
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({ baseUrl }),
		);
		expect((await client.getMetadata({})).metadata).toEqual({ region: "eu" });
	});

	it("serves the Connect protocol over HTTP/1.1 too (fetch-based providers), streams included", async () => {
		const client = createClient(
			FlagSyncService,
			createConnectTransport({ baseUrl, httpVersion: "1.1" }),
		);
		expect((await client.getMetadata({})).metadata).toEqual({ region: "eu" });
		const abort = new AbortController();
		try {
			for await (const response of client.syncFlags(
				{ providerId: "connect-h1" },
				{ signal: abort.signal },
			)) {
				expect(JSON.parse(response.flagConfiguration).flags).toBeDefined();
				break;
			}
		} finally {
			abort.abort();
		}
	});

	it("serves @grpc/grpc-js with keepalive pings every 100 ms over a stream when --keep-alive-min-time allows them", async () => {
		const client = new grpc.Client(
			`127.0.0.1:${daemon.ports.sync}`,
			grpc.credentials.createInsecure(),
			{
				"grpc.keepalive_time_ms": 100,
				"grpc.keepalive_timeout_ms": 1_000,
				"grpc.keepalive_permit_without_calls": 1,
			},
		);
		const messages: SyncFlagsResponse[] = [];
		const call = client.makeServerStreamRequest(
			"/flagd.sync.v1.FlagSyncService/SyncFlags",
			(req: { providerId: string }) =>
				Buffer.from(
					toBinary(SyncFlagsRequestSchema, create(SyncFlagsRequestSchema, req)),
				),
			(buf: Buffer) => fromBinary(SyncFlagsResponseSchema, buf),
			{ providerId: "grpc-js" },
		);
		const errors: unknown[] = [];
		call.on("data", (m: SyncFlagsResponse) => messages.push(m));
		call.on("error", (e: unknown) => errors.push(e));
		try {
			await waitFor(() => messages.length === 1, 2_000, "first snapshot");
			// Several keepalive rounds pass on the open stream; the server must not drop the connection.
			await new Promise((resolve) => setTimeout(resolve, 600));
			main.push({ flags: { targeted: flag("b") } });
			await waitFor(() => messages.length === 2, 2_000, "second snapshot");
			expect(
				JSON.parse(messages[1]!.flagConfiguration).flags.targeted
					.defaultVariant,
			).toBe("b");
			expect(errors).toEqual([]);
		} finally {
			call.cancel();
			client.close();
		}
	});
});

describe("startup", () => {
	it("holds the first snapshot until every source delivered, so a downstream never sees an empty store", async () => {
		const late = new MemorySource("mem:late");
		const other = await startTestDaemon([late]);
		const controller = new AbortController();
		try {
			const client = createClient(
				FlagSyncService,
				createGrpcTransport({
					baseUrl: `http://127.0.0.1:${other.ports.sync}`,
				}),
			);
			const iterator = client
				.syncFlags({}, { signal: controller.signal })
				[Symbol.asyncIterator]();
			const first = iterator.next();
			await new Promise((resolve) => setTimeout(resolve, 50));
			late.push({ flags: { f: flag("a") } });
			const message = (await first).value as SyncFlagsResponse;
			expect(Object.keys(JSON.parse(message.flagConfiguration).flags)).toEqual([
				"f",
			]);
		} finally {
			controller.abort();
			await other.close();
		}
	});
});

describe("stream deadline", () => {
	it("ends SyncFlags with DEADLINE_EXCEEDED after streamDeadlineMs", async () => {
		const source = new MemorySource("mem:d", { flags: { f: flag("a") } });
		const other = await startTestDaemon([source], { streamDeadlineMs: 200 });
		try {
			const client = createClient(
				FlagSyncService,
				createGrpcTransport({
					baseUrl: `http://127.0.0.1:${other.ports.sync}`,
				}),
			);
			const iterator = client.syncFlags({})[Symbol.asyncIterator]();
			expect((await iterator.next()).done).toBe(false);
			const failure = await iterator.next().catch((e: unknown) => e);
			expect((failure as ConnectError).code).toBe(Code.DeadlineExceeded);
		} finally {
			await other.close();
		}
	});
});

describe("GetMetadata disabled", () => {
	it("answers UNIMPLEMENTED with disableSyncMetadata", async () => {
		const source = new MemorySource("mem:z", { flags: {} });
		const other = await startTestDaemon([source], {
			disableSyncMetadata: true,
		});
		try {
			const client = createClient(
				FlagSyncService,
				createGrpcTransport({
					baseUrl: `http://127.0.0.1:${other.ports.sync}`,
				}),
			);
			const failure = await client.getMetadata({}).catch((e: unknown) => e);
			expect((failure as ConnectError).code).toBe(Code.Unimplemented);
		} finally {
			await other.close();
		}
	});
});
