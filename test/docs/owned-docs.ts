/**
 * The pages of docs/ whose code blocks are executed by the tests in test/docs/, each with the test that runs it.
 * Other pages of docs/ belong to other parts of the project and are only link-checked from index.md.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseDocBlocks, REPO_ROOT } from "./doc-blocks.js";

export const OWNED_DOCS: Readonly<Record<string, string>> = {
	"index.md": "test/docs/docs-site.test.ts",
	"quick-start-node.md": "test/docs/quick-start-node.test.ts",
	"quick-start-browser.md": "test/docs/quick-start-browser.test.ts",
	"migration-from-flagd-provider.md":
		"test/docs/migration-from-flagd-provider.test.ts",
	"migration-from-go-flagd.md": "test/docs/migration-from-go-flagd.test.ts",
	"faq.md": "test/docs/faq.test.ts",
	"runtimes/workerd.md": "test/runtimes/workerd/workerd.test.ts",
	"runtimes/edge-runtime.md": "test/runtimes/edge-runtime/edge-runtime.test.ts",
};

/** The folder of runnable Node samples; every file in it must appear in an owned page. */
export const NODE_SAMPLES_DIR = "docs/examples/node";

/**
 * Rewrites every `sample:` block of the owned pages with the current content of its file and returns the pages
 * that changed. After editing a sample: `UPDATE_DOC_SAMPLES=1 npx jest test/docs/docs-site.test.ts`.
 */
export function syncSampleBlocks(): string[] {
	const changed: string[] = [];
	for (const name of Object.keys(OWNED_DOCS)) {
		const file = path.join(REPO_ROOT, "docs", name);
		if (!existsSync(file)) continue;
		const markdown = readFileSync(file, "utf8");
		const lines = markdown.split("\n");
		// Replace from the last block up, so earlier line numbers stay valid.
		const blocks = parseDocBlocks(markdown, name)
			.filter((b) => b.marker?.kind === "sample")
			.reverse();
		for (const block of blocks) {
			const sample = readFileSync(
				path.join(REPO_ROOT, block.marker?.value ?? ""),
				"utf8",
			);
			lines.splice(
				block.line,
				block.bodyLineCount,
				...sample.replace(/\n$/, "").split("\n"),
			);
		}
		const updated = lines.join("\n");
		if (updated !== markdown) {
			writeFileSync(file, updated);
			changed.push(name);
		}
	}
	return changed;
}
