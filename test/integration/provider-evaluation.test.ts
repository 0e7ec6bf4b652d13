/**
 * FlagdProvider evaluations through the OpenFeature server SDK against a real in-test flagd server
 * (test/support/fake-flagd.ts) on 127.0.0.1: values, variants, reasons, metadata, code defaults, errors, the
 * cache, coalescing, headers, context serialization and deadlines, for API v2 and v1.
 */

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
	type EvaluationContext,
	OpenFeature,
	ProviderEvents,
} from "@openfeature/server-sdk";
import { type FakeFlagd, startFakeFlagd } from "../support/fake-flagd.js";
import {
	INIT_DEADLINE_MS,
	quietLogger,
	waitFor,
} from "../support/provider-test-helpers.js";

let flagd: FakeFlagd;
let domainCounter = 0;
const providers: FlagdProvider[] = [];

beforeAll(async () => {
	flagd = await startFakeFlagd({
		flags: {
			"bool-flag": {
				value: true,
				variant: "on",
				metadata: { owner: "team-a", weight: 3, nested: { x: 1 } },
			},
			"string-flag": { value: "hi", variant: "greeting" },
			"number-flag": { value: 0.5, variant: "half" },
			"int-flag": { value: 10, variant: "ten" },
			"object-flag": {
				value: { showImages: true, title: "pics", n: 100 },
				variant: "template",
			},
			"targeted-flag": {
				value: undefined,
				targeting: (ctx) => ({
					value: ctx.email === "a@b.c" ? "yes" : "no",
					variant: "v",
				}),
			},
			"code-default": { value: undefined, reason: "DEFAULT" },
			"disabled-flag": { value: undefined, reason: "DISABLED" },
		},
	});
});

afterEach(async () => {
	await OpenFeature.clearProviders();
	for (const p of providers.splice(0)) await p.onClose();
	flagd.behaviour.evaluationDelayMs = 0;
	flagd.behaviour.evaluationErrorCode = undefined;
});

afterAll(async () => {
	await OpenFeature.close();
	await flagd.close();
});

async function connect(
	options: FlagdProviderOptions = {},
): Promise<{ client: Client; provider: FlagdProvider }> {
	const provider = new FlagdProvider({
		port: flagd.port,
		host: "127.0.0.1",
		env: {},
		logger: quietLogger,
		retryBackoffMs: 50,
		// Tests about deadlines set their own.
		deadlineMs: INIT_DEADLINE_MS,
		...options,
	});
	providers.push(provider);
	const domain = `eval-${domainCounter++}`;
	await OpenFeature.setProviderAndWait(domain, provider);
	return { client: OpenFeature.getClient(domain), provider };
}

describe.each([
	["v2", "grpc"],
	["v1", "grpc"],
	["v2", "connect"],
] as const)("API %s over %s", (apiVersion, transport) => {
	it("resolves all four types with value, variant, reason and flat flag metadata", async () => {
		const { client } = await connect({ apiVersion, transport });
		const b = await client.getBooleanDetails("bool-flag", false);
		expect(b).toMatchObject({ value: true, variant: "on", reason: "STATIC" });
		expect(b.flagMetadata).toEqual({ owner: "team-a", weight: 3 });
		expect(await client.getStringDetails("string-flag", "x")).toMatchObject({
			value: "hi",
			variant: "greeting",
		});
		expect(await client.getNumberDetails("number-flag", 0)).toMatchObject({
			value: 0.5,
			variant: "half",
		});
		expect(await client.getNumberDetails("int-flag", 0)).toMatchObject({
			value: 10,
			variant: "ten",
		});
		expect(await client.getObjectDetails("object-flag", {})).toMatchObject({
			value: { showImages: true, title: "pics", n: 100 },
			variant: "template",
		});
	});

	it("returns the caller's default with flagd's reason when flagd says 'code default'", async () => {
		const { client } = await connect({ apiVersion, transport });
		const d = await client.getStringDetails("code-default", "mine");
		expect(d).toMatchObject({ value: "mine", reason: "DEFAULT" });
		expect(d.variant).toBeUndefined();
		expect(d.errorCode).toBeUndefined();
		expect(await client.getBooleanDetails("disabled-flag", true)).toMatchObject(
			{ value: true, reason: "DISABLED" },
		);
	});

	it("maps flagd errors: FLAG_NOT_FOUND and TYPE_MISMATCH", async () => {
		const { client } = await connect({ apiVersion, transport });
		const missing = await client.getBooleanDetails("nope", false);
		expect(missing).toMatchObject({
			value: false,
			reason: "ERROR",
			errorCode: ErrorCode.FLAG_NOT_FOUND,
		});
		const mismatch = await client.getStringDetails("bool-flag", "d");
		expect(mismatch).toMatchObject({
			value: "d",
			errorCode: ErrorCode.TYPE_MISMATCH,
		});
	});
});

