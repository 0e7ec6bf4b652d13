/**
 * Builds the testbed's `allFlags.json`: every flag file of `rawflags/` except `selector-*`, deep-merged in file-name
 * order (objects merge key by key, anything else is replaced by the later file), as the testbed launchpad does.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

// defineProperty keeps keys like "__proto__" as plain data instead of replacing the prototype (no pollution).
function setOwn(
	target: { [key: string]: Json },
	key: string,
	value: Json,
): void {
	Object.defineProperty(target, key, {
		value,
		enumerable: true,
		writable: true,
		configurable: true,
	});
}

/** Deep-merges `source` into a copy of `target`; neither input is modified. */
export function deepMerge(target: Json, source: Json): Json {
	if (!isObject(target) || !isObject(source)) return source;
	const out: { [key: string]: Json } = {};
	for (const [key, value] of Object.entries(target)) setOwn(out, key, value);
	for (const [key, value] of Object.entries(source)) {
		const existing = Object.hasOwn(out, key) ? out[key] : undefined;
		setOwn(
			out,
			key,
			existing === undefined ? value : deepMerge(existing, value),
		);
	}
	return out;
}

/** Reads and merges the flag files of `rawFlagsDir`; throws naming the file when one is not valid JSON. */
export async function mergeFlagFiles(rawFlagsDir: string): Promise<string> {
	const names = (await readdir(rawFlagsDir))
		.filter((name) => name.endsWith(".json") && !name.startsWith("selector-"))
		.sort();
	let merged: Json = {};
	for (const name of names) {
		const file = path.join(rawFlagsDir, name);
		let parsed: Json;
		try {
			parsed = JSON.parse(await readFile(file, "utf8")) as Json;
		} catch (error: unknown) {
			throw new Error(`launchpad: cannot merge ${file}: ${String(error)}`, {
				cause: error,
			});
		}
		merged = deepMerge(merged, parsed);
	}
	return `${JSON.stringify(merged, null, 2)}\n`;
}
