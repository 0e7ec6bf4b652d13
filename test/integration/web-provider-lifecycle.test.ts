/**
 * The connection state machine of FlagdWebProvider against the real daemon under Node's fetch: initialize settles
 * within deadlineMs while the daemon is down and the provider reaches READY once it is up; a daemon restart gives
 * STALE → ERROR (grace period) → READY + CONFIGURATION_CHANGED; values are served with reason STALE meanwhile;
 * a failed context change reports ERROR and recovers; close stops everything.
 */

import { createConnectTransport } from "@connectrpc/connect-web";
import { FlagdWebProvider, fromConnectTransport } from "@flagd-ts/web-provider";
import { afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import {
	OpenFeature,
	ProviderStatus,
	StandardResolutionReasons,
} from "@openfeature/web-sdk";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";
import {
	closedPort,
	memoryLogger,
	recordEvents,
	resetOpenFeature,
} from "./web-provider-support.js";

const daemons: RunningDaemon[] = [];

async function startOn(
	port: number,
	document: unknown = BASIC_FLAGS,
): Promise<RunningDaemon> {
	const daemon = await startTestDaemon(
		[new MemorySource("mem:flags", document)],
		{ port },
	);
	daemons.push(daemon);
	await daemon.ready;
	return daemon;
}

/** deadlineMs is generous by default: the 2-core machine also runs Chromium tests in parallel. */
function provider(port: number, logger = memoryLogger(), deadlineMs = 1_500) {
	return new FlagdWebProvider({
		host: "127.0.0.1",
		port,
		deadlineMs,
		retryBackoffMs: 30,
		retryBackoffMaxMs: 150,
		retryGracePeriod: 1,
		logger,
	});
}

const sdkLog = memoryLogger();
beforeAll(() => {
	// The SDK logs rejected context changes; keep them here (asserted below) instead of on the console.
	OpenFeature.setLogger(sdkLog);
});

afterEach(async () => {
	await resetOpenFeature();
	for (const d of daemons.splice(0)) await d.close();
});

describe("FlagdWebProvider lifecycle", () => {
	it("settles initialize within deadlineMs when the daemon is down, keeps retrying, then becomes READY", async () => {
		const port = await closedPort();
		const logger = memoryLogger();
		const p = provider(port, logger, 300);
		const client = OpenFeature.getClient("down");
		const events = recordEvents(client);
		const started = Date.now();
		await expect(OpenFeature.setProviderAndWait("down", p)).rejects.toThrow(
			/deadlineMs=300/,
		);
		// 300 ms plus scheduling slack on a loaded machine; the peer provider never settled at all.
		expect(Date.now() - started).toBeLessThan(1_500);
		expect(client.providerStatus).toBe(ProviderStatus.ERROR);
		expect(client.getBooleanDetails("bool-flag", true).errorCode).toBe(
			"PROVIDER_NOT_READY",
		);
		expect(
			logger.lines.some(
				(l) => l.startsWith("warn") && l.includes("unavailable"),
			),
		).toBe(true);

		await startOn(port);
		await waitFor(
			() => client.providerStatus === ProviderStatus.READY,
			5_000,
			"READY after the daemon started",
		);
		expect(client.getBooleanDetails("bool-flag", true)).toMatchObject({
			value: false,
			reason: "STATIC",
		});
		const types = events.map((e) => e.type);
		expect(types.slice(types.indexOf("PROVIDER_READY"))).toEqual([
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]);
	});

	it("goes STALE then ERROR when the daemon stops, serves STALE values, and on restart READY then CONFIGURATION_CHANGED", async () => {
		const first = await startOn(0);
		const port = first.ports.evaluation ?? 0;
		await OpenFeature.setProviderAndWait("restart", provider(port));
		const client = OpenFeature.getClient("restart");
		const events = recordEvents(client);

		await first.close();
		await waitFor(
			() => client.providerStatus === ProviderStatus.STALE,
			3_000,
			"STALE",
		);
		expect(client.getBooleanDetails("bool-flag", true)).toMatchObject({
			value: false,
			reason: StandardResolutionReasons.STALE,
		});
		await waitFor(
			() => client.providerStatus === ProviderStatus.ERROR,
			3_000,
			"ERROR after the grace period",
		);

		const changed = {
			flags: {
				...BASIC_FLAGS.flags,
				"bool-flag": {
					...BASIC_FLAGS.flags["bool-flag"],
					defaultVariant: "on",
				},
			},
		};
		await startOn(port, changed);
		await waitFor(
			() => client.providerStatus === ProviderStatus.READY,
			5_000,
			"READY after the restart",
		);
		await waitFor(
			() => events.some((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED"),
			2_000,
			"change event",
		);
		expect(events.map((e) => e.type)).toEqual([
			"PROVIDER_STALE",
			"PROVIDER_ERROR",
			"PROVIDER_READY",
			"PROVIDER_CONFIGURATION_CHANGED",
		]);
		expect(events.at(-1)?.flagsChanged).toEqual(["bool-flag"]);
		expect(client.getBooleanDetails("bool-flag", false)).toMatchObject({
			value: true,
			reason: "STATIC",
		});
	});

	it("rejects a context change it cannot load (ERROR, values dropped) and recovers with the new context", async () => {
		const first = await startOn(0);
		const port = first.ports.evaluation ?? 0;
		await OpenFeature.setProviderAndWait("ctx-fail", provider(port), {
			email: "a@example.com",
		});
		const client = OpenFeature.getClient("ctx-fail");
		await first.close();
		await waitFor(
			() => client.providerStatus === ProviderStatus.STALE,
			3_000,
			"STALE",
		);
		await OpenFeature.setContext("ctx-fail", { email: "b@bar.com" });
		expect(client.providerStatus).toBe(ProviderStatus.ERROR);
		expect(
			sdkLog.lines.some((l) =>
				l.includes("could not load flags for the new context"),
			),
		).toBe(true);
		// The old user's values must not be served for the new user.
		expect(client.getStringDetails("headerColor", "x").value).toBe("x");

		await startOn(port);
		await waitFor(
			() => client.providerStatus === ProviderStatus.READY,
			5_000,
			"READY",
		);
		expect(client.getStringValue("headerColor", "x")).toBe("#0000FF");
	});

	it("rejects contexts flagd cannot take, without losing the current flags", async () => {
		const daemon = await startOn(0);
		await OpenFeature.setProviderAndWait(
			"bad-ctx",
			provider(daemon.ports.evaluation ?? 0),
		);
		const client = OpenFeature.getClient("bad-ctx");
		await OpenFeature.setContext("bad-ctx", { n: Number.NaN });
		expect(client.providerStatus).toBe(ProviderStatus.ERROR);
		expect(client.getBooleanValue("bool-flag", true)).toBe(false);
	});

	it("stops the stream, fetches and timers on close, even while reconnecting", async () => {
		const daemon = await startOn(0);
		const p = provider(daemon.ports.evaluation ?? 0);
		await OpenFeature.setProviderAndWait("close", p);
		await daemon.close();
		await waitFor(() => p.connectionState === "stale", 3_000, "stale");
		const started = Date.now();
		await OpenFeature.clearProviders();
		expect(Date.now() - started).toBeLessThan(1_000);
		expect(p.connectionState).toBe("closed");
	});

	it("works over connect-web's binary Connect transport through fromConnectTransport", async () => {
		const daemon = await startOn(0);
		const p = new FlagdWebProvider({
			transport: fromConnectTransport(
				createConnectTransport({
					baseUrl: `http://127.0.0.1:${daemon.ports.evaluation}`,
					useBinaryFormat: true,
				}),
			),
			deadlineMs: 2_000,
			logger: memoryLogger(),
		});
		await OpenFeature.setProviderAndWait("binary", p, { email: "x@bar.com" });
		const client = OpenFeature.getClient("binary");
		expect(client.getStringDetails("headerColor", "x")).toMatchObject({
			value: "#0000FF",
			variant: "blue",
		});
		expect(
			client.getObjectDetails("object-flag", {}).flagMetadata,
		).toMatchObject({ owner: "team-a" });
	});
});
