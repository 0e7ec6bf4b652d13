/**
 * Readiness before the first sync, with a real slow source: an http source whose server (on 127.0.0.1) holds the
 * first request until the test releases it. Until then the EventStream sends only keep_alive (never
 * provider_ready), ResolveAll fails with UNAVAILABLE, OFREP bulk answers 503 with Retry-After, and a provider's
 * initialisation stays pending; once released, provider_ready follows and the provider reads the real flag.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EvaluationServiceV1 } from "@flagd-ts/protocol";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { OpenFeature } from "@openfeature/server-sdk";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";
import { quietLogger } from "../support/provider-test-helpers.js";

const FLAGS = JSON.stringify({
	flags: {
		late: {
			state: "ENABLED",
			variants: { on: "arrived", off: "fallback" },
			defaultVariant: "on",
		},
	},
});

/** An HTTP flag server that answers nothing until `release()`; `requested` resolves on the first request. */
function heldFlagServer(): {
	server: Server;
	requested: Promise<void>;
	release(): void;
} {
	let release: () => void = () => {};
	const released = new Promise<void>((resolve) => {
		release = resolve;
	});
	let onRequest: () => void = () => {};
	const requested = new Promise<void>((resolve) => {
		onRequest = resolve;
	});
	const server = createServer((req: IncomingMessage, res) => {
		onRequest();
		req.resume();
		void released.then(() => {
			res.writeHead(200, { "Content-Type": "application/json" });
			res.end(FLAGS);
		});
	});
	return { server, requested, release };
}

const held = heldFlagServer();
let daemon: RunningDaemon;
let evaluationUrl: string;

beforeAll(async () => {
	await new Promise<void>((resolve) =>
		held.server.listen(0, "127.0.0.1", resolve),
	);
	const { port } = held.server.address() as AddressInfo;
	daemon = await startDaemon(
		loopbackDaemonConfig({
			sources: [
				{
					uri: `http://127.0.0.1:${port}/flags.json`,
					provider: "http",
					intervalMs: 600_000,
				},
			],
		}),
		{ keepAliveMs: 50 },
	);
	evaluationUrl = `http://127.0.0.1:${daemon.ports.evaluation}`;
	await held.requested;
});

afterAll(async () => {
	held.release();
	await OpenFeature.close();
	await daemon.close();
	held.server.closeAllConnections();
	await new Promise<void>((resolve) => held.server.close(() => resolve()));
});

describe("before the first sync", () => {
	it("keeps providers, the EventStream and the bulk APIs waiting, then serves the flags", async () => {
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port: daemon.ports.evaluation,
			deadlineMs: 20_000,
		});
		let providerReady = false;
		const init = OpenFeature.setProviderAndWait("first-sync", provider).then(
			() => {
				providerReady = true;
			},
		);

		const controller = new AbortController();
		const client = createClient(
			EvaluationServiceV1,
			createConnectTransport({ baseUrl: evaluationUrl, httpVersion: "1.1" }),
		);
		const events = client
			.eventStream({}, { signal: controller.signal })
			[Symbol.asyncIterator]();
		try {
			// Two idle intervals pass with keep_alive only: the daemon has no flags, so it is not ready.
			expect((await events.next()).value?.type).toBe("keep_alive");
			expect((await events.next()).value?.type).toBe("keep_alive");
			const management = `http://127.0.0.1:${daemon.ports.management}`;
			expect((await fetch(`${management}/readyz`)).status).toBe(412);

			const all = await client.resolveAll({}).catch((e: unknown) => e);
			expect(all).toBeInstanceOf(ConnectError);
			expect((all as ConnectError).code).toBe(Code.Unavailable);
			expect((all as ConnectError).rawMessage).toMatch(/not ready/);

			const bulk = await fetch(
				`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`,
				{ method: "POST", body: "{}" },
			);
			expect(bulk.status).toBe(503);
			expect(bulk.headers.get("retry-after")).toBe("1");
			expect(await bulk.json()).toEqual({
				errorCode: "GENERAL",
				errorDetails: expect.stringMatching(/not ready/),
			});
			expect(providerReady).toBe(false);

			held.release();
			let next = (await events.next()).value;
			while (next?.type === "keep_alive") next = (await events.next()).value;
			expect(next?.type).toBe("provider_ready");
			expect((await client.resolveAll({})).flags.late?.variant).toBe("on");

			await init;
			const details = await OpenFeature.getClient(
				"first-sync",
			).getStringDetails("late", "code-default");
			expect(details).toMatchObject({ value: "arrived", variant: "on" });
		} finally {
			controller.abort();
		}
	});
});
