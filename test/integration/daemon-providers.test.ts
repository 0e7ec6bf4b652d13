/**
 * Drop-in check with the published OpenFeature flagd providers as clients: the Node provider in RPC mode
 * (grpc-js, evaluation v2 + EventStream), in in-process mode (grpc-js SyncFlags against our sync port), and the
 * web provider (connect-web v1 ResolveAll + EventStream over fetch).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { FlagdProvider } from "@openfeature/flagd-provider";
import { FlagdWebProvider } from "@openfeature/flagd-web-provider";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import {
	OpenFeature as WebOpenFeature,
	ProviderEvents as WebProviderEvents,
} from "@openfeature/web-sdk";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { INIT_DEADLINE_MS } from "../support/provider-test-helpers.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
	waitFor,
} from "./daemon-harness.js";

let daemon: RunningDaemon;
let source: MemorySource;
let webProvider: FlagdWebProvider | undefined;

// The in-process provider's own evaluator warns on console about the deliberately broken flag; leave it out here.
const { "bad-ref-flag": _broken, ...PROVIDER_FLAGS } = BASIC_FLAGS.flags;

beforeAll(async () => {
	source = new MemorySource("mem:providers", { flags: PROVIDER_FLAGS });
	daemon = await startTestDaemon([source]);
	await daemon.ready;
});

afterAll(async () => {
	await OpenFeature.close();
	// Closing the web provider cancels its EventStream, and it reports the cancelled stream as an Error event a
	// moment later; wait for it, so it does not reach the OpenFeature global after this test file is torn down.
	const provider = webProvider;
	const cancelled =
		provider === undefined
			? Promise.resolve()
			: new Promise<void>((resolve) =>
					provider.events.addHandler(WebProviderEvents.Error, () => resolve()),
				);
	await WebOpenFeature.close();
	await Promise.race([
		cancelled,
		new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
	]);
	await new Promise((resolve) => setImmediate(resolve));
	await daemon.close();
});

describe("@openfeature/flagd-provider", () => {
	it("RPC mode: resolves, maps errors and receives configuration changes", async () => {
		const provider = new FlagdProvider({
			host: "127.0.0.1",
			port: daemon.ports.evaluation ?? 0,
			deadlineMs: INIT_DEADLINE_MS,
			tls: false,
			cache: "disabled",
		});
		await OpenFeature.setProviderAndWait("rpc", provider);
		const client = OpenFeature.getClient("rpc");
		expect(
			await client.getStringDetails("headerColor", "none", {
				email: "x@bar.com",
			}),
		).toMatchObject({
			value: "#0000FF",
			variant: "blue",
			reason: "TARGETING_MATCH",
		});
		expect(await client.getNumberValue("int-flag", 0)).toBe(10);
		expect(await client.getBooleanDetails("nope", true)).toMatchObject({
			value: true,
			errorCode: "FLAG_NOT_FOUND",
		});
		expect(
			await client.getBooleanDetails("code-default-flag", true),
		).toMatchObject({ value: true, reason: "DEFAULT" });
		const changed: string[][] = [];
		client.addHandler(ProviderEvents.ConfigurationChanged, (details) =>
			changed.push(details?.flagsChanged ?? []),
		);
		source.push({
			flags: {
				...PROVIDER_FLAGS,
				"new-flag": BASIC_FLAGS.flags["bool-flag"],
			},
		});
		await waitFor(
			() => changed.some((keys) => keys.includes("new-flag")),
			3_000,
			"ConfigurationChanged",
		);
		expect(await client.getBooleanValue("new-flag", true)).toBe(false);
	});

	it("in-process mode: syncs from the sync port and evaluates locally", async () => {
		const provider = new FlagdProvider({
			host: "127.0.0.1",
			port: daemon.ports.sync ?? 0,
			deadlineMs: INIT_DEADLINE_MS,
			tls: false,
			resolverType: "in-process",
		});
		await OpenFeature.setProviderAndWait("in-process", provider);
		const client = OpenFeature.getClient("in-process");
		expect(
			await client.getStringDetails("headerColor", "none", {
				email: "x@bar.com",
			}),
		).toMatchObject({
			value: "#0000FF",
			variant: "blue",
			reason: "TARGETING_MATCH",
		});
		expect(await client.getBooleanValue("bool-flag", true)).toBe(false);
	});
});

describe("@openfeature/flagd-web-provider", () => {
	it("resolves every flag through ResolveAll over fetch", async () => {
		const provider = new FlagdWebProvider({
			host: "127.0.0.1",
			port: daemon.ports.evaluation ?? 0,
			tls: false,
			// Peer defect (0.7.4): onClose() cancels the stream, whose error callback then schedules a ref'd reconnect
			// timer anyway (up to maxDelay), keeping the process alive; and maxRetries 0 means "infinite". One quick
			// retry with a short delay lets its loop end once the daemon is gone, so in-band Jest can exit.
			maxRetries: 1,
			maxDelay: 10,
		});
		webProvider = provider;
		await WebOpenFeature.setContext({ email: "x@bar.com" });
		await WebOpenFeature.setProviderAndWait(provider);
		const client = WebOpenFeature.getClient();
		expect(client.getStringDetails("headerColor", "none")).toMatchObject({
			value: "#0000FF",
			variant: "blue",
			reason: "TARGETING_MATCH",
		});
		expect(client.getBooleanValue("bool-flag", true)).toBe(false);
		expect(client.getNumberValue("float-flag", 0)).toBe(0.5);
	});
});
