/**
 * Reads the fenced code blocks of a package README and runs its JavaScript examples against the packed packages, so
 * a README cannot drift from what is published. The expected output of an example is written in the example itself:
 * the `// comment` after a `console.log(...)` (on the same line, or on the line right after it).
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CodeBlock {
	readonly language: string;
	readonly code: string;
}

export function readmeBlocks(readmePath: string): CodeBlock[] {
	const text = readFileSync(readmePath, "utf8");
	return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
		language: m[1] ?? "",
		code: m[2] ?? "",
	}));
}

/** Relative Markdown link targets (`[text](../../docs/x.md)`), without anchors. */
export function relativeLinks(readmePath: string): string[] {
	const text = readFileSync(readmePath, "utf8");
	return [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
		.map((m) => m[1] ?? "")
		.filter((target) => !/^[a-z]+:/.test(target));
}

/** The output lines an example promises, from the comments that follow its `console.log` calls. */
export function expectedOutput(code: string): string[] {
	const lines = code.split("\n");
	const expected: string[] = [];
	lines.forEach((line, i) => {
		if (!line.includes("console.log(")) return;
		const sameLine = /\)\s*;\s*\/\/\s?(.*)$/.exec(line);
		const nextLine = /^\s*\/\/\s?(.*)$/.exec(lines[i + 1] ?? "");
		const comment = sameLine?.[1] ?? nextLine?.[1];
		if (comment === undefined)
			throw new Error(
				`example line without an expected-output comment: ${line}`,
			);
		expected.push(comment.trim());
	});
	return expected;
}

export interface ExampleRun {
	readonly code: number;
	readonly stdout: string;
	readonly stderr: string;
}

/** Writes `code` as an ES module into `dir` (a consumer project) and runs it with `node`. */
export function runModule(
	dir: string,
	name: string,
	code: string,
	timeoutMs: number,
): Promise<ExampleRun> {
	const file = join(dir, `${name}.mjs`);
	writeFileSync(file, code);
	return runCommand(process.execPath, [file], dir, timeoutMs);
}

export function runCommand(
	cmd: string,
	args: readonly string[],
	cwd: string,
	timeoutMs: number,
): Promise<ExampleRun> {
	return new Promise((resolve) => {
		execFile(
			cmd,
			[...args],
			{ cwd, timeout: timeoutMs },
			(error, stdout, stderr) => {
				const code =
					error === null ? 0 : typeof error.code === "number" ? error.code : -1;
				resolve({
					code,
					stdout,
					stderr: error !== null && stderr === "" ? error.message : stderr,
				});
			},
		);
	});
}
