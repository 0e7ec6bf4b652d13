import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "@jest/globals";
import { testbedRoot } from "../support/gherkin-cases.js";
import { deepMerge, mergeFlagFiles } from "./merge-flag-files.js";

const dirs: string[] = [];

afterEach(async () => {
	for (const dir of dirs.splice(0))
		await rm(dir, { recursive: true, force: true });
});

async function tempDir(files: Record<string, string>): Promise<string> {
	const dir = await mkdtemp(path.join(os.tmpdir(), "merge-flags-"));
	dirs.push(dir);
	for (const [name, content] of Object.entries(files))
		await writeFile(path.join(dir, name), content);
	return dir;
}

describe("deepMerge", () => {
	it("merges objects key by key and lets the later value win otherwise", () => {
		expect(
			deepMerge({ a: { x: 1, y: [1] }, b: 1 }, { a: { y: [2], z: 3 }, c: 2 }),
		).toEqual({
			a: { x: 1, y: [2], z: 3 },
			b: 1,
			c: 2,
		});
	});

	it("keeps a __proto__ key as data instead of changing any prototype", () => {
		const merged = deepMerge(
			{},
			JSON.parse('{"__proto__": {"polluted": true}}'),
		) as Record<string, unknown>;
		expect(Object.hasOwn(merged, "__proto__")).toBe(true);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
	});
});

describe("mergeFlagFiles", () => {
	it("merges every flag file but selector-* in name order", async () => {
		const dir = await tempDir({
			"a.json": JSON.stringify({
				flags: { one: { state: "ENABLED" } },
				$evaluators: { e: 1 },
			}),
			"b.json": JSON.stringify({ flags: { two: { state: "DISABLED" } } }),
			"selector-x.json": JSON.stringify({ flags: { hidden: {} } }),
			"notes.txt": "ignored",
		});
		expect(JSON.parse(await mergeFlagFiles(dir))).toEqual({
			flags: { one: { state: "ENABLED" }, two: { state: "DISABLED" } },
			$evaluators: { e: 1 },
		});
	});

	it("names the file that is not valid JSON", async () => {
		const dir = await tempDir({ "broken.json": "{" });
		await expect(mergeFlagFiles(dir)).rejects.toThrow(/broken\.json/);
	});

	it("builds the testbed's allFlags.json with the flags of every non-selector file", async () => {
		const merged = JSON.parse(
			await mergeFlagFiles(path.join(testbedRoot(), "flags")),
		) as {
			flags: Record<string, unknown>;
		};
		expect(Object.keys(merged.flags)).toEqual(
			expect.arrayContaining([
				"boolean-flag",
				"changing-flag",
				"disabled-boolean-flag",
				"flagd-context-aware",
			]),
		);
		// cross-flagset-flag is disabled in disabled-flags.json and enabled only in selector-flags.json.
		expect(merged.flags["cross-flagset-flag"]).toMatchObject({
			state: "DISABLED",
		});
	});
});
