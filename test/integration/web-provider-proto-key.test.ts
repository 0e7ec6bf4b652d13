/**
 * Keys named `__proto__` and `constructor` are ordinary keys end to end for the web provider: flag keys, object
 * value keys and flag metadata keys survive the daemon's ResolveAll and EventStream and the web provider's default
 * transport (connect-web, binary format, read key for key), and nothing pollutes `Object.prototype`. The real
 * daemon on 127.0.0.1, Node's fetch, @openfeature/web-sdk. (test/browser covers the same in Chromium.)
 */
import { FlagdWebProvider } from "@flagd-ts/web-provider";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import { INIT_DEADLINE_MS } from "../support/provider-test-helpers.js";
import { MemorySource, startTestDaemon, waitFor } from "./daemon-harness.js";
import {
	memoryLogger,
	recordEvents,
	resetOpenFeature,
} from "./web-provider-support.js";

/** Written as JSON text: an object literal would turn `__proto__` into a prototype before the test begins. */
function document(protoFlagOn: boolean): string {
	return `{
		"flags": {
			"__proto__": {
				"state": "ENABLED",
				"variants": { "on": true, "off": false },
				"defaultVariant": "${protoFlagOn ? "on" : "off"}",
				"metadata": { "__proto__": "meta-proto", "constructor": "meta-ctor" }
			},
			"constructor": {
				"state": "ENABLED",
				"variants": { "a": "ctor-a" },
				"defaultVariant": "a"
			},
			"ctx": {
				"state": "ENABLED",
				"variants": { "on": true, "off": false },
				"defaultVariant": "off",
				"targeting": { "if": [ { "and": [
					{ "==": [ { "var": "__proto__" }, "p" ] },
					{ "==": [ { "var": "constructor" }, "c" ] },
					{ "==": [ { "var": "prototype.x" }, "q" ] }
				] }, "on", "off" ] }
			},
			"object-flag": {
				"state": "ENABLED",
				"variants": {
					"v": {
						"__proto__": { "polluted": true },
						"constructor": { "prototype": { "polluted": true } },
						"plain": 1
					}
				},
				"defaultVariant": "v"
			}
		}
	}`;
}

let daemon: RunningDaemon;
let source: MemorySource;

beforeAll(async () => {
	source = new MemorySource("mem:proto", document(false));
	daemon = await startTestDaemon([source]);
	await daemon.ready;
});

afterAll(async () => {
	await resetOpenFeature();
	await daemon.close();
});

describe("FlagdWebProvider against the daemon: __proto__ and constructor keys", () => {
	it("serves flags keyed __proto__ and constructor, and object values and metadata with such keys", async () => {
		await OpenFeature.setProviderAndWait(
			"proto",
			new FlagdWebProvider({
				host: "127.0.0.1",
				port: daemon.ports.evaluation,
				deadlineMs: INIT_DEADLINE_MS,
				logger: memoryLogger(),
			}),
		);
		const client = OpenFeature.getClient("proto");
		const proto = client.getBooleanDetails("__proto__", true);
		expect(proto).toMatchObject({ value: false, variant: "off" });
		expect(proto.errorCode).toBeUndefined();
		expect(Object.hasOwn(proto.flagMetadata, "__proto__")).toBe(true);
		expect(
			Object.getOwnPropertyDescriptor(proto.flagMetadata, "__proto__")?.value,
		).toBe("meta-proto");
		expect(proto.flagMetadata.constructor).toBe("meta-ctor");
		expect(client.getStringValue("constructor", "dflt")).toBe("ctor-a");
		const value = client.getObjectValue("object-flag", {}) as Record<
			string,
			unknown
		>;
		expect(Object.keys(value).sort()).toEqual([
			"__proto__",
			"constructor",
			"plain",
		]);
		expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
		expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual({
			polluted: true,
		});
		expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
	});

	it("a change of the flag keyed __proto__ arrives as CONFIGURATION_CHANGED naming it", async () => {
		const client = OpenFeature.getClient("proto");
		const events = recordEvents(client);
		source.push(document(true));
		await waitFor(
			() =>
				events.some(
					(e) =>
						e.type === ProviderEvents.ConfigurationChanged &&
						(e.flagsChanged ?? []).includes("__proto__"),
				),
			10_000,
			"CONFIGURATION_CHANGED naming __proto__",
		);
		expect(client.getBooleanValue("__proto__", false)).toBe(true);
		expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
	});

	it("targets on context keys __proto__, constructor and prototype", async () => {
		const client = OpenFeature.getClient("proto");
		// Parsed JSON: `__proto__` is an own key of the context, as any caller's data may hold it.
		await OpenFeature.setContext(
			"proto",
			JSON.parse(
				'{"targetingKey":"u","__proto__":"p","constructor":"c","prototype":{"x":"q"}}',
			),
		);
		expect(client.getBooleanDetails("ctx", false)).toMatchObject({
			value: true,
			variant: "on",
			reason: "TARGETING_MATCH",
		});
		await OpenFeature.setContext(
			"proto",
			JSON.parse(
				'{"targetingKey":"u","__proto__":"other","constructor":"c","prototype":{"x":"q"}}',
			),
		);
		expect(client.getBooleanDetails("ctx", true)).toMatchObject({
			value: false,
			variant: "off",
		});
		expect(({} as { x?: unknown }).x).toBeUndefined();
	});
});
