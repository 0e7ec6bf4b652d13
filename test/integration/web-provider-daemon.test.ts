/**
 * FlagdWebProvider under Node's fetch against the real daemon (started in-process on 127.0.0.1, port 0), driven
 * through @openfeature/web-sdk: snapshot evaluation, context changes, domain contexts, configuration changes,
 * selector, and the error paths of a real connection (daemon down at start, daemon restart, close).
 */

import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { FlagdWebProvider } from "@flagd-ts/web-provider";
import { afterEach, describe, expect, it } from "@jest/globals";
import {
	ErrorCode,
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
	memoryLogger,
	recordEvents,
	resetOpenFeature,
} from "./web-provider-support.js";

const daemons: RunningDaemon[] = [];

async function daemonWith(
	document: unknown,
	port = 0,
	uri = "mem:flags",
): Promise<{
	daemon: RunningDaemon;
	source: MemorySource;
	port: number;
}> {
	const source = new MemorySource(uri, document);
	const daemon = await startTestDaemon([source], { port });
	daemons.push(daemon);
	await daemon.ready;
	return { daemon, source, port: daemon.ports.evaluation ?? 0 };
}

function provider(
	port: number,
	extra: Partial<ConstructorParameters<typeof FlagdWebProvider>[0]> = {},
) {
	return new FlagdWebProvider({
		host: "127.0.0.1",
		port,
		deadlineMs: 2_000,
		retryBackoffMs: 50,
		retryBackoffMaxMs: 200,
		logger: memoryLogger(),
		...extra,
	});
}

afterEach(async () => {
	await resetOpenFeature();
	for (const d of daemons.splice(0)) await d.close();
});

