/**
 * FlagdProvider lifecycle under injected network faults: a real in-test flagd server behind the fault-injection
 * TCP proxy (test/support/tcp-proxy.ts), driven through the OpenFeature server SDK. Asserts the event sequence
 * and its timing, the cache through STALE/ERROR/READY, and that no call outlives its deadline.
 */

import { Code } from "@connectrpc/connect";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	it,
} from "@jest/globals";
import {
	type Client,
	ErrorCode,
	OpenFeature,
	ProviderEvents,
	ProviderStatus,
} from "@openfeature/server-sdk";
import { type FakeFlagd, startFakeFlagd } from "../support/fake-flagd.js";
import {
	quietLogger,
	type RecordingLogger,
	recordingLogger,
	waitFor,
} from "../support/provider-test-helpers.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let flagd: FakeFlagd;
let proxy: TcpProxy;
let domainCounter = 0;
const providers: FlagdProvider[] = [];

interface Recorded {
	readonly client: Client;
	readonly provider: FlagdProvider;
	readonly events: Array<{
		event: ProviderEvents;
		atMs: number;
		errorCode?: string;
		flagsChanged?: string[];
	}>;
	readonly names: () => ProviderEvents[];
	readonly logger: RecordingLogger;
}

beforeAll(async () => {
	flagd = await startFakeFlagd({
		flags: { "static-flag": { value: "one", variant: "a" } },
	});
});

afterEach(async () => {
	await OpenFeature.clearProviders();
	for (const p of providers.splice(0)) await p.onClose();
	await proxy?.close();
	flagd.flags.set("static-flag", { value: "one", variant: "a" });
	Object.assign(flagd.behaviour, {
		streamErrorCode: undefined,
		streamSilent: false,
		evaluationDelayMs: 0,
	});
});

afterAll(async () => {
	await OpenFeature.close();
	await flagd.close();
});

/** Registers a provider (through a fresh proxy) without waiting, recording every event with its time. */
async function register(
	options: FlagdProviderOptions = {},
	{ blocked = false } = {},
): Promise<Recorded & { init: Promise<void> }> {
	proxy = await startTcpProxy({
		target: { host: "127.0.0.1", port: flagd.port },
	});
	if (blocked) proxy.block();
	const logger = recordingLogger();
	const provider = new FlagdProvider({
		host: "127.0.0.1",
		port: proxy.port,
		env: {},
		logger,
		retryBackoffMs: 50,
		retryBackoffMaxMs: 100,
		...options,
	});
	providers.push(provider);
	const domain = `life-${domainCounter++}`;
	const client = OpenFeature.getClient(domain);
	const events: Recorded["events"] = [];
	for (const event of [
		ProviderEvents.Ready,
		ProviderEvents.Error,
		ProviderEvents.Stale,
		ProviderEvents.ConfigurationChanged,
	]) {
		client.addHandler(event, (details) => {
			const errorCode = details?.errorCode;
			const flagsChanged = details?.flagsChanged;
			events.push({
				event,
				atMs: Date.now(),
				...(typeof errorCode === "string" ? { errorCode } : {}),
				...(Array.isArray(flagsChanged)
					? { flagsChanged: flagsChanged as string[] }
					: {}),
			});
		});
	}
	const init = OpenFeature.setProviderAndWait(domain, provider);
	return {
		client,
		provider,
		events,
		names: () => events.map((e) => e.event),
		logger,
		init,
	};
}

async function connected(
	options: FlagdProviderOptions = {},
): Promise<Recorded> {
	const r = await register(options);
	await r.init;
	return r;
}

const since = (
	events: Recorded["events"],
	event: ProviderEvents,
	fromMs: number,
): number => {
	const e = events.find((x) => x.event === event && x.atMs >= fromMs);
	if (!e) throw new Error(`no ${event} event`);
	return e.atMs - fromMs;
};

