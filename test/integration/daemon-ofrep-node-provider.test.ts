/**
 * Server-side interop: the published @openfeature/ofrep-provider (Node, @openfeature/server-sdk) evaluates every
 * flag type against our daemon's OFREP port, with targeting from the context, the `Flagd-Selector` header, and
 * flagd's error answers mapped to OpenFeature error codes.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { type Client, OpenFeature } from "@openfeature/server-sdk";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

let daemon: RunningDaemon;
let client: Client;
let selected: Client;

beforeAll(async () => {
	const sets = new MemorySource("mem:sets", {
		metadata: { flagSetId: "s1" },
		flags: {
			"set-flag": {
				state: "ENABLED",
				variants: { on: "in-set", off: "other" },
				defaultVariant: "on",
			},
		},
	});
	daemon = await startTestDaemon([
		new MemorySource("mem:basic", BASIC_FLAGS),
		sets,
	]);
	await daemon.ready;
	const baseUrl = `http://127.0.0.1:${daemon.ports.ofrep}`;
	await OpenFeature.setProviderAndWait(
		"ofrep-node",
		new OFREPProvider({ baseUrl }),
	);
	await OpenFeature.setProviderAndWait(
		"ofrep-node-selected",
		new OFREPProvider({
			baseUrl,
			headers: [["Flagd-Selector", "flagSetId=s1"]],
		}),
	);
	client = OpenFeature.getClient("ofrep-node");
	selected = OpenFeature.getClient("ofrep-node-selected");
});

afterAll(async () => {
	await OpenFeature.close();
	await daemon.close();
});

describe("@openfeature/ofrep-provider against the daemon", () => {
	it("evaluates booleans, strings, integers, floats and objects", async () => {
		expect(await client.getBooleanDetails("bool-flag", true)).toMatchObject({
			value: false,
			variant: "off",
			reason: "STATIC",
		});
		expect(await client.getStringDetails("headerColor", "x")).toMatchObject({
			value: "#FF0000",
			variant: "red",
			// Targeting that returns null falls back to the default variant.
			reason: "DEFAULT",
		});
		expect(await client.getNumberDetails("int-flag", 0)).toMatchObject({
			value: 10,
			variant: "ten",
		});
		expect(await client.getNumberDetails("float-flag", 0)).toMatchObject({
			value: 0.5,
			variant: "half",
		});
		expect(await client.getObjectDetails("object-flag", {})).toMatchObject({
			value: { a: 1, nested: { b: [true, "x"] } },
			variant: "obj",
			flagMetadata: { owner: "team-a" },
		});
	});

	it("sends the context for targeting", async () => {
		expect(
			await client.getStringDetails("headerColor", "x", {
				email: "me@bar.com",
			}),
		).toMatchObject({
			value: "#0000FF",
			variant: "blue",
			reason: "TARGETING_MATCH",
		});
	});

	it("returns the caller's default for disabled and code-default flags", async () => {
		// flagd leaves `value` out of these answers (OFREP ADR-0006); ofrep-provider 0.1.3 predates that ADR and
		// reports the missing value as an error (its own type check), still with the caller's default.
		expect(
			await client.getBooleanDetails("disabled-flag", false),
		).toMatchObject({ value: false, reason: "ERROR" });
		expect(await client.getBooleanDetails("disabled-flag", true)).toMatchObject(
			{ value: true },
		);
		expect(
			await client.getBooleanDetails("code-default-flag", true),
		).toMatchObject({ value: true, reason: "ERROR" });
	});

	it("maps flagd's errors: not found, parse error, type mismatch", async () => {
		expect(await client.getBooleanDetails("nope", true)).toMatchObject({
			value: true,
			reason: "ERROR",
			errorCode: "FLAG_NOT_FOUND",
		});
		expect(await client.getBooleanDetails("bad-ref-flag", true)).toMatchObject({
			value: true,
			reason: "ERROR",
			errorCode: "PARSE_ERROR",
		});
		expect(await client.getStringDetails("bool-flag", "text")).toMatchObject({
			value: "text",
			reason: "ERROR",
			errorCode: "TYPE_MISMATCH",
		});
	});

	it("selects a flag set with the Flagd-Selector header", async () => {
		expect(await selected.getStringDetails("set-flag", "x")).toMatchObject({
			value: "in-set",
			flagMetadata: { flagSetId: "s1" },
		});
		expect(await selected.getBooleanDetails("bool-flag", true)).toMatchObject({
			errorCode: "FLAG_NOT_FOUND",
		});
	});
});
