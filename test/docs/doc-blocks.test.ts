/**
 * The docs runner's own parts: the Markdown block reader that decides what the page tests must run, and the
 * substitution that is the only change tests make to a documented command. If these were wrong, the page tests
 * could pass without running what the docs show.
 */
import { describe, expect, it } from "@jest/globals";
import {
	EXECUTABLE_LANGS,
	parseDocBlocks,
	relativeLinks,
	substitute,
} from "./doc-blocks.js";

const PAGE = [
	"# Title",
	"",
	"<!-- run: start -->",
	"```sh",
	"npm start",
	"```",
	"",
	"```ts",
	"const unmarked = 1;",
	"```",
	"<!-- sample: docs/examples/node/x.ts -->",
	"```ts",
	"```",
	"",
	"<!-- output: start -->",
	"````text",
	"```",
	"inner fence",
	"````",
	"See [faq](faq.md#events), [site](https://flagd.dev) and [here](#title).",
].join("\n");

describe("parseDocBlocks", () => {
	const blocks = parseDocBlocks(PAGE, "page.md");

	it("reads every fenced block with its language, text, line and marker", () => {
		expect(blocks).toEqual([
			{
				lang: "sh",
				content: "npm start\n",
				marker: { kind: "run", value: "start" },
				line: 4,
				bodyLineCount: 1,
			},
			{
				lang: "ts",
				content: "const unmarked = 1;\n",
				marker: undefined,
				line: 8,
				bodyLineCount: 1,
			},
			{
				lang: "ts",
				content: "\n",
				marker: { kind: "sample", value: "docs/examples/node/x.ts" },
				line: 12,
				bodyLineCount: 0,
			},
			{
				lang: "text",
				content: "```\ninner fence\n",
				marker: { kind: "output", value: "start" },
				line: 16,
				bodyLineCount: 2,
			},
		]);
	});

	it("finds the unmarked executable block the site test must reject", () => {
		const unmarked = blocks.filter(
			(b) => EXECUTABLE_LANGS.has(b.lang) && b.marker === undefined,
		);
		expect(unmarked.map((b) => b.line)).toEqual([8]);
	});

	it("rejects a fence that is never closed", () => {
		expect(() => parseDocBlocks("```sh\nnpm start\n", "bad.md")).toThrow(
			"bad.md:1: code fence is never closed",
		);
	});

	it("lists relative links without anchors, leaving out URLs and in-page anchors", () => {
		expect(relativeLinks(PAGE)).toEqual(["faq.md"]);
	});
});

describe("substitute", () => {
	it("replaces every occurrence of each key", () => {
		expect(
			substitute("curl http://127.0.0.1:8016/a http://127.0.0.1:8016/b", {
				"127.0.0.1:8016": "127.0.0.1:4321",
			}),
		).toBe("curl http://127.0.0.1:4321/a http://127.0.0.1:4321/b");
	});

	it("throws when a key does not occur, so a test cannot silently run another command", () => {
		expect(() => substitute("npm start", { ":8013": ":1" })).toThrow(
			'substitution ":8013" not found',
		);
	});
});