describe("cache", () => {
	it("answers a STATIC flag from the cache with reason CACHED, without calling flagd", async () => {
		const { client } = await connect();
		const before = flagd.evaluationCount("string-flag");
		expect((await client.getStringDetails("string-flag", "x")).reason).toBe(
			"STATIC",
		);
		const second = await client.getStringDetails("string-flag", "x");
		expect(second).toMatchObject({
			value: "hi",
			variant: "greeting",
			reason: "CACHED",
		});
		expect(flagd.evaluationCount("string-flag") - before).toBe(1);
	});

	it("never answers another type from a cached entry", async () => {
		const { client } = await connect();
		await client.getBooleanDetails("bool-flag", false);
		expect((await client.getBooleanDetails("bool-flag", false)).reason).toBe(
			"CACHED",
		);
		const asString = await client.getStringDetails("bool-flag", "d");
		expect(asString).toMatchObject({
			value: "d",
			errorCode: ErrorCode.TYPE_MISMATCH,
		});
	});

	it("does not cache targeting results", async () => {
		const { client } = await connect();
		const ctx = { targetingKey: "u", email: "a@b.c" };
		expect(
			await client.getStringDetails("targeted-flag", "", ctx),
		).toMatchObject({ value: "yes", reason: "TARGETING_MATCH" });
		expect(
			await client.getStringDetails("targeted-flag", "", ctx),
		).toMatchObject({ reason: "TARGETING_MATCH" });
		expect(
			await client.getStringDetails("targeted-flag", "", { email: "x" }),
		).toMatchObject({ value: "no" });
	});

	it("never caches with cache: disabled", async () => {
		const { client } = await connect({ cache: "disabled" });
		await client.getStringDetails("string-flag", "x");
		expect((await client.getStringDetails("string-flag", "x")).reason).toBe(
			"STATIC",
		);
	});

	it("invalidates a changed key and emits CONFIGURATION_CHANGED with flagsChanged", async () => {
		const { client } = await connect();
		const changes: string[][] = [];
		client.addHandler(ProviderEvents.ConfigurationChanged, (d) =>
			changes.push(d?.flagsChanged ?? []),
		);
		flagd.setFlag("changing", { value: "one", variant: "a" });
		await waitFor(() => changes.length === 1);
		await client.getStringDetails("changing", "");
		expect((await client.getStringDetails("changing", "")).reason).toBe(
			"CACHED",
		);
		flagd.setFlag("changing", { value: "two", variant: "b" });
		await waitFor(() => changes.length === 2);
		expect(changes[1]).toEqual(["changing"]);
		expect(await client.getStringDetails("changing", "")).toMatchObject({
			value: "two",
			reason: "STATIC",
		});
		expect((await client.getStringDetails("changing", "")).reason).toBe(
			"CACHED",
		);
	});

	it("coalesces concurrent misses for the same flag and context into one call", async () => {
		const { client } = await connect({ deadlineMs: 2000 });
		flagd.behaviour.evaluationDelayMs = 100;
		const before = flagd.evaluationCount("targeted-flag");
		const ctx = { targetingKey: "u", email: "a@b.c" };
		const results = await Promise.all(
			Array.from({ length: 10 }, (_, i) =>
				client.getStringDetails("targeted-flag", `d${i}`, ctx),
			),
		);
		expect(results.every((r) => r.value === "yes")).toBe(true);
		expect(flagd.evaluationCount("targeted-flag") - before).toBe(1);
		await Promise.all([
			client.getStringDetails("targeted-flag", "", { email: "a@b.c" }),
			client.getStringDetails("targeted-flag", "", { email: "other" }),
		]);
		expect(flagd.evaluationCount("targeted-flag") - before).toBe(3);
	});

	it("applies each caller's own default when coalesced calls get a code default", async () => {
		const { client } = await connect({ deadlineMs: 2000 });
		flagd.behaviour.evaluationDelayMs = 50;
		const [a, b] = await Promise.all([
			client.getStringDetails("code-default", "a"),
			client.getStringDetails("code-default", "b"),
		]);
		expect([a.value, b.value]).toEqual(["a", "b"]);
	});
});