describe("initialization", () => {
	it("rejects after deadlineMs when flagd is unreachable, keeps retrying and becomes READY later", async () => {
		const started = Date.now();
		const r = await register({ deadlineMs: 300 }, { blocked: true });
		await expect(r.init).rejects.toThrow(/no connection within deadlineMs=300/);
		expect(Date.now() - started).toBeLessThan(1000);
		expect(r.client.providerStatus).toBe(ProviderStatus.ERROR);
		proxy.unblock();
		await waitFor(
			() => r.client.providerStatus === ProviderStatus.READY,
			3000,
			"READY after unblock",
		);
		expect(r.names()).toEqual([ProviderEvents.Error, ProviderEvents.Ready]);
		expect((await r.client.getStringDetails("static-flag", "x")).value).toBe(
			"one",
		);
	});

	it("becomes FATAL on a configured status code and stays FATAL (no retries, no decay to ERROR)", async () => {
		flagd.behaviour.streamErrorCode = Code.PermissionDenied;
		const streamsBefore = flagd.totalStreamCount;
		const r = await register({
			fatalStatusCodes: ["PERMISSION_DENIED"],
			retryGracePeriod: 0,
		});
		await expect(r.init).rejects.toMatchObject({
			code: ErrorCode.PROVIDER_FATAL,
		});
		expect(r.client.providerStatus).toBe(ProviderStatus.FATAL);
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(r.client.providerStatus).toBe(ProviderStatus.FATAL);
		expect(flagd.totalStreamCount - streamsBefore).toBe(1);
		const d = await r.client.getBooleanDetails("static-flag", false);
		expect(d.errorCode).toBe(ErrorCode.PROVIDER_FATAL);
		expect(
			r.logger.lines.some(
				(l) => l.level === "error" && l.text.includes("PermissionDenied"),
			),
		).toBe(true);
	});

	it("treats a status that is not configured as fatal as retryable", async () => {
		flagd.behaviour.streamErrorCode = Code.PermissionDenied;
		const r = await register({ deadlineMs: 300 });
		await expect(r.init).rejects.toThrow(/deadlineMs/);
		flagd.behaviour.streamErrorCode = undefined;
		await waitFor(
			() => r.client.providerStatus === ProviderStatus.READY,
			3000,
			"READY",
		);
	});

	it("gives up an attempt when flagd never sends provider_ready", async () => {
		flagd.behaviour.streamSilent = true;
		const r = await register({ deadlineMs: 250 });
		await expect(r.init).rejects.toThrow(/deadlineMs=250/);
		flagd.behaviour.streamSilent = false;
		await waitFor(
			() => r.client.providerStatus === ProviderStatus.READY,
			3000,
			"READY",
		);
	});
});

