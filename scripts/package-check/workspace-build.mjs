// The clean copy of the repository that the package check builds, and its build.
import {
	cpSync,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	symlinkSync,
} from "node:fs";
import { join, relative } from "node:path";
import { PACKAGES, repoRoot } from "./package-list.mjs";
import { mustRun, settleAll } from "./run-command.mjs";

/** node_modules of `dir`: a link to every installed third-party package, with @flagd-ts/* handled by `flagdTs`. */
export function linkNodeModules(dir, flagdTs, withBin) {
	const nodeModules = join(dir, "node_modules");
	mkdirSync(nodeModules, { recursive: true });
	for (const entry of readdirSync(join(repoRoot, "node_modules"))) {
		if (
			entry === "@flagd-ts" ||
			entry === ".package-lock.json" ||
			(entry === ".bin" && !withBin)
		)
			continue;
		symlinkSync(
			join(repoRoot, "node_modules", entry),
			join(nodeModules, entry),
		);
	}
	mkdirSync(join(nodeModules, "@flagd-ts"));
	for (const pkg of PACKAGES)
		flagdTs(pkg, join(nodeModules, "@flagd-ts", pkg.dir));
}

/** A clean copy of the repository: sources only, no dist/, no generated code, no per-package tool state. */
export function copyWorkspace(work) {
	for (const file of [
		"package.json",
		"tsconfig.base.json",
		"buf.yaml",
		"buf.gen.yaml",
		"LICENSE",
	]) {
		cpSync(join(repoRoot, file), join(work, file));
	}
	const skip = new Set(["node_modules", "dist", ".tshy", ".tshy-build"]);
	for (const pkg of PACKAGES) {
		const from = join(repoRoot, "packages", pkg.dir);
		cpSync(from, join(work, "packages", pkg.dir), {
			recursive: true,
			filter: (src) => {
				const rel = relative(from, src);
				return !skip.has(rel.split("/")[0] ?? "") && rel !== join("src", "gen");
			},
		});
		// Nested installs (a package that needs another version than the hoisted one) stay as they are.
		if (existsSync(join(from, "node_modules"))) {
			symlinkSync(
				join(from, "node_modules"),
				join(work, "packages", pkg.dir, "node_modules"),
			);
		}
	}
	// The build needs the workspace's tools (tshy, tsc, buf) on PATH through node_modules/.bin.
	linkNodeModules(
		work,
		(pkg, link) => symlinkSync(join(work, "packages", pkg.dir), link),
		true,
	);
}

/**
 * What the root `npm run build` does (generate, then each package's own `build` script), except that packages whose
 * sibling dependencies are built start at once instead of one after another: the same commands, about half the time
 * on two cores.
 */
export async function buildAll(work, budgets) {
	await mustRun("npm", ["run", "generate"], {
		cwd: work,
		timeoutMs: budgets.generateMs,
	});
	const siblingsOf = (pkg) => {
		const manifest = JSON.parse(
			readFileSync(join(work, "packages", pkg.dir, "package.json"), "utf8"),
		);
		return Object.keys(manifest.dependencies ?? {}).filter((name) =>
			name.startsWith("@flagd-ts/"),
		);
	};
	const started = new Map();
	const build = (pkg) => {
		if (!started.has(pkg.dir)) {
			const deps = siblingsOf(pkg).map((name) => {
				const dep = PACKAGES.find((p) => `@flagd-ts/${p.dir}` === name);
				if (dep === undefined)
					throw new Error(`${pkg.dir} depends on unknown sibling ${name}`);
				return build(dep);
			});
			started.set(
				pkg.dir,
				Promise.all(deps).then(() =>
					mustRun("npm", ["run", "build"], {
						cwd: join(work, "packages", pkg.dir),
						timeoutMs: budgets.buildMs[pkg.dir],
					}),
				),
			);
		}
		return started.get(pkg.dir);
	};
	await settleAll(PACKAGES.map(build));
}
