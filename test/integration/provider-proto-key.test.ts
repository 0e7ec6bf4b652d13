/**
 * A flag named `__proto__` is a flag like any other between the daemon and the provider: a cached value of it is
 * invalidated by the configuration_change that names it (the event's `flags` Struct keeps the key on the wire and
 * the provider decodes it as an own key), so the provider never serves the old value after a change. Real daemon
 * (in-process, file source) and real FlagdProvider over gRPC and Connect, API v1 and v2.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagdProvider } from "@flagd-ts/provider";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import {
	type RunningDaemon,
	startDaemon,
} from "../../packages/daemon/src/runtime/start-daemon.js";
import { loopbackDaemonConfig } from "../support/loopback-daemon-config.js";
import {
	INIT_DEADLINE_MS,
	quietLogger,
} from "../support/provider-test-helpers.js";
import { waitFor } from "./daemon-harness.js";

/** The part of CONFIGURATION_CHANGED's details the test reads. */
interface Changed {
	readonly flagsChanged?: string[];
}

const KEYS = ["__proto__", "constructor", "hasOwnProperty"];

/** Built as text: an object literal with a "__proto__" key would set a prototype instead of a key. */
function document(variant: "on" | "off"): string {
	const flag = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"${variant}"}`;
	return `{"flags":{${KEYS.map((k) => `"${k}":${flag}`).join(",")},"ctx":${CONTEXT_FLAG}}}`;
}

/** Targets on context keys named like prototype members; the same in both documents. */
const CONTEXT_FLAG = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off",
	"targeting":{"if":[{"and":[{"==":[{"var":"__proto__"},"p"]},{"==":[{"var":"constructor"},"c"]},
	{"==":[{"var":"prototype.x"},"q"]}]},"on","off"]}}`;

let dir: string;
let flagFile: string;
let daemon: RunningDaemon;

beforeAll(async () => {
	dir = mkdtempSync(path.join(tmpdir(), "flagd-proto-key-"));
	flagFile = path.join(dir, "flags.json");
	writeFileSync(flagFile, document("on"));
	daemon = await startDaemon(
		loopbackDaemonConfig({
			sources: [{ uri: flagFile, provider: "file" }],
		}),
	);
	await daemon.ready;
});

afterAll(async () => {
	await OpenFeature.close();
	await daemon.close();
	rmSync(dir, { recursive: true, force: true });
});

describe.each([
	["grpc", "v2"],
	["grpc", "v1"],
	["connect", "v2"],
] as const)("%s, API %s", (transport, apiVersion) => {
	it("invalidates a cached __proto__ flag when it changes", async () => {
		writeFileSync(flagFile, document("on"));
		await waitFor(
			() =>
				daemon.store.get("__proto__")?.compiled.definition.defaultVariant ===
				"on",
			10_000,
			"the daemon to load the first document",
		);
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port: daemon.ports.evaluation,
			deadlineMs: INIT_DEADLINE_MS,
			transport,
			apiVersion,
		});
		const domain = `proto-${transport}-${apiVersion}`;
		try {
			await OpenFeature.setProviderAndWait(domain, provider);
			const client = OpenFeature.getClient(domain);
			// The first evaluation fills the cache, the second is served from it.
			for (const key of KEYS) {
				expect(await client.getBooleanDetails(key, false)).toMatchObject({
					value: true,
					variant: "on",
				});
				expect((await client.getBooleanDetails(key, false)).reason).toBe(
					"CACHED",
				);
			}
			const changed = new Promise<Changed>((resolve) => {
				const handler = (event?: unknown) => {
					const details = event as Changed | undefined;
					if (details?.flagsChanged?.includes("__proto__") !== true) return;
					client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
					resolve(details);
				};
				client.addHandler(ProviderEvents.ConfigurationChanged, handler);
			});
			writeFileSync(flagFile, document("off"));
			let timer: NodeJS.Timeout | undefined;
			const details = await Promise.race([
				changed,
				new Promise<never>((_, reject) => {
					timer = setTimeout(
						() =>
							reject(
								new Error("no CONFIGURATION_CHANGED naming __proto__ in 10 s"),
							),
						10_000,
					);
				}),
			]).finally(() => clearTimeout(timer));
			expect([...(details.flagsChanged ?? [])].sort()).toEqual(
				[...KEYS].sort(),
			);
			for (const key of KEYS) {
				expect(await client.getBooleanDetails(key, true)).toMatchObject({
					value: false,
					variant: "off",
					reason: "STATIC",
				});
			}
			expect(({} as Record<string, unknown>).state).toBeUndefined();
		} finally {
			await OpenFeature.clearProviders();
			await provider.onClose();
		}
	});
});

describe.each([
	["grpc", "v2"],
	["grpc", "v1"],
	["connect", "v2"],
] as const)("%s, API %s: context keys", (transport, apiVersion) => {
	it("targets on context keys __proto__, constructor and prototype", async () => {
		const provider = new FlagdProvider({
			env: {},
			logger: quietLogger,
			host: "127.0.0.1",
			port: daemon.ports.evaluation,
			deadlineMs: INIT_DEADLINE_MS,
			transport,
			apiVersion,
			cache: "disabled",
		});
		const domain = `proto-ctx-${transport}-${apiVersion}`;
		try {
			await OpenFeature.setProviderAndWait(domain, provider);
			const client = OpenFeature.getClient(domain);
			// Parsed JSON: `__proto__` is an own key of the context, as any caller's data may hold it.
			const matching = JSON.parse(
				'{"targetingKey":"u","__proto__":"p","constructor":"c","prototype":{"x":"q"}}',
			);
			const other = JSON.parse(
				'{"targetingKey":"u","__proto__":"other","constructor":"c","prototype":{"x":"q"}}',
			);
			expect(
				await client.getBooleanDetails("ctx", false, matching),
			).toMatchObject({
				value: true,
				variant: "on",
				reason: "TARGETING_MATCH",
			});
			expect(await client.getBooleanDetails("ctx", true, other)).toMatchObject({
				value: false,
				variant: "off",
			});
			expect(({} as Record<string, unknown>).x).toBeUndefined();
		} finally {
			await OpenFeature.clearProviders();
			await provider.onClose();
		}
	});
});