describe("connection loss", () => {
	it("READY → STALE (cache served) → ERROR after the grace period (cache purged) → READY + CONFIGURATION_CHANGED", async () => {
		const r = await connected({ retryGracePeriod: 1 });
		expect((await r.client.getStringDetails("static-flag", "x")).reason).toBe(
			"STATIC",
		);
		expect((await r.client.getStringDetails("static-flag", "x")).reason).toBe(
			"CACHED",
		);

		const cutAt = Date.now();
		proxy.block();
		proxy.cut();
		await waitFor(
			() => r.names().includes(ProviderEvents.Stale),
			2000,
			"STALE",
		);
		expect(since(r.events, ProviderEvents.Stale, cutAt)).toBeLessThan(500);
		expect(r.client.providerStatus).toBe(ProviderStatus.STALE);
		expect(await r.client.getStringDetails("static-flag", "x")).toMatchObject({
			value: "one",
			reason: "CACHED",
		});

		// The flag changes while the provider cannot hear about it.
		flagd.flags.set("static-flag", { value: "two", variant: "b" });

		await waitFor(
			() => r.names().includes(ProviderEvents.Error),
			3000,
			"ERROR",
		);
		const staleToError =
			since(r.events, ProviderEvents.Error, cutAt) -
			since(r.events, ProviderEvents.Stale, cutAt);
		expect(staleToError).toBeGreaterThanOrEqual(950);
		expect(staleToError).toBeLessThan(1600);
		expect(r.client.providerStatus).toBe(ProviderStatus.ERROR);
		const duringError = await r.client.getStringDetails("static-flag", "x");
		expect(duringError.reason).not.toBe("CACHED");
		expect(duringError.errorCode).toBe(ErrorCode.GENERAL);

		const backAt = Date.now();
		proxy.unblock();
		await waitFor(
			() => r.names().includes(ProviderEvents.ConfigurationChanged),
			3000,
			"CONFIGURATION_CHANGED",
		);
		expect(since(r.events, ProviderEvents.Ready, backAt)).toBeLessThan(1000);
		// The first READY is the SDK's, emitted once when initialize() resolved; the provider adds none of its own.
		expect(r.names()).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Error,
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
		expect(r.events[2]?.errorCode).toBe(ErrorCode.GENERAL);
		// No stale answer after READY: the new value, fetched (STATIC), then cached again.
		expect(await r.client.getStringDetails("static-flag", "x")).toMatchObject({
			value: "two",
			reason: "STATIC",
		});
		expect((await r.client.getStringDetails("static-flag", "x")).reason).toBe(
			"CACHED",
		);
		// Expected reconnects are not errors in the log.
		expect(r.logger.lines.filter((l) => l.level === "error")).toEqual([]);
	});

	it("READY → STALE → READY without ERROR when the outage is shorter than the grace period", async () => {
		const r = await connected({ retryGracePeriod: 5 });
		await r.client.getStringDetails("static-flag", "x");
		proxy.block();
		proxy.cut();
		await waitFor(
			() => r.names().includes(ProviderEvents.Stale),
			2000,
			"STALE",
		);
		flagd.flags.set("static-flag", { value: "three", variant: "c" });
		proxy.unblock();
		await waitFor(
			() => r.names().includes(ProviderEvents.ConfigurationChanged),
			3000,
			"CONFIGURATION_CHANGED",
		);
		expect(r.names()).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
		expect(await r.client.getStringDetails("static-flag", "x")).toMatchObject({
			value: "three",
			reason: "STATIC",
		});
	});

	it("reconnects a stream that the server ends cleanly", async () => {
		const r = await connected({ retryGracePeriod: 5 });
		const streams = flagd.totalStreamCount;
		flagd.endStreams();
		await waitFor(
			() => r.names().includes(ProviderEvents.ConfigurationChanged),
			3000,
			"reconnect",
		);
		expect(r.names()).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
		expect(flagd.totalStreamCount).toBeGreaterThan(streams);
	});

	it("goes STALE on a TCP reset and recovers", async () => {
		const r = await connected({ retryGracePeriod: 5 });
		proxy.reset();
		await waitFor(
			() => r.names().filter((n) => n === ProviderEvents.Ready).length === 2,
			3000,
			"READY after reset",
		);
		expect(r.names().slice(0, 3)).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Ready,
		]);
	});

	it("backs off between attempts instead of hammering an unreachable daemon", async () => {
		const r = await connected({
			retryGracePeriod: 5,
			retryBackoffMs: 100,
			retryBackoffMaxMs: 400,
		});
		proxy.block();
		proxy.cut();
		await waitFor(
			() => r.names().includes(ProviderEvents.Stale),
			2000,
			"STALE",
		);
		const before = proxy.acceptedCount;
		await new Promise((resolve) => setTimeout(resolve, 1500));
		const attempts = proxy.acceptedCount - before;
		// 50-100, 100-200, 200-400, then ≤400 ms apart: at most ~8 attempts in 1.5 s, at least 3.
		expect(attempts).toBeGreaterThanOrEqual(3);
		expect(attempts).toBeLessThanOrEqual(9);
	});
});

describe("stream deadline", () => {
	it("re-opens the stream every streamDeadlineMs without STALE, and re-validates the cache", async () => {
		const r = await connected({ streamDeadlineMs: 300, retryGracePeriod: 5 });
		await r.client.getStringDetails("static-flag", "x");
		expect((await r.client.getStringDetails("static-flag", "x")).reason).toBe(
			"CACHED",
		);
		const streams = flagd.totalStreamCount;
		await waitFor(
			() => r.names().includes(ProviderEvents.ConfigurationChanged),
			3000,
			"re-open",
		);
		expect(flagd.totalStreamCount).toBeGreaterThan(streams);
		expect(r.names()).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
		expect(r.client.providerStatus).toBe(ProviderStatus.READY);
		expect((await r.client.getStringDetails("static-flag", "x")).reason).toBe(
			"STATIC",
		);
	});
});

