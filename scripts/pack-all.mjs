#!/usr/bin/env node
// `npm run pack:all`: builds every package and packs it with `npm pack` into packs/ (one .tgz per package), the way
// it would be published. Until the packages are on npm, users install from there; installing the tarballs together
// lets npm resolve the packages' dependencies on each other (@flagd-ts/provider needs provider-core and protocol):
//
//   npm install /path/to/flagd-ts/packs/*.tgz
//
// Usage: node scripts/pack-all.mjs [--out <dir>] [--no-build]
// scripts/check-packages.mjs packs with the same function (packWorkspaces), so the packaging test covers this path.
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const root = resolve(fileURLToPath(import.meta.url), "../..");

/** Packs every workspace of `repo` into `destination` (emptied first); resolves with npm's JSON report. */
export async function packWorkspaces(repo, destination, timeoutMs) {
	rmSync(destination, { recursive: true, force: true });
	mkdirSync(destination, { recursive: true });
	const { stdout } = await execFileAsync(
		"npm",
		["pack", "--workspaces", "--json", "--pack-destination", destination],
		{
			cwd: repo,
			timeout: timeoutMs,
			killSignal: "SIGKILL",
			maxBuffer: 64 * 1024 * 1024,
		},
	);
	return JSON.parse(stdout);
}

async function main() {
	const args = process.argv.slice(2);
	const outAt = args.indexOf("--out");
	const out = resolve(
		outAt >= 0 ? (args[outAt + 1] ?? "packs") : join(root, "packs"),
	);
	if (!args.includes("--no-build")) {
		console.log("pack:all: npm run build");
		await execFileAsync("npm", ["run", "build"], {
			cwd: root,
			maxBuffer: 64 * 1024 * 1024,
		});
	}
	const packed = await packWorkspaces(root, out, 10 * 60_000);
	for (const pack of packed)
		console.log(
			`${pack.name}@${pack.version}  ${join(relative(process.cwd(), out) || ".", pack.filename)}`,
		);
	console.log(
		`\nInstall them together in your project (npm resolves their dependencies on each other):\n  npm install ${join(out, "*.tgz")}`,
	);
	const stray = readdirSync(out).filter((f) => !f.endsWith(".tgz"));
	if (stray.length > 0)
		throw new Error(`unexpected files in ${out}: ${stray.join(", ")}`);
}

if (
	process.argv[1] !== undefined &&
	resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
	try {
		await main();
	} catch (error) {
		console.error(
			`pack:all: ${error instanceof Error ? error.message : String(error)}`,
		);
		process.exitCode = 1;
	}
}
