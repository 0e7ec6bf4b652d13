/**
 * A source URI's credentials stay secret end to end: a daemon (real logger at debug, JSON lines captured) syncs
 * from an http source on 127.0.0.1 whose URI carries `?token=…`; neither the log lines (startup, first sync, a
 * failing poll) nor the sync service's snapshots (FetchAllFlags, SyncFlags: the `source` of each flag) contain it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { FlagSyncService } from "@flagd-ts/protocol";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createLogger } from "../../packages/daemon/src/logging/create-logger.js";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";
import { waitFor } from "./daemon-harness.js";

const TOKEN = "tok-9f8e7d6c5b4a";
const FLAGS = JSON.stringify({
	flags: {
		greeting: {
			state: "ENABLED",
			variants: { hi: "hello" },
			defaultVariant: "hi",
		},
	},
});

let upstream: Server;
let failing = false;
let daemon: RunningDaemon;
const lines: string[] = [];

beforeAll(async () => {
	upstream = createServer((_req, res) => {
		if (failing) {
			res.writeHead(500);
			res.end("broken");
			return;
		}
		res.writeHead(200, { "content-type": "application/json" });
		res.end(FLAGS);
	});
	await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
	const { port } = upstream.address() as AddressInfo;
	daemon = await startDaemon(
		loopbackDaemonConfig({
			debug: true,
			sources: [
				{
					uri: `http://127.0.0.1:${port}/flags.json?token=${TOKEN}`,
					provider: "http",
					intervalMs: 50,
				},
			],
		}),
		{
			logger: createLogger({
				format: "json",
				debug: true,
				sink: { write: (chunk: string) => void lines.push(chunk) },
			}),
		},
	);
	await daemon.ready;
});

afterAll(async () => {
	await daemon.close();
	upstream.closeAllConnections();
	await new Promise((r) => upstream.close(r));
});

describe("a source URI with a token", () => {
	it("is redacted in sync snapshots", async () => {
		const client = createClient(
			FlagSyncService,
			createGrpcTransport({
				baseUrl: `http://127.0.0.1:${daemon.ports.sync}`,
			}),
		);
		const all = await client.fetchAllFlags({});
		expect(all.flagConfiguration).not.toContain(TOKEN);
		const parsed = JSON.parse(all.flagConfiguration) as {
			flags: Record<string, { source: string }>;
		};
		expect(parsed.flags.greeting?.source).toMatch(
			/^http:\/\/127\.0\.0\.1:\d+\/flags\.json\?token=\[redacted\]$/,
		);
		const controller = new AbortController();
		try {
			const stream = client
				.syncFlags({}, { signal: controller.signal })
				[Symbol.asyncIterator]();
			const first = (await stream.next()).value;
			expect(first?.flagConfiguration).toBe(all.flagConfiguration);
		} finally {
			controller.abort();
		}
	});

	it("never appears in the log, also when polls fail", async () => {
		failing = true;
		await waitFor(
			() => lines.some((l) => l.includes("poll failed")),
			10_000,
			"a failed poll to be logged",
		);
		failing = false;
		expect(lines.some((l) => l.includes("token=[redacted]"))).toBe(true);
		expect(lines.join("")).not.toContain(TOKEN);
	});
});
