/**
 * The in-process resolver against a hand-written flagd.sync.v1 server (connect-node router on a real HTTP/2
 * socket on 127.0.0.1) that behaves like other daemons: no `sync_context` in the payloads (the provider then asks
 * GetMetadata), malformed payloads (logged and skipped, the flags in use stay), and a payload stream the test
 * drives step by step.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { FlagSyncService } from "@flagd-ts/protocol";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterEach, expect, it } from "@jest/globals";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import {
	INIT_DEADLINE_MS,
	recordingLogger,
	waitFor,
} from "../support/provider-test-helpers.js";

interface SyncServer {
	readonly port: number;
	/** Sends one payload to every open SyncFlags stream. */
	push(flagConfiguration: string): void;
	close(): Promise<void>;
}

function flags(color: string): string {
	return JSON.stringify({
		flags: {
			color: {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
				targeting: { if: [{ "==": [{ var: "region" }, "eu"] }, "blue", null] },
			},
		},
	});
}

async function startSyncServer(
	metadata: "eu" | "unimplemented",
): Promise<SyncServer> {
	const queues = new Set<(text: string) => void>();
	const routes = (router: ConnectRouter) =>
		router.service(FlagSyncService, {
			async *syncFlags(_req, ctx) {
				const pending: string[] = [flags("red")];
				let wake: (() => void) | undefined;
				const push = (text: string) => {
					pending.push(text);
					wake?.();
				};
				queues.add(push);
				try {
					while (!ctx.signal.aborted) {
						const next = pending.shift();
						if (next !== undefined) {
							yield { flagConfiguration: next };
							continue;
						}
						await new Promise<void>((resolve) => {
							wake = resolve;
							ctx.signal.addEventListener("abort", () => resolve(), {
								once: true,
							});
						});
					}
				} finally {
					queues.delete(push);
				}
			},
			fetchAllFlags() {
				return { flagConfiguration: flags("red") };
			},
			getMetadata() {
				if (metadata === "unimplemented")
					throw new ConnectError("disabled", Code.Unimplemented);
				return { metadata: { region: "eu" } };
			},
		});
	const server = http2.createServer(connectNodeAdapter({ routes }));
	const sessions = new Set<http2.ServerHttp2Session>();
	server.on("session", (s) => {
		sessions.add(s);
		s.on("close", () => sessions.delete(s));
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		port: (server.address() as AddressInfo).port,
		push: (text) => {
			for (const push of queues) push(text);
		},
		close: () =>
			new Promise((resolve) => {
				for (const s of sessions) s.destroy();
				server.close(() => resolve());
			}),
	};
}

const servers: SyncServer[] = [];
afterEach(async () => {
	await OpenFeature.clearProviders();
	for (const s of servers.splice(0)) await s.close();
});

it("asks GetMetadata when payloads carry no sync_context, and uses it as enrichment", async () => {
	const server = await startSyncServer("eu");
	servers.push(server);
	const provider = new FlagdProvider({
		env: {},
		logger: recordingLogger(),
		host: "127.0.0.1",
		port: server.port,
		deadlineMs: INIT_DEADLINE_MS,
		resolver: "in-process",
	});
	await OpenFeature.setProviderAndWait("no-sync-context", provider);
	expect(
		await OpenFeature.getClient("no-sync-context").getStringValue("color", ""),
	).toBe("blue");
});

it("skips malformed payloads with one log line each, keeping the flags in use, then applies the next good one", async () => {
	const server = await startSyncServer("unimplemented");
	servers.push(server);
	const logger = recordingLogger();
	const provider = new FlagdProvider({
		env: {},
		logger,
		host: "127.0.0.1",
		port: server.port,
		deadlineMs: INIT_DEADLINE_MS,
		resolver: "in-process",
	});
	await OpenFeature.setProviderAndWait("hostile", provider);
	const client = OpenFeature.getClient("hostile");
	const changes: string[][] = [];
	client.addHandler(ProviderEvents.ConfigurationChanged, (d) =>
		changes.push(d?.flagsChanged ?? []),
	);
	// GetMetadata is UNIMPLEMENTED: no enrichment, and no warning for it.
	expect(await client.getStringValue("color", "")).toBe("red");
	server.push("{ not json");
	server.push(
		JSON.stringify({ flags: { x: { state: "BOGUS", variants: {} } } }),
	);
	server.push("[]");
	server.push(flags("blue"));
	await waitFor(() => changes.length > 0, 10_000, "the change event");
	expect(changes).toEqual([["color"]]);
	const errors = logger.lines
		.filter((l) => l.level === "error")
		.map((l) => l.text);
	expect(errors).toHaveLength(3);
	for (const line of errors)
		expect(line).toMatch(
			/sync payload rejected \(.*\); keeping the flags in use/,
		);
	expect(logger.lines.filter((l) => l.level === "warn")).toEqual([]);
	expect(await client.getStringValue("color", "")).toBe("blue");
});

it("refuses a context the RPC resolver refuses (INVALID_CONTEXT)", async () => {
	const server = await startSyncServer("unimplemented");
	servers.push(server);
	const provider = new FlagdProvider({
		env: {},
		logger: recordingLogger(),
		host: "127.0.0.1",
		port: server.port,
		deadlineMs: INIT_DEADLINE_MS,
		resolver: "in-process",
	});
	await OpenFeature.setProviderAndWait("bad-context", provider);
	const details = await OpenFeature.getClient("bad-context").getStringDetails(
		"color",
		"fallback",
		{ targetingKey: 42 as unknown as string },
	);
	expect(details).toMatchObject({
		value: "fallback",
		errorCode: "INVALID_CONTEXT",
	});
});
