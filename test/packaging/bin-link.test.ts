/**
 * `npm install` links a package's `bin` into node_modules/.bin only when the target file exists at that moment. In a
 * fresh clone nothing is built yet, so a bin pointing into dist/ stayed unlinked and `npx flagd` went to the registry
 * after `npm run build`. Every bin must therefore be a committed file, and the daemon's shim must run the built CLI,
 * or say how to build it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { repoRoot } from "./package-report.js";

const PACKAGE_DIRS = [
	"protocol",
	"evaluator",
	"provider-core",
	"provider",
	"web-provider",
	"daemon",
];
const committed = new Set(
	execFileSync("git", ["ls-files", "packages"], {
		cwd: repoRoot,
		encoding: "utf8",
	}).split("\n"),
);
const work = mkdtempSync(join(tmpdir(), "flagd-ts-bin-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("bin links in a fresh clone", () => {
	it.each(PACKAGE_DIRS)(
		"%s: every bin is a committed file, so npm links it at install time",
		(dir) => {
			const manifest = JSON.parse(
				readFileSync(join(repoRoot, "packages", dir, "package.json"), "utf8"),
			) as { bin?: Record<string, string> };
			for (const target of Object.values(manifest.bin ?? {})) {
				const path = `packages/${dir}/${target.replace(/^\.\//, "")}`;
				expect({ path, committed: committed.has(path) }).toEqual({
					path,
					committed: true,
				});
			}
		},
	);

	it("the flagd shim says how to build when dist/ is missing", () => {
		const copy = join(work, "daemon");
		cpSync(join(repoRoot, "packages/daemon/bin"), join(copy, "bin"), {
			recursive: true,
		});
		cpSync(
			join(repoRoot, "packages/daemon/package.json"),
			join(copy, "package.json"),
		);
		const run = spawnSync(
			process.execPath,
			[join(copy, "bin/flagd.js"), "version"],
			{
				encoding: "utf8",
			},
		);
		expect(run.status).toBe(1);
		expect(run.stderr).toBe(
			"flagd: the daemon is not built yet; run `npm run build` first\n",
		);
	});

	it("the flagd shim runs the built CLI as its entry point", () => {
		const copy = join(work, "built");
		cpSync(join(repoRoot, "packages/daemon/bin"), join(copy, "bin"), {
			recursive: true,
		});
		cpSync(
			join(repoRoot, "packages/daemon/package.json"),
			join(copy, "package.json"),
		);
		// A stand-in for dist/cli/main.js that shows what the shim hands over: argv[1] must be the CLI itself.
		cpSync(
			join(repoRoot, "test/packaging/testdata/echo-cli.js"),
			join(copy, "dist/cli/main.js"),
		);
		const run = spawnSync(
			process.execPath,
			[join(copy, "bin/flagd.js"), "version"],
			{
				encoding: "utf8",
			},
		);
		expect(run.stderr).toBe("");
		expect(JSON.parse(run.stdout)).toEqual({
			entry: join(copy, "dist/cli/main.js"),
			args: ["version"],
		});
	});
});