describe("requests", () => {
	it("sends the selector and providerId headers on evaluations and on the event stream", async () => {
		const { client } = await connect({
			selector: "flagSetId=abc",
			providerId: "svc-1",
		});
		await client.getStringDetails("string-flag", "x");
		const evaluation = flagd.requests
			.filter((r) => r.method !== "EventStream")
			.at(-1);
		const stream = flagd.requests
			.filter((r) => r.method === "EventStream")
			.at(-1);
		expect(evaluation?.headers.get("flagd-selector")).toBe("flagSetId=abc");
		expect(stream?.headers.get("flagd-selector")).toBe("flagSetId=abc");
		expect(evaluation?.headers.get("flagd-provider-id")).toBe("svc-1");
	});

	it("serializes the context: targetingKey at top level, Date as ISO string, bigint as string", async () => {
		const { client } = await connect({ cache: "disabled" });
		const at = new Date("2026-05-06T07:08:09.000Z");
		const ctx = {
			targetingKey: "user-7",
			at,
			big: 9007199254740993n,
			gone: undefined,
		} as unknown as EvaluationContext;
		await client.getStringDetails("string-flag", "x", ctx);
		expect(flagd.requests.at(-1)?.context).toEqual({
			targetingKey: "user-7",
			at: "2026-05-06T07:08:09.000Z",
			big: "9007199254740993",
		});
	});

	it("rejects a cyclic context with INVALID_CONTEXT without calling flagd", async () => {
		const { client } = await connect({ cache: "disabled" });
		const cyclic: Record<string, unknown> = {};
		cyclic.self = cyclic;
		const before = flagd.evaluationCount();
		const d = await client.getStringDetails("string-flag", "x", {
			cyclic,
		} as unknown as EvaluationContext);
		expect(d).toMatchObject({
			value: "x",
			errorCode: ErrorCode.INVALID_CONTEXT,
		});
		expect(flagd.evaluationCount()).toBe(before);
	});

	it("bounds every evaluation by deadlineMs and reports GENERAL, never FLAG_NOT_FOUND", async () => {
		const { client } = await connect({ deadlineMs: 200, cache: "disabled" });
		flagd.behaviour.evaluationDelayMs = 3000;
		const started = Date.now();
		const d = await client.getBooleanDetails("bool-flag", false);
		const elapsed = Date.now() - started;
		expect(d).toMatchObject({ value: false, errorCode: ErrorCode.GENERAL });
		expect(d.errorMessage).toMatch(/deadline/);
		// Bounded by the deadline, not by the server's 3 s delay (with room for a busy machine).
		expect(elapsed).toBeLessThan(2_500);
	});
});
