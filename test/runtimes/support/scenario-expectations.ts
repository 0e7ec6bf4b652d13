/** What provider-scenario.ts must have printed, for every runtime that runs it. */
import { createServer } from "node:net";
import { expect } from "@jest/globals";
import type { ScenarioRecord } from "./run-scenario.js";

/** A TCP port nothing listens on (bound by the OS, then released). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() =>
				typeof address === "object" && address !== null
					? resolve(address.port)
					: reject(new Error("no port")),
			);
		});
	});
}

const TYPED = [
	{ flagKey: "bool-flag", value: true, variant: "on" },
	{ flagKey: "string-flag", value: "red", variant: "red" },
	{ flagKey: "int-flag", value: 2, variant: "two" },
	{ flagKey: "float-flag", value: 0.5, variant: "half" },
	{
		flagKey: "object-flag",
		value: { a: 1, nested: { b: [true, "x"] } },
		variant: "obj",
	},
];

export function expectScenarioResults(
	records: Map<string, ScenarioRecord>,
): void {
	expect(records.get("failed")).toBeUndefined();
	expect(records.get("types")?.results).toEqual(
		TYPED.map((flag) => ({ ...flag, reason: "STATIC" })),
	);
	expect(records.get("cached")).toEqual({
		check: "cached",
		reason: "CACHED",
		value: true,
	});
	expect(records.get("in-process")?.results).toEqual([
		...TYPED.map((flag) => ({ ...flag, reason: "STATIC" })),
		{
			flagKey: "targeted-flag",
			value: "INTERNAL",
			reason: "TARGETING_MATCH",
			variant: "internal",
		},
		{
			flagKey: "targeted-flag",
			value: "EXTERNAL",
			reason: "TARGETING_MATCH",
			variant: "external",
		},
	]);
	// The cache was cleared by the change: the new value is served as STATIC, not the old one as CACHED.
	expect(records.get("change")).toEqual({
		check: "change",
		rpc: { keys: ["string-flag"], value: "blue", reason: "STATIC" },
		inProcess: { keys: ["string-flag"], value: "blue", reason: "STATIC" },
	});
	const unreachable = records.get("unreachable");
	expect(unreachable?.failed).toBe(true);
	// deadlineMs is 1000; the bound leaves room for a busy machine but not for a hang.
	expect(unreachable?.elapsedMs).toBeLessThan(10_000);
	expect(String(unreachable?.message)).toMatch(/\S/);
	expect(unreachable?.answer).toEqual({
		value: false,
		errorCode: expect.stringMatching(/PROVIDER_NOT_READY|GENERAL/),
	});
	expect(records.get("closed")).toEqual({ check: "closed" });
}

/** The code block under `<!-- example: file -->` in a runtime page, which must equal the file the test runs. */
export function documentedExample(
	markdown: string,
	file: string,
): string | undefined {
	const marker = `<!-- example: ${file} -->\n\`\`\`ts\n`;
	const start = markdown.indexOf(marker);
	if (start < 0) return undefined;
	const body = markdown.slice(start + marker.length);
	return body.slice(0, body.indexOf("\n```\n") + 1);
}
