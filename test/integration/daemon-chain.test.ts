/**
 * The daemon with its real sync sources (no test doubles): a flag file edited on disk reaches an EventStream
 * client as configuration_change with the exact keys, and a second daemon syncing from the first one's sync port
 * (grpc:// source → our FlagSyncService) serves the same flags and follows changes.
 */

import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import {
	createConnectTransport,
	createGrpcTransport,
} from "@connectrpc/connect-node";
import { EvaluationServiceV2 } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { defaultDaemonConfig } from "../../packages/daemon/src/runtime/default-daemon-config.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { waitFor } from "./daemon-harness.js";

function flag(variant: string) {
	return {
		state: "ENABLED",
		variants: { on: true, off: false },
		defaultVariant: variant,
	};
}

const LOCAL = {
	port: 0,
	managementPort: 0,
	syncPort: 0,
	ofrepPort: 0,
	bindAddress: "127.0.0.1",
};

let dir: string;
let file: string;
let upstream: RunningDaemon;
let downstream: RunningDaemon;

/** Writes the flag file atomically (write + rename), as editors and ConfigMap updates do. */
function writeFlags(flags: Record<string, unknown>): void {
	const temp = join(dir, `flags.${Date.now()}.tmp`);
	writeFileSync(temp, JSON.stringify({ flags }));
	renameSync(temp, file);
}

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), "daemon-chain-"));
	file = join(dir, "flags.json");
	writeFlags({ alpha: flag("on"), beta: flag("off") });
	upstream = await startDaemon(
		defaultDaemonConfig({
			...LOCAL,
			sources: [{ uri: `file:${file}`, provider: "file" }],
		}),
	);
	await upstream.ready;
	downstream = await startDaemon(
		defaultDaemonConfig({
			...LOCAL,
			sources: [
				{ uri: `grpc://127.0.0.1:${upstream.ports.sync}`, provider: "grpc" },
			],
		}),
	);
	await downstream.ready;
});

afterAll(async () => {
	await downstream?.close();
	await upstream?.close();
	rmSync(dir, { recursive: true, force: true });
});

describe("real sources", () => {
	it("a file change reaches an EventStream client with the exact keys", async () => {
		const controller = new AbortController();
		const client = createClient(
			EvaluationServiceV2,
			createConnectTransport({
				baseUrl: `http://127.0.0.1:${upstream.ports.evaluation}`,
				httpVersion: "1.1",
			}),
		);
		const iterator = client
			.eventStream({}, { signal: controller.signal })
			[Symbol.asyncIterator]();
		try {
			expect((await iterator.next()).value?.type).toBe("provider_ready");
			writeFlags({ alpha: flag("off"), gamma: flag("on") });
			const event = (await iterator.next()).value;
			expect(event?.type).toBe("configuration_change");
			expect(event?.data).toEqual({
				flags: {
					alpha: { type: "update" },
					gamma: { type: "write" },
					beta: { type: "delete" },
				},
			});
		} finally {
			controller.abort();
		}
	});

	it("a daemon syncing from another daemon's sync port serves and follows its flags", async () => {
		const client = createClient(
			EvaluationServiceV2,
			createGrpcTransport({
				baseUrl: `http://127.0.0.1:${downstream.ports.evaluation}`,
			}),
		);
		await waitFor(
			async () =>
				(
					await client
						.resolveBoolean({ flagKey: "gamma" })
						.catch(() => undefined)
				)?.value === true,
			3_000,
			"gamma on the downstream daemon",
		);
		writeFlags({ alpha: flag("on"), gamma: flag("off"), delta: flag("on") });
		await waitFor(
			async () =>
				(
					await client
						.resolveBoolean({ flagKey: "delta" })
						.catch(() => undefined)
				)?.value === true,
			3_000,
			"delta on the downstream daemon",
		);
		expect(await client.resolveBoolean({ flagKey: "gamma" })).toMatchObject({
			value: false,
			reason: "STATIC",
		});
		const sourceOf = downstream.store.get("delta")?.source;
		expect(sourceOf).toBe(`grpc://127.0.0.1:${upstream.ports.sync}`);
	});
});
