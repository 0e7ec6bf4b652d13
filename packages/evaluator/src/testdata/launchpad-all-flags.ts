/**
 * The testbed launchpad's `flags/allFlags.json`, for suites that evaluate the testbed flag files in-process: every
 * `flags/*.json` except `selector-*`, deep-merged in file-name order with the conformance launchpad's own merge
 * (one merge for every suite). Synchronous, so a suite can list its cases from it; the caller reads the files
 * (sources of this package use no Node built-ins).
 */
import { deepMerge } from "../../../../test/conformance/merge-flag-files.js";

type Json = Parameters<typeof deepMerge>[0];

/** Merges the flag files among `fileNames` (the names in the testbed's `flags/` folder), read by `readJson`. */
export function launchpadAllFlags(
	fileNames: readonly string[],
	readJson: (fileName: string) => unknown,
): Record<string, unknown> {
	return fileNames
		.filter((f) => f.endsWith(".json") && !f.startsWith("selector-"))
		.sort()
		.map((f) => readJson(f) as Json)
		.reduce<Json>(deepMerge, {}) as Record<string, unknown>;
}
