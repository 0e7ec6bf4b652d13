/**
 * The docs/ site as a whole: every executable code block of the pages owned by test/docs is marked (so a page's
 * test runs or compares it), every sample block equals its file, every sample file is on a page and type-checks,
 * relative links and anchors resolve, and index.md links to every page of docs/.
 * `UPDATE_DOC_SAMPLES=1 npx jest test/docs/docs-site.test.ts` first copies the sample files into their blocks.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";
import {
	EXECUTABLE_LANGS,
	parseDocBlocks,
	REPO_ROOT,
	relativeLinks,
} from "./doc-blocks.js";
import {
	NODE_SAMPLES_DIR,
	OWNED_DOCS,
	syncSampleBlocks,
} from "./owned-docs.js";

if (process.env.UPDATE_DOC_SAMPLES === "1") syncSampleBlocks();

const DOCS = path.join(REPO_ROOT, "docs");
const read = (file: string): string => readFileSync(file, "utf8");

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
	const result = new Set<string>();
	for (const m of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
		result.add(
			(m[1] ?? "")
				.trim()
				.toLowerCase()
				.replace(/[^\p{L}\p{N}\s_-]/gu, "")
				.replace(/\s/g, "-"),
		);
	}
	return result;
}

describe("docs site", () => {
	const pages = Object.keys(OWNED_DOCS);

	it.each(pages)("%s has a test that runs it", (page) => {
		expect(existsSync(path.join(DOCS, page))).toBe(true);
		expect(existsSync(path.join(REPO_ROOT, OWNED_DOCS[page] ?? ""))).toBe(true);
	});

	it.each(pages)(
		"%s: every ts/js/sh block is marked to be executed or compared",
		(page) => {
			const unmarked = parseDocBlocks(read(path.join(DOCS, page)), page)
				.filter((b) => EXECUTABLE_LANGS.has(b.lang) && b.marker === undefined)
				.map((b) => `${page}:${b.line} (${b.lang})`);
			expect(unmarked).toEqual([]);
		},
	);

	it.each(pages)("%s: every sample block equals its file", (page) => {
		for (const block of parseDocBlocks(read(path.join(DOCS, page)), page)) {
			if (block.marker?.kind !== "sample") continue;
			const file = path.join(REPO_ROOT, block.marker.value);
			expect({ page, line: block.line, content: block.content }).toEqual({
				page,
				line: block.line,
				content: read(file),
			});
		}
	});

	it.each(pages)("%s: every excerpt block occurs in its file", (page) => {
		for (const block of parseDocBlocks(read(path.join(DOCS, page)), page)) {
			if (block.marker?.kind !== "excerpt") continue;
			const file = read(path.join(REPO_ROOT, block.marker.value));
			expect({
				page,
				line: block.line,
				inFile: file.includes(block.content),
			}).toEqual({
				page,
				line: block.line,
				inFile: true,
			});
		}
	});

	it.each(pages)("%s: relative links and anchors resolve", (page) => {
		const markdown = read(path.join(DOCS, page));
		const broken: string[] = [];
		for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
			const target = m[1] ?? "";
			if (/^[a-z]+:/i.test(target)) continue;
			const [file = "", anchor] = target.split("#");
			const resolved =
				file === ""
					? path.join(DOCS, page)
					: path.resolve(path.dirname(path.join(DOCS, page)), file);
			if (!existsSync(resolved)) broken.push(target);
			else if (anchor !== undefined && !anchors(read(resolved)).has(anchor))
				broken.push(target);
		}
		expect(broken).toEqual([]);
	});

	it("every sample file in docs/examples/node is shown on an owned page", () => {
		const shown = new Set(
			pages.flatMap((page) =>
				parseDocBlocks(read(path.join(DOCS, page)), page)
					.filter((b) => b.marker?.kind === "sample")
					.map((b) => b.marker?.value),
			),
		);
		const files = readdirSync(path.join(REPO_ROOT, NODE_SAMPLES_DIR))
			.filter((f) => f.endsWith(".ts"))
			.map((f) => `${NODE_SAMPLES_DIR}/${f}`);
		expect(files.length).toBeGreaterThan(0);
		expect(files.filter((f) => !shown.has(f))).toEqual([]);
	});

	it("index.md links to every page of docs/", () => {
		const linked = new Set(relativeLinks(read(path.join(DOCS, "index.md"))));
		const missing = readdirSync(DOCS)
			.filter((f) => f.endsWith(".md") && f !== "index.md")
			.filter((f) => !linked.has(f));
		expect(missing).toEqual([]);
	});

	it("the Node samples type-check (tsc -p docs/examples/node)", async () => {
		const tsc = path.join(REPO_ROOT, "node_modules/typescript/bin/tsc");
		const result = await promisify(execFile)(
			process.execPath,
			[
				tsc,
				"-p",
				path.join(REPO_ROOT, NODE_SAMPLES_DIR, "tsconfig.json"),
				// Re-runs only re-check what changed (a fresh machine takes a few seconds).
				"--incremental",
				"--tsBuildInfoFile",
				path.join(os.tmpdir(), "flagd-ts-docs-samples.tsbuildinfo"),
			],
			{ cwd: REPO_ROOT },
		).then(
			() => "",
			(e: { stdout?: string; message: string }) => e.stdout || e.message,
		);
		expect(result).toBe("");
	}, 300_000); // tsc over every sample: minutes on a loaded 2-core machine
});
