/**
 * OFREP (8016) with plain fetch: exact bodies and status codes as flagd renders them, selectors, header mappings,
 * bad input, the body limit (413), and ETag / If-None-Match → 304 on bulk.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { RunningDaemon } from "../../packages/daemon/src/runtime/start-daemon.js";
import {
	BASIC_FLAGS,
	MemorySource,
	startTestDaemon,
} from "./daemon-harness.js";

let daemon: RunningDaemon;
let base: string;
let source: MemorySource;

beforeAll(async () => {
	source = new MemorySource("mem:basic", BASIC_FLAGS);
	const sets = new MemorySource("mem:sets", {
		metadata: { flagSetId: "s1" },
		flags: {
			"set-flag": {
				state: "ENABLED",
				variants: { on: true },
				defaultVariant: "on",
			},
		},
	});
	daemon = await startTestDaemon([source, sets], {
		staticContext: { injected: "set" },
		headerContext: { "x-from-header": "fromHeader" },
		maxRequestBodyBytes: 10_000,
	});
	await daemon.ready;
	base = `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/evaluate/flags`;
});

afterAll(async () => {
	await daemon.close();
});

async function post(
	path: string,
	body?: string,
	headers: Record<string, string> = {},
) {
	const res = await fetch(`${base}${path}`, {
		method: "POST",
		headers: { "Content-Type": "application/json", ...headers },
		...(body === undefined ? {} : { body }),
	});
	const text = await res.text();
	return {
		status: res.status,
		headers: res.headers,
		text,
		json: text === "" ? undefined : JSON.parse(text),
	};
}

describe("single flag", () => {
	it("evaluates untyped with an empty body", async () => {
		expect(await post("/int-flag")).toMatchObject({
			status: 200,
			json: {
				key: "int-flag",
				value: 10,
				variant: "ten",
				reason: "STATIC",
				metadata: {},
			},
		});
	});

	it("takes context from the body and emits false/zero values", async () => {
		expect(
			(
				await post(
					"/headerColor",
					JSON.stringify({ context: { email: "me@bar.com" } }),
				)
			).json,
		).toEqual({
			key: "headerColor",
			value: "#0000FF",
			variant: "blue",
			reason: "TARGETING_MATCH",
			metadata: {},
		});
		expect((await post("/bool-flag", "{}")).json).toEqual({
			key: "bool-flag",
			value: false,
			variant: "off",
			reason: "STATIC",
			metadata: {},
		});
	});

	it("leaves value and variant out for DISABLED and the code default (200)", async () => {
		expect(await post("/disabled-flag")).toMatchObject({
			status: 200,
			json: { key: "disabled-flag", reason: "DISABLED", metadata: {} },
		});
		expect((await post("/code-default-flag")).json).toEqual({
			key: "code-default-flag",
			reason: "DEFAULT",
			metadata: {},
		});
	});

	it("answers flagd's status codes for errors", async () => {
		expect(await post("/nope")).toMatchObject({
			status: 404,
			json: {
				key: "nope",
				errorCode: "FLAG_NOT_FOUND",
				errorDetails: "flag `nope` does not exist",
				metadata: {},
			},
		});
		expect(await post("/bad-ref-flag")).toMatchObject({
			status: 400,
			json: {
				key: "bad-ref-flag",
				errorCode: "PARSE_ERROR",
				errorDetails: "error parsing the flag `bad-ref-flag`",
			},
		});
		expect(await post("/missing-variant-flag")).toMatchObject({
			status: 400,
			json: {
				errorCode: "GENERAL",
				errorDetails: "error processing the flag for evaluation",
			},
		});
	});

	it("rejects invalid JSON with INVALID_CONTEXT and ignores a non-object context", async () => {
		expect(await post("/bool-flag", "{not json")).toMatchObject({
			status: 400,
			json: {
				key: "bool-flag",
				errorCode: "INVALID_CONTEXT",
				errorDetails: "Provider context is not valid",
				metadata: null,
			},
		});
		expect(
			(await post("/bool-flag", JSON.stringify({ context: "a string" })))
				.status,
		).toBe(200);
	});

	it("applies header mappings over static context over body", async () => {
		const body = JSON.stringify({ context: { injected: "no" } });
		expect((await post("/context-flag", body)).json).toMatchObject({
			variant: "internal",
		});
		expect(
			(await post("/context-flag", body, { "X-From-Header": "yes" })).json,
		).toMatchObject({
			variant: "header",
		});
	});

	it("honours and reflects Flagd-Selector, and rejects an invalid one", async () => {
		expect(
			(await post("/set-flag", undefined, { "Flagd-Selector": "flagSetId=s1" }))
				.json,
		).toEqual({
			key: "set-flag",
			value: true,
			variant: "on",
			reason: "STATIC",
			metadata: { flagSetId: "s1" },
		});
		expect(
			(
				await post("/bool-flag", undefined, {
					"Flagd-Selector": "flagSetId=s1",
				})
			).status,
		).toBe(404);
		const bad = await post("/bool-flag", undefined, {
			"Flagd-Selector": "a=b",
		});
		expect(bad.status).toBe(400);
		expect(bad.json).toMatchObject({ errorCode: "GENERAL" });
		expect(bad.json.errorDetails).toMatch(/invalid selector/);
	});

	it("refuses a body over the limit with 413 and keeps serving", async () => {
		const huge = JSON.stringify({ context: { pad: "x".repeat(20_000) } });
		expect(await post("/bool-flag", huge)).toMatchObject({
			status: 413,
			json: { errorDetails: "request body too large" },
		});
		expect((await post("/bool-flag")).status).toBe(200);
	});

	it("answers 405 for other methods and 404 for other paths", async () => {
		expect((await fetch(`${base}/bool-flag`)).status).toBe(405);
		const res = await fetch(
			`http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/other`,
			{ method: "POST" },
		);
		expect(res.status).toBe(404);
		await res.text();
	});
});

describe("bulk", () => {
	it("returns every flag sorted by (flagSetId, key) with inline errors and selector metadata", async () => {
		const res = await post(
			"",
			JSON.stringify({ context: { email: "a@bar.com" } }),
			{
				"Flagd-Selector": "flagSetId=s1",
			},
		);
		expect(res.json).toEqual({
			flags: [
				{
					key: "set-flag",
					value: true,
					variant: "on",
					reason: "STATIC",
					metadata: { flagSetId: "s1" },
				},
			],
			metadata: { flagSetId: "s1" },
			eventStreams: [
				{
					type: "sse",
					endpoint: { requestUri: "/ofrep/v1/sse?selector=flagSetId%3Ds1" },
					inactivityDelaySec: 120,
				},
			],
			refreshConnections: [
				{
					type: "sse",
					url: `http://127.0.0.1:${daemon.ports.ofrep}/ofrep/v1/sse?selector=flagSetId%3Ds1`,
					inactivityDelaySec: 120,
				},
			],
		});
		const all = await post("/");
		expect(all.status).toBe(200);
		const keys = all.json.flags.map((f: { key: string }) => f.key);
		expect(keys).toEqual([...keys.slice(0, -1).sort(), "set-flag"]);
		expect(all.json.flags).toContainEqual({
			key: "code-default-flag",
			reason: "DEFAULT",
			metadata: {},
		});
		expect(all.json.flags).toContainEqual({
			key: "bad-ref-flag",
			errorCode: "PARSE_ERROR",
			errorDetails: "error parsing the flag `bad-ref-flag`",
			metadata: {},
		});
	});

	it("answers a browser (Origin) with the CORS headers beside the answer's own, computed and replayed", async () => {
		const origin = { Origin: "https://app.example" };
		for (const path of ["/int-flag", ""]) {
			// The first answer is computed, the second replayed from the answer cache: both write the headers CORS
			// set before the answer's own.
			const bodies: string[] = [];
			for (let i = 0; i < 2; i++) {
				const res = await post(path, "{}", origin);
				expect(res.status).toBe(200);
				expect(res.headers.get("access-control-allow-origin")).toBe("*");
				expect(res.headers.get("access-control-expose-headers")).toContain(
					"ETag",
				);
				expect(res.headers.get("content-type")).toBe("application/json");
				expect(res.headers.get("content-length")).toBe(
					String(Buffer.byteLength(res.text)),
				);
				if (path === "") expect(res.headers.get("etag")).toMatch(/^".+"$/);
				bodies.push(res.text);
			}
			expect(bodies[1]).toBe(bodies[0]);
		}
	});

	it("sends an ETag and answers If-None-Match with 304 until the flags or the context change", async () => {
		const first = await post("");
		const etag = first.headers.get("etag");
		expect(etag).toMatch(/^".+"$/);
		const again = await post("", undefined, { "If-None-Match": etag ?? "" });
		expect(again.status).toBe(304);
		expect(again.text).toBe("");
		const otherContext = await post(
			"",
			JSON.stringify({ context: { email: "z@bar.com" } }),
			{
				"If-None-Match": etag ?? "",
			},
		);
		expect(otherContext.status).toBe(200);
		source.push({
			...BASIC_FLAGS,
			flags: { ...BASIC_FLAGS.flags, extra: BASIC_FLAGS.flags["bool-flag"] },
		});
		let changed = await post("", undefined, { "If-None-Match": etag ?? "" });
		for (let i = 0; i < 100 && changed.status === 304; i++) {
			await new Promise((resolve) => setTimeout(resolve, 5));
			changed = await post("", undefined, { "If-None-Match": etag ?? "" });
		}
		expect(changed.status).toBe(200);
		expect(changed.headers.get("etag")).not.toBe(etag);
	});
});
