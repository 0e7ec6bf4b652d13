/**
 * The daemon's dependency rule (docs/architecture.md), checked on the sources: which top-level folder may import
 * which, the API folders independent of one another, and no import cycle between files (type-only imports
 * included). Test files and testdata/ are exempt: tests may reach anything.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "@jest/globals";

const SRC = __dirname;

/** Top-level folder (or root file) → what it may import besides itself. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
	"errors.ts": [],
	logging: ["errors.ts"],
	store: ["errors.ts", "logging"],
	syncs: ["errors.ts", "logging"],
	config: ["errors.ts", "logging", "syncs"],
	telemetry: ["errors.ts", "logging", "config", "store"],
	resolver: ["errors.ts", "logging", "store", "telemetry"],
	transport: ["errors.ts", "logging"],
	api: ["errors.ts", "logging", "store", "resolver", "telemetry", "transport"],
	runtime: [
		"errors.ts",
		"logging",
		"store",
		"syncs",
		"config",
		"telemetry",
		"resolver",
		"transport",
		"api",
	],
	cli: ["errors.ts", "logging", "config", "runtime"],
	"index.ts": [
		"errors.ts",
		"logging",
		"store",
		"syncs",
		"config",
		"runtime",
		"cli",
	],
};

function sourceFiles(dir: string): string[] {
	const out: string[] = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) {
			if (entry.name !== "testdata") out.push(...sourceFiles(path));
		} else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
			out.push(path);
	}
	return out;
}

/** Relative imports of a file (static, dynamic, re-exports), resolved to source paths. */
function importsOf(file: string): string[] {
	const text = readFileSync(file, "utf8");
	const specs = [
		...text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g),
		...text.matchAll(/\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g),
		...text.matchAll(/^import\s+"(\.{1,2}\/[^"]+)"/gm),
	].map((m) => m[1] as string);
	return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)] as const));
const rel = (f: string) => relative(SRC, f);
const topOf = (f: string) => rel(f).split("/")[0] as string;

describe("daemon dependency rule", () => {
	it("finds the sources", () => {
		expect(files.length).toBeGreaterThan(50);
		for (const file of files)
			expect(Object.keys(ALLOWED)).toContain(topOf(file));
	});

	it("imports only along the allowed folder edges", () => {
		const violations: string[] = [];
		for (const [file, targets] of graph) {
			const from = topOf(file);
			for (const target of targets) {
				const to = topOf(target);
				if (to !== from && !ALLOWED[from]?.includes(to))
					violations.push(`${rel(file)} → ${rel(target)}`);
			}
		}
		expect(violations).toEqual([]);
	});

	it("keeps each API folder independent of the others", () => {
		const violations: string[] = [];
		for (const [file, targets] of graph) {
			const [top, api] = rel(file).split("/");
			if (top !== "api" || api === undefined || api.endsWith(".ts")) continue;
			for (const target of targets) {
				const [targetTop, targetApi] = rel(target).split("/");
				if (
					targetTop === "api" &&
					targetApi !== undefined &&
					!targetApi.endsWith(".ts") &&
					targetApi !== api
				)
					violations.push(`${rel(file)} → ${rel(target)}`);
			}
		}
		expect(violations).toEqual([]);
	});

	it("has no import cycle", () => {
		const cycles: string[] = [];
		const state = new Map<string, "open" | "done">();
		const stack: string[] = [];
		const visit = (file: string): void => {
			state.set(file, "open");
			stack.push(file);
			for (const target of graph.get(file) ?? []) {
				if (!graph.has(target)) continue;
				const seen = state.get(target);
				if (seen === "open")
					cycles.push(
						[...stack.slice(stack.indexOf(target)), target]
							.map(rel)
							.join(" → "),
					);
				else if (seen === undefined) visit(target);
			}
			stack.pop();
			state.set(file, "done");
		};
		for (const file of files) if (!state.has(file)) visit(file);
		expect(cycles).toEqual([]);
	});
});
