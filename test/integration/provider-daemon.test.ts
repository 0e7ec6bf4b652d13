/**
 * FlagdProvider against the real daemon (packages/daemon `startDaemon`, in-process) with a file source in a temp
 * directory, over real sockets: both transports, both API versions, TLS with a generated CA, a unix socket,
 * change events from editing the file, the STATIC cache, and a daemon restart.
 */

import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
	ErrorCode,
	ProviderEvents,
	ProviderStatus,
} from "@openfeature/server-sdk";
import { fileDaemonHarness } from "../support/file-daemon-harness.js";
import {
	BOOL_FLAG,
	CODE_DEFAULT_FLAG,
	DISABLED_FLAG,
	EMAIL_TARGETED_FLAG,
	OBJECT_FLAG,
} from "../support/flag-fixtures.js";
import { waitFor } from "../support/provider-test-helpers.js";
import {
	createTlsFixtures,
	type TlsFixtures,
} from "../support/tls-fixtures.js";

function flagsDocument(color: string): object {
	return {
		flags: {
			"bool-flag": BOOL_FLAG,
			"color-flag": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
			},
			"number-flag": {
				state: "ENABLED",
				variants: { half: 0.5, ten: 10 },
				defaultVariant: "ten",
			},
			"object-flag": { ...OBJECT_FLAG, metadata: { owner: "team-a" } },
			"targeted-flag": EMAIL_TARGETED_FLAG,
			"code-default-flag": CODE_DEFAULT_FLAG,
			"disabled-flag": DISABLED_FLAG,
		},
	};
}

let tlsFiles: TlsFixtures;
const harness = fileDaemonHarness({
	name: "flagd-provider-daemon-",
	flags: () => flagsDocument("red"),
	domainPrefix: "daemon",
});
const { daemon, connect, daemons } = harness;

beforeAll(() => {
	tlsFiles = createTlsFixtures();
});

afterAll(() => {
	tlsFiles.remove();
});

describe.each([
	["grpc", "2", "v2"],
	["grpc", "2", "v1"],
	["connect", "1.1", "v2"],
	["connect", "1.1", "v1"],
	["connect", "2", "v2"],
] as const)("%s (HTTP %s), API %s", (transport, httpVersion, apiVersion) => {
	it("evaluates every type, targeting, disabled and code-default flags", async () => {
		const d = await daemon();
		const { client } = await connect({
			port: d.ports.evaluation,
			transport,
			httpVersion,
			apiVersion,
		});
		expect(await client.getBooleanDetails("bool-flag", false)).toMatchObject({
			value: true,
			variant: "on",
			reason: "STATIC",
		});
		expect(await client.getNumberDetails("number-flag", 0)).toMatchObject({
			value: 10,
			variant: "ten",
		});
		const obj = await client.getObjectDetails("object-flag", {});
		expect(obj).toMatchObject({
			value: { a: 1, nested: { b: [true, "x"] } },
			variant: "obj",
		});
		expect(obj.flagMetadata).toMatchObject({ owner: "team-a" });
		expect(
			await client.getStringDetails("targeted-flag", "", {
				targetingKey: "u",
				email: "me@example.com",
			}),
		).toMatchObject({
			value: "INTERNAL",
			reason: "TARGETING_MATCH",
		});
		expect(
			await client.getBooleanDetails("disabled-flag", false),
		).toMatchObject({ value: false, reason: "DISABLED" });
		const codeDefault = await client.getBooleanDetails(
			"code-default-flag",
			true,
		);
		if (apiVersion === "v2") {
			expect(codeDefault).toMatchObject({ value: true, reason: "DEFAULT" });
			expect(codeDefault.errorCode).toBeUndefined();
		} else {
			// flagd keeps v1's legacy answer for a flag without a default variant: NOT_FOUND.
			expect(codeDefault).toMatchObject({
				value: true,
				errorCode: ErrorCode.FLAG_NOT_FOUND,
			});
		}
		expect(await client.getStringDetails("bool-flag", "x")).toMatchObject({
			errorCode: ErrorCode.TYPE_MISMATCH,
		});
		expect(await client.getStringDetails("missing", "x")).toMatchObject({
			errorCode: ErrorCode.FLAG_NOT_FOUND,
		});
	});
});

describe("with a file source", () => {
	it("caches STATIC results, emits CONFIGURATION_CHANGED with the key when the file changes, and refetches", async () => {
		const d = await daemon();
		const { client } = await connect({ port: d.ports.evaluation });
		const changed: string[][] = [];
		client.addHandler(ProviderEvents.ConfigurationChanged, (e) =>
			changed.push(e?.flagsChanged ?? []),
		);
		expect(await client.getStringDetails("color-flag", "")).toMatchObject({
			value: "red",
			reason: "STATIC",
		});
		expect(await client.getStringDetails("color-flag", "")).toMatchObject({
			value: "red",
			reason: "CACHED",
		});
		harness.writeFlags(flagsDocument("blue"));
		await waitFor(() => changed.length > 0, 10_000, "CONFIGURATION_CHANGED");
		expect(changed[0]).toContain("color-flag");
		expect(changed[0]).not.toContain("bool-flag");
		expect(await client.getStringDetails("color-flag", "")).toMatchObject({
			value: "blue",
			reason: "STATIC",
		});
	});

	it("connects with TLS trusting a generated CA", async () => {
		const d = await daemon({
			tls: {
				certPath: tlsFiles.serverCertPath,
				keyPath: tlsFiles.serverKeyPath,
			},
		});
		for (const transport of ["grpc", "connect"] as const) {
			const { client } = await connect({
				host: "localhost",
				port: d.ports.evaluation,
				tls: true,
				certPath: tlsFiles.caCertPath,
				transport,
			});
			expect(await client.getBooleanValue("bool-flag", false)).toBe(true);
		}
	});

	it("connects over a unix socket", async () => {
		const socketPath = path.join(harness.dir, "flagd.sock");
		await daemon({ socketPath });
		for (const transport of ["grpc", "connect"] as const) {
			const { client } = await connect({ socketPath, transport });
			expect(await client.getBooleanValue("bool-flag", false)).toBe(true);
		}
	});

	it("goes STALE when the daemon stops and READY + CONFIGURATION_CHANGED when it is back", async () => {
		const first = await daemon();
		const port = first.ports.evaluation;
		const { client } = await connect({
			port,
			retryBackoffMs: 100,
			retryBackoffMaxMs: 300,
			retryGracePeriod: 10,
		});
		const events: ProviderEvents[] = [];
		for (const e of [
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Error,
			ProviderEvents.ConfigurationChanged,
		]) {
			client.addHandler(e, () => events.push(e));
		}
		await waitFor(() => events.length === 1, 2000, "initial READY replay");
		await client.getBooleanDetails("bool-flag", false);
		daemons.splice(daemons.indexOf(first), 1);
		await first.close();
		await waitFor(
			() => client.providerStatus === ProviderStatus.STALE,
			5000,
			"STALE",
		);
		expect((await client.getBooleanDetails("bool-flag", false)).reason).toBe(
			"CACHED",
		);
		await daemon({ port });
		await waitFor(
			() => events.includes(ProviderEvents.ConfigurationChanged),
			5000,
			"reconnect",
		);
		expect(events).toEqual([
			ProviderEvents.Ready,
			ProviderEvents.Stale,
			ProviderEvents.Ready,
			ProviderEvents.ConfigurationChanged,
		]);
		expect((await client.getBooleanDetails("bool-flag", false)).reason).toBe(
			"STATIC",
		);
	});
});
