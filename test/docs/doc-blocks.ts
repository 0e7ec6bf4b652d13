/**
 * Reads the fenced code blocks of a Markdown page in docs/ together with the marker comment that tells the docs
 * tests what to do with each block. A marker is an HTML comment on the line right before the opening fence
 * (invisible on a rendered page):
 *
 * - `<!-- sample: docs/examples/node/x.ts -->`: the block must equal that file byte for byte; the file is executed
 *   by the page's test;
 * - `<!-- run: <id> -->`: a shell block the page's test runs (from the repository root);
 * - `<!-- output: <id> -->`: what a run or sample prints; the page's test compares it;
 * - `<!-- step: <id> -->`: any other text a reader acts on (a URL to open); the page's test uses it;
 * - `<!-- excerpt: docs/examples/…/x.ts -->`: the block must occur verbatim in that file, which the page's test
 *   executes (for a few lines out of a longer example).
 *
 * `DocPage` records which blocks a test took, so the last test of each page can assert that none was left out.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../..");

export type MarkerKind = "sample" | "excerpt" | "run" | "output" | "step";

export interface DocBlock {
	/** The fence's info string's first word, e.g. `ts`, `sh`, `text`; "" when none. */
	readonly lang: string;
	/** The block's text without the fences, ending with a newline. */
	readonly content: string;
	readonly marker:
		| { readonly kind: MarkerKind; readonly value: string }
		| undefined;
	/** 1-based line of the opening fence, for messages. */
	readonly line: number;
	/** Number of lines between the fences. */
	readonly bodyLineCount: number;
}

/** Languages whose blocks must be executed or compared with an executed file. */
export const EXECUTABLE_LANGS: ReadonlySet<string> = new Set([
	"ts",
	"typescript",
	"js",
	"javascript",
	"mjs",
	"sh",
	"bash",
	"shell",
	"console",
]);

const MARKER = /^<!--\s*(sample|excerpt|run|output|step):\s*(\S+)\s*-->$/;
const FENCE = /^(`{3,}|~{3,})(.*)$/;

/** Splits Markdown into its fenced blocks. Unterminated fences are an error, not silently dropped. */
export function parseDocBlocks(markdown: string, name: string): DocBlock[] {
	const lines = markdown.split("\n");
	const blocks: DocBlock[] = [];
	for (let i = 0; i < lines.length; i++) {
		const open = FENCE.exec(lines[i] ?? "");
		if (open === null) continue;
		const fence = open[1] ?? "```";
		const lang = (open[2] ?? "").trim().split(/\s+/)[0] ?? "";
		const body: string[] = [];
		let j = i + 1;
		while (j < lines.length && !(lines[j] ?? "").startsWith(fence)) {
			body.push(lines[j] ?? "");
			j++;
		}
		if (j >= lines.length) {
			throw new Error(`${name}:${i + 1}: code fence is never closed`);
		}
		const markerMatch = MARKER.exec((lines[i - 1] ?? "").trim());
		blocks.push({
			lang,
			content: `${body.join("\n")}\n`,
			marker:
				markerMatch === null
					? undefined
					: {
							kind: markerMatch[1] as MarkerKind,
							value: markerMatch[2] ?? "",
						},
			line: i + 1,
			bodyLineCount: body.length,
		});
		i = j;
	}
	return blocks;
}

/** Relative links (`[text](target)`) of a page, without anchors; external and anchor-only links are left out. */
export function relativeLinks(markdown: string): string[] {
	const links: string[] = [];
	for (const m of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
		const target = m[1] ?? "";
		if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
		links.push(target.split("#")[0] ?? target);
	}
	return links;
}

/**
 * One page of docs/ as its test sees it. `run`, `output`, `step` and `sample` look a block up by its marker
 * (throwing when the page has none, so a renamed block fails loudly) and remember that it was used.
 */
export class DocPage {
	readonly name: string;
	readonly blocks: readonly DocBlock[];
	private readonly used = new Set<DocBlock>();

	constructor(name: string) {
		this.name = name;
		this.blocks = parseDocBlocks(
			readFileSync(path.join(REPO_ROOT, "docs", name), "utf8"),
			name,
		);
	}

	/** The text of the `run: id` block (a shell script). */
	run(id: string): string {
		return this.take("run", id).content;
	}

	/** The text of the `output: id` block. */
	output(id: string): string {
		return this.take("output", id).content;
	}

	/** The text of the `step: id` block. */
	step(id: string): string {
		return this.take("step", id).content;
	}

	/** Marks the `sample: file` block as executed by this test and returns the file's path from the repo root. */
	sample(file: string): string {
		this.take("sample", file);
		return file;
	}

	/** Marks the `excerpt: file` block as executed by this test (as part of `file`) and returns the file's path. */
	excerpt(file: string): string {
		this.take("excerpt", file);
		return file;
	}

	/** Blocks with a marker that no test took: each must be executed or compared, so this must end up empty. */
	unused(): string[] {
		return this.blocks
			.filter((b) => b.marker !== undefined && !this.used.has(b))
			.map(
				(b) => `${this.name}:${b.line} ${b.marker?.kind}: ${b.marker?.value}`,
			);
	}

	private take(kind: MarkerKind, value: string): DocBlock {
		const found = this.blocks.filter(
			(b) => b.marker?.kind === kind && b.marker.value === value,
		);
		const block = found[0];
		if (block === undefined || found.length > 1) {
			throw new Error(
				`${this.name}: expected exactly one block marked "${kind}: ${value}", found ${found.length}`,
			);
		}
		this.used.add(block);
		return block;
	}
}

/**
 * Replaces each key of `map` in `text` (every occurrence) and throws when a key does not occur, so a test never
 * silently runs a command other than the one the doc shows plus the declared substitutions (ports).
 */
export function substitute(
	text: string,
	map: Readonly<Record<string, string>>,
): string {
	let out = text;
	for (const [from, to] of Object.entries(map)) {
		if (!out.includes(from)) {
			throw new Error(`substitution "${from}" not found in:\n${text}`);
		}
		out = out.split(from).join(to);
	}
	return out;
}
