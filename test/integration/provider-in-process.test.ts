/**
 * FlagdProvider with resolver "in-process" against the real daemon (startDaemon in this process) over real
 * sockets: the flag set arrives on flagd.sync.v1 SyncFlags (port 8015 role), evaluation is local. Events (READY,
 * exact CONFIGURATION_CHANGED keys, STALE while the daemon is down, ERROR after the grace period, READY again),
 * the selector header, sync_context enrichment and contextEnricher.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { FlagdProvider, type FlagdProviderOptions } from "@flagd-ts/provider";
import { describe, expect, it } from "@jest/globals";
import {
	type Client,
	type EventDetails,
	OpenFeature,
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
import {
	quietLogger,
	recordingLogger,
	waitFor,
} from "../support/provider-test-helpers.js";

function flagsDocument(color: string, extra: object = {}): object {
	return {
		metadata: { flagSetId: "set-a", team: "core" },
		flags: {
			"bool-flag": BOOL_FLAG,
			"color-flag": {
				state: "ENABLED",
				variants: { red: "red", blue: "blue" },
				defaultVariant: color,
				metadata: { team: "ui" },
			},
			"object-flag": OBJECT_FLAG,
			"targeted-flag": EMAIL_TARGETED_FLAG,
			"static-context-flag": {
				state: "ENABLED",
				variants: { yes: "yes", no: "no" },
				defaultVariant: "no",
				targeting: {
					if: [{ "==": [{ var: "region" }, "eu"] }, "yes", "no"],
				},
			},
			"code-default-flag": CODE_DEFAULT_FLAG,
			"disabled-flag": DISABLED_FLAG,
			...extra,
		},
	};
}

const harness = fileDaemonHarness({
	name: "flagd-in-process-",
	flags: () => flagsDocument("red"),
	domainPrefix: "in-process",
	providerDefaults: { resolver: "in-process", deadlineMs: 2000 },
});
const { daemon, daemons, providers } = harness;

interface Connected {
	client: Client;
	provider: FlagdProvider;
	events: Array<{ type: ProviderEvents; details?: EventDetails }>;
}

async function connect(options: FlagdProviderOptions): Promise<Connected> {
	const { client, provider } = await harness.connect(options);
	const events: Connected["events"] = [];
	for (const type of [
		ProviderEvents.Ready,
		ProviderEvents.Stale,
		ProviderEvents.Error,
		ProviderEvents.ConfigurationChanged,
	]) {
		client.addHandler(type, (details) => events.push({ type, details }));
	}
	// addHandler runs a READY handler at once for a ready provider; start from a clean list.
	events.length = 0;
	return { client, provider, events };
}

describe("in-process over gRPC (flagd's sync service speaks gRPC only)", () => {
	it("evaluates every kind of flag locally, with set metadata merged (flag wins)", async () => {
		const d = await daemon();
		const { client } = await connect({ port: d.ports.sync });
		expect(await client.getBooleanDetails("bool-flag", false)).toMatchObject({
			value: true,
			variant: "on",
			reason: "STATIC",
			flagMetadata: { flagSetId: "set-a", team: "core" },
		});
		expect(
			(await client.getStringDetails("color-flag", "")).flagMetadata,
		).toMatchObject({ team: "ui", flagSetId: "set-a" });
		expect(await client.getObjectDetails("object-flag", {})).toMatchObject({
			value: { a: 1, nested: { b: [true, "x"] } },
		});
		expect(
			await client.getStringDetails("targeted-flag", "", {
				email: "me@example.com",
			}),
		).toMatchObject({ value: "INTERNAL", reason: "TARGETING_MATCH" });
		expect(
			await client.getStringDetails("targeted-flag", "", { email: "x@y.z" }),
		).toMatchObject({ value: "EXTERNAL", reason: "DEFAULT" });
		expect(
			await client.getBooleanDetails("disabled-flag", false),
		).toMatchObject({ value: false, reason: "DISABLED" });
		expect(
			await client.getBooleanDetails("code-default-flag", true),
		).toMatchObject({ value: true, reason: "DEFAULT" });
		expect(await client.getBooleanDetails("missing", true)).toMatchObject({
			value: true,
			reason: "ERROR",
			errorCode: "FLAG_NOT_FOUND",
		});
		expect(await client.getNumberDetails("color-flag", 1)).toMatchObject({
			value: 1,
			errorCode: "TYPE_MISMATCH",
		});
	});
});

describe("in-process events", () => {
	it("emits CONFIGURATION_CHANGED with exactly the keys added, removed and changed", async () => {
		const d = await daemon();
		const { client, events } = await connect({ port: d.ports.sync });
		const document = flagsDocument("blue", {
			"new-flag": {
				state: "ENABLED",
				variants: { a: "a" },
				defaultVariant: "a",
			},
		}) as { flags: Record<string, unknown> };
		delete document.flags["disabled-flag"];
		harness.writeFlags(document);
		await waitFor(
			() => events.some((e) => e.type === ProviderEvents.ConfigurationChanged),
			10_000,
			"a change event",
		);
		const change = events.find(
			(e) => e.type === ProviderEvents.ConfigurationChanged,
		);
		expect(change?.details?.flagsChanged).toEqual([
			"color-flag",
			"disabled-flag",
			"new-flag",
		]);
		expect(await client.getStringValue("color-flag", "")).toBe("blue");
	});

	it("serves the last flags while STALE, turns ERROR after the grace period, and READY on reconnect", async () => {
		const first = await daemon();
		const port = first.ports.sync;
		const { client, provider, events } = await connect({
			port,
			retryGracePeriod: 1,
			retryBackoffMs: 50,
			retryBackoffMaxMs: 200,
		});
		await first.close();
		daemons.splice(daemons.indexOf(first), 1);
		await waitFor(
			() => events.some((e) => e.type === ProviderEvents.Stale),
			10_000,
			"STALE",
		);
		expect(
			await client.getStringDetails("targeted-flag", "", {
				email: "a@example.com",
			}),
		).toMatchObject({
			value: "INTERNAL",
			reason: "TARGETING_MATCH",
		});
		await waitFor(
			() => events.some((e) => e.type === ProviderEvents.Error),
			10_000,
			"ERROR",
		);
		expect(provider.status).toBe(ProviderStatus.ERROR);
		expect(await client.getBooleanValue("bool-flag", false)).toBe(true);
		await daemon({ syncPort: port });
		await waitFor(
			() => events.filter((e) => e.type === ProviderEvents.Ready).length > 0,
			15_000,
			"READY after restart",
		);
		// Same flags after the restart: no change event (exact keys, none changed).
		expect(
			events.filter((e) => e.type === ProviderEvents.ConfigurationChanged),
		).toEqual([]);
		expect(events.map((e) => e.type)).toEqual([
			ProviderEvents.Stale,
			ProviderEvents.Error,
			ProviderEvents.Ready,
		]);
	});

	it("rejects initialize within deadlineMs when nothing listens, and never hangs", async () => {
		const d = await daemon();
		const port = d.ports.sync;
		await d.close();
		daemons.splice(0);
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port,
			resolver: "in-process",
			deadlineMs: 300,
		});
		providers.push(provider);
		await expect(provider.initialize()).rejects.toThrow(/deadlineMs=300/);
	});
});

describe("in-process context", () => {
	it("lays the daemon's sync_context over the evaluation context, as the daemon does for RPC", async () => {
		const d = await daemon({ staticContext: { region: "eu" } });
		const { client } = await connect({ port: d.ports.sync });
		expect(
			await client.getStringValue("static-context-flag", "", {
				region: "us",
			}),
		).toBe("yes");
		const rpc = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port: d.ports.evaluation,
			cache: "disabled",
		});
		providers.push(rpc);
		await OpenFeature.setProviderAndWait("rpc-static", rpc);
		expect(
			await OpenFeature.getClient("rpc-static").getStringValue(
				"static-context-flag",
				"",
				{ region: "us" },
			),
		).toBe("yes");
	});

	it("maps sync_context through contextEnricher; a failing enricher is logged, not fatal", async () => {
		const d = await daemon({ staticContext: { zone: "eu" } });
		const { client } = await connect({
			port: d.ports.sync,
			contextEnricher: (sync) => ({ region: sync.zone as string }),
		});
		expect(await client.getStringValue("static-context-flag", "")).toBe("yes");
		const logger = recordingLogger();
		const { client: failing } = await connect({
			port: d.ports.sync,
			logger,
			contextEnricher: () => {
				throw new Error("boom");
			},
		});
		expect(await failing.getStringValue("static-context-flag", "")).toBe("no");
		expect(logger.lines.map((l) => l.text).join("\n")).toMatch(
			/contextEnricher failed \(boom\)/,
		);
	});

	it("sends the selector as the flagd-selector header: only the selected source's flags arrive", async () => {
		const other = path.join(harness.dir, "other.json");
		writeFileSync(
			other,
			JSON.stringify({
				flags: {
					"other-flag": {
						state: "ENABLED",
						variants: { x: "x" },
						defaultVariant: "x",
					},
				},
			}),
		);
		const d = await daemon({
			sources: [
				{ uri: harness.flagFile, provider: "file" },
				{ uri: other, provider: "file" },
			],
		});
		const { client } = await connect({ port: d.ports.sync, selector: other });
		expect(await client.getStringValue("other-flag", "")).toBe("x");
		expect((await client.getBooleanDetails("bool-flag", false)).errorCode).toBe(
			"FLAG_NOT_FOUND",
		);
	});
});
