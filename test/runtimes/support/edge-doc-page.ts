/**
 * The check that a runtime page of docs/runtimes shows exactly the example files its test runs: every ts block
 * is a `sample:` block equal to its file, and the page shows each file the test bundles.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "@jest/globals";
import { parseDocBlocks, REPO_ROOT } from "../../docs/doc-blocks.js";

export function expectPageShowsSamples(
	page: string,
	files: readonly string[],
): void {
	const blocks = parseDocBlocks(
		readFileSync(path.join(REPO_ROOT, "docs", page), "utf8"),
		page,
	).filter((b) => b.lang === "ts");
	expect(blocks.filter((b) => b.marker?.kind !== "sample")).toEqual([]);
	expect(blocks.map((b) => b.marker?.value).sort()).toEqual([...files].sort());
	for (const block of blocks) {
		const file = block.marker?.value ?? "";
		expect({ file, content: block.content }).toEqual({
			file,
			content: readFileSync(path.join(REPO_ROOT, file), "utf8"),
		});
	}
}