describe("FlagdWebProvider against the daemon: evaluation", () => {
	it("loads every flag on initialize and answers synchronously with value, variant, reason and metadata", async () => {
		const { port } = await daemonWith(BASIC_FLAGS);
		await OpenFeature.setProviderAndWait("eval", provider(port));
		const client = OpenFeature.getClient("eval");
		expect(client.providerStatus).toBe(ProviderStatus.READY);
		expect(client.getBooleanDetails("bool-flag", true)).toMatchObject({
			value: false,
			variant: "off",
			reason: StandardResolutionReasons.STATIC,
		});
		expect(client.getStringValue("headerColor", "x")).toBe("#FF0000");
		expect(client.getNumberValue("int-flag", 0)).toBe(10);
		expect(client.getNumberValue("float-flag", 0)).toBe(0.5);
		const object = client.getObjectDetails("object-flag", {});
		expect(object.value).toEqual({ a: 1, nested: { b: [true, "x"] } });
		expect(object.flagMetadata).toMatchObject({ owner: "team-a" });
	});

	it("reports FLAG_NOT_FOUND, TYPE_MISMATCH, GENERAL for flagd's ERROR reason, and caller defaults for disabled flags", async () => {
		const { port } = await daemonWith(BASIC_FLAGS);
		await OpenFeature.setProviderAndWait("errors", provider(port));
		const client = OpenFeature.getClient("errors");
		expect(client.getBooleanDetails("no-such-flag", true)).toMatchObject({
			value: true,
			errorCode: ErrorCode.FLAG_NOT_FOUND,
		});
		expect(client.getStringDetails("bool-flag", "dflt")).toMatchObject({
			value: "dflt",
			errorCode: ErrorCode.TYPE_MISMATCH,
		});
		expect(client.getBooleanDetails("bad-ref-flag", true)).toMatchObject({
			value: true,
			errorCode: ErrorCode.GENERAL,
		});
		const disabled = client.getBooleanDetails("disabled-flag", true);
		expect(disabled).toMatchObject({
			value: true,
			reason: StandardResolutionReasons.DISABLED,
		});
		expect(disabled.errorCode).toBeUndefined();
	});

	it("re-fetches on a context change (RECONCILING, then CONTEXT_CHANGED) and accepts undefined and Date values", async () => {
		const { port } = await daemonWith(BASIC_FLAGS);
		await OpenFeature.setProviderAndWait("ctx", provider(port), {
			email: "a@example.com",
		});
		const client = OpenFeature.getClient("ctx");
		const events = recordEvents(client);
		expect(client.getStringValue("headerColor", "x")).toBe("#FF0000");
		const change = OpenFeature.setContext("ctx", {
			email: "someone@bar.com",
			// Not allowed by the type, but plain JS apps pass it (it broke the peer provider).
			nothing: undefined as unknown as string,
			since: new Date("2020-01-01T00:00:00Z"),
		});
		expect(client.providerStatus).toBe(ProviderStatus.RECONCILING);
		await change;
		expect(client.providerStatus).toBe(ProviderStatus.READY);
		expect(client.getStringDetails("headerColor", "x")).toMatchObject({
			value: "#0000FF",
			variant: "blue",
			reason: StandardResolutionReasons.TARGETING_MATCH,
		});
		expect(events.map((e) => e.type)).toEqual([
			"PROVIDER_RECONCILING",
			"PROVIDER_CONTEXT_CHANGED",
		]);
	});

	it("evaluates a domain's provider with the domain's context, never the global one, also on re-fetches", async () => {
		const { port, source } = await daemonWith(BASIC_FLAGS);
		await OpenFeature.setContext({ email: "global@bar.com" });
		await OpenFeature.setProviderAndWait("domain-a", provider(port), {
			email: "user@example.com",
		});
		const client = OpenFeature.getClient("domain-a");
		const events = recordEvents(client);
		expect(client.getStringValue("headerColor", "x")).toBe("#FF0000");
		await OpenFeature.setContext({ email: "other-global@bar.com" });
		expect(client.getStringValue("headerColor", "x")).toBe("#FF0000");
		// A change re-fetches; the peer provider used the global context here (js-sdk#820).
		source.push({
			flags: {
				...BASIC_FLAGS.flags,
				"float-flag": {
					...BASIC_FLAGS.flags["float-flag"],
					variants: { half: 0.25 },
				},
			},
		});
		await waitFor(
			() => events.some((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED"),
			3_000,
			"change event",
		);
		expect(client.getNumberValue("float-flag", 0)).toBe(0.25);
		expect(client.getStringValue("headerColor", "x")).toBe("#FF0000");
	});

	it("emits CONFIGURATION_CHANGED with the changed keys after re-fetching a changed flag", async () => {
		const { port, source } = await daemonWith(BASIC_FLAGS);
		await OpenFeature.setProviderAndWait("change", provider(port));
		const client = OpenFeature.getClient("change");
		const events = recordEvents(client);
		source.push({
			flags: {
				...BASIC_FLAGS.flags,
				"bool-flag": {
					...BASIC_FLAGS.flags["bool-flag"],
					defaultVariant: "on",
				},
			},
		});
		await waitFor(
			() => events.some((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED"),
			3_000,
			"change event",
		);
		expect(
			events.find((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED")
				?.flagsChanged,
		).toEqual(["bool-flag"]);
		expect(client.getBooleanValue("bool-flag", false)).toBe(true);
	});

	it("sends the selector as the Flagd-Selector header and only sees that flag set", async () => {
		const main = new MemorySource("mem:main", {
			flags: { shared: BASIC_FLAGS.flags["bool-flag"] },
		});
		const other = new MemorySource("mem:other", {
			flags: { mine: BASIC_FLAGS.flags.headerColor },
			metadata: { flagSetId: "team-b" },
		});
		const daemon = await startTestDaemon([main, other]);
		daemons.push(daemon);
		await daemon.ready;
		await OpenFeature.setProviderAndWait(
			"selector",
			provider(daemon.ports.evaluation ?? 0, { selector: "flagSetId=team-b" }),
		);
		const client = OpenFeature.getClient("selector");
		expect(client.getStringDetails("mine", "x").flagMetadata).toMatchObject({
			flagSetId: "team-b",
		});
		expect(client.getBooleanDetails("shared", true).errorCode).toBe(
			ErrorCode.FLAG_NOT_FOUND,
		);
	});

	it("reaches the daemon behind a reverse proxy through pathPrefix, stream included", async () => {
		const { port, source } = await daemonWith(BASIC_FLAGS);
		// A minimal path-rewriting proxy (what nginx `location /flagd/ { proxy_pass http://daemon/; }` does).
		const proxy = createServer((req, res) => {
			const url = req.url ?? "";
			if (!url.startsWith("/flagd/")) {
				res.writeHead(404).end("not proxied");
				return;
			}
			const upstream = request(
				{
					host: "127.0.0.1",
					port,
					method: req.method,
					path: url.slice("/flagd".length),
					headers: req.headers,
				},
				(answer) => {
					res.writeHead(answer.statusCode ?? 502, answer.headers);
					answer.pipe(res);
				},
			);
			upstream.on("error", (e) => res.destroy(e));
			req.pipe(upstream);
		});
		await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
		try {
			const proxyPort = (proxy.address() as AddressInfo).port;
			await OpenFeature.setProviderAndWait(
				"proxied",
				provider(proxyPort, { pathPrefix: "/flagd/" }),
			);
			const client = OpenFeature.getClient("proxied");
			const events = recordEvents(client);
			expect(client.getNumberValue("int-flag", 0)).toBe(10);
			source.push({
				flags: {
					...BASIC_FLAGS.flags,
					"int-flag": {
						...BASIC_FLAGS.flags["int-flag"],
						defaultVariant: "big",
					},
				},
			});
			await waitFor(
				() => events.some((e) => e.type === "PROVIDER_CONFIGURATION_CHANGED"),
				3_000,
				"change via proxy",
			);
			expect(client.getNumberValue("int-flag", 0)).toBe(9007199254740991);
		} finally {
			await OpenFeature.clearProviders();
			proxy.closeAllConnections();
			await new Promise<void>((resolve) => proxy.close(() => resolve()));
		}
	});
});