describe("stalled connection", () => {
	it("detects a black-holed link at the stream deadline (STALE, then ERROR) and recovers on a fresh connection", async () => {
		const r = await connected({
			streamDeadlineMs: 400,
			deadlineMs: 300,
			retryGracePeriod: 1,
		});
		const accepted = proxy.acceptedCount;
		const stalledAt = Date.now();
		proxy.stall();
		await waitFor(
			() => r.names().includes(ProviderEvents.Stale),
			3000,
			"STALE",
		);
		// Recycle at 400 ms, then no provider_ready within 300 ms on the stalled link.
		expect(
			since(r.events, ProviderEvents.Stale, stalledAt),
		).toBeGreaterThanOrEqual(600);
		expect(since(r.events, ProviderEvents.Stale, stalledAt)).toBeLessThan(1500);
		await waitFor(
			() => r.names().includes(ProviderEvents.Error),
			4000,
			"ERROR",
		);
		// The dead connection was dropped and new ones dialled, instead of retrying on it forever.
		expect(proxy.acceptedCount).toBeGreaterThan(accepted);
		proxy.resume();
		await waitFor(
			() => r.names().filter((n) => n === ProviderEvents.Ready).length === 2,
			4000,
			"READY after resume",
		);
		expect(r.names()).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Error,
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
	});
});

describe("deadlines under faults", () => {
	it("never blocks an evaluation past deadlineMs when the connection stalls", async () => {
		const r = await connected({ deadlineMs: 300, cache: "disabled" });
		proxy.stall();
		const started = Date.now();
		const d = await r.client.getStringDetails("static-flag", "fallback");
		expect(Date.now() - started).toBeLessThan(800);
		expect(d).toMatchObject({
			value: "fallback",
			errorCode: ErrorCode.GENERAL,
		});
		proxy.resume();
	});

	it("answers through a slow link within the deadline and fails fast beyond it", async () => {
		const r = await connected({ deadlineMs: 400, cache: "disabled" });
		proxy.slow(50);
		expect((await r.client.getStringDetails("static-flag", "x")).value).toBe(
			"one",
		);
		proxy.slow(600);
		const started = Date.now();
		const d = await r.client.getStringDetails("static-flag", "x");
		expect(d.errorCode).toBe(ErrorCode.GENERAL);
		expect(Date.now() - started).toBeLessThan(900);
		proxy.slow(0);
	});

	it("fails fast while the daemon is unreachable instead of retrying for seconds", async () => {
		const r = await connected({
			deadlineMs: 300,
			cache: "disabled",
			retryGracePeriod: 5,
		});
		proxy.block();
		proxy.cut();
		await waitFor(
			() => r.names().includes(ProviderEvents.Stale),
			2000,
			"STALE",
		);
		const started = Date.now();
		const d = await r.client.getBooleanDetails("static-flag", false);
		expect(Date.now() - started).toBeLessThan(800);
		expect(d.errorCode).toBe(ErrorCode.GENERAL);
		expect(d.errorCode).not.toBe(ErrorCode.FLAG_NOT_FOUND);
	});
});

describe("shutdown", () => {
	it("closes the stream and every connection, and stops reconnecting", async () => {
		const r = await connected();
		expect(flagd.openStreamCount).toBeGreaterThan(0);
		await OpenFeature.clearProviders();
		await r.provider.onClose();
		await waitFor(
			() => proxy.connectionCount === 0,
			2000,
			"connections closed",
		);
		const accepted = proxy.acceptedCount;
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(proxy.acceptedCount).toBe(accepted);
		expect(r.provider.connectionState).toBe("connecting");
		// Idempotent.
		await r.provider.onClose();
	});

	it("can be initialized again after onClose", async () => {
		const r = await connected();
		await r.provider.onClose();
		await r.provider.initialize();
		expect(r.provider.connectionState).toBe("ready");
	});

	it("aborts a pending initialization", async () => {
		proxy = await startTcpProxy({
			target: { host: "127.0.0.1", port: flagd.port },
		});
		proxy.block();
		const provider = new FlagdProvider({
			host: "127.0.0.1",
			port: proxy.port,
			env: {},
			logger: quietLogger,
			deadlineMs: 10_000,
		});
		const init = provider.initialize();
		await provider.onClose();
		await expect(init).rejects.toThrow(/closed/);
	});
});
