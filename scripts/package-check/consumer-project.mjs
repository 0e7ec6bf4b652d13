// The consumer project of the package check: installs (or links) the packed packages, loads them with import and
// require, runs their bins and type-checks a TypeScript user of every entry point.
import {
	cpSync,
	existsSync,
	mkdirSync,
	readFileSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./package-list.mjs";
import { mustRun, run } from "./run-command.mjs";
import { linkNodeModules } from "./workspace-build.mjs";

export const ESM_SMOKE = `
const out = {};
for (const spec of JSON.parse(process.argv[2])) {
	const m = await import(spec);
	out[spec] = { resolved: new URL(import.meta.resolve(spec)).pathname, exports: Object.keys(m).sort() };
}
process.stdout.write(JSON.stringify(out));
`;
export const CJS_SMOKE = `
const out = {};
for (const spec of JSON.parse(process.argv[2])) {
	const m = require(spec);
	out[spec] = { resolved: require.resolve(spec), exports: Object.keys(m).filter((k) => k !== "__esModule").sort() };
}
process.stdout.write(JSON.stringify(out));
`;

export async function smoke(consumer, specs, file, timeoutMs) {
	const { stdout, stderr, code } = await run(
		process.execPath,
		[file, JSON.stringify(specs)],
		{ cwd: consumer, timeoutMs },
	);
	if (code !== 0) return { error: `${file} exited ${code}: ${stderr}` };
	return JSON.parse(stdout);
}

/**
 * Type-checks a TypeScript consumer of every entry point, as a user's project would: strict, with
 * `exactOptionalPropertyTypes` and `skipLibCheck: false`, so our .d.ts files must be valid under the strictest
 * settings, and every import must resolve. node16: an .mts file (ESM) and a .cts file (CommonJS, libraries only);
 * bundler: one .ts file. @types/node comes from the workspace (a Node consumer installs it anyway).
 */
export async function typecheckConsumer(consumer, reports, timeoutMs) {
	const compilerOptions = {
		target: "ES2022",
		lib: ["ES2022", "DOM"],
		strict: true,
		exactOptionalPropertyTypes: true,
		noUncheckedIndexedAccess: true,
		skipLibCheck: false,
		noEmit: true,
		types: ["node"],
		typeRoots: [join(repoRoot, "node_modules/@types")],
	};
	const variants = {
		node16: {
			module: "node16",
			moduleResolution: "node16",
			files: ["esm.mts", "cjs.cts"],
		},
		bundler: {
			module: "esnext",
			moduleResolution: "bundler",
			files: ["esm.ts"],
		},
	};
	const esm = [];
	const cjs = [];
	for (const [i, report] of reports.entries()) {
		for (const [j, spec] of [
			report.name,
			...report.subpaths.map((s) => `${report.name}/${s}`),
		].entries()) {
			esm.push(
				`import * as m${i}_${j} from "${spec}";\nexport const k${i}_${j} = Object.keys(m${i}_${j});`,
			);
			if (report.kind === "library") {
				cjs.push(
					`import m${i}_${j} = require("${spec}");\nexport const k${i}_${j} = Object.keys(m${i}_${j});`,
				);
			}
		}
	}
	const results = {};
	await Promise.all(
		Object.entries(variants).map(async ([name, { files, ...options }]) => {
			const dir = join(consumer, `types-${name}`);
			mkdirSync(dir);
			for (const file of files) {
				writeFileSync(
					join(dir, file),
					`${(file.startsWith("cjs") ? cjs : esm).join("\n")}\n`,
				);
			}
			const tsconfig = {
				compilerOptions: { ...compilerOptions, ...options },
				files,
			};
			writeFileSync(
				join(dir, "tsconfig.json"),
				JSON.stringify(tsconfig, null, 2),
			);
			const tsc = join(repoRoot, "node_modules/.bin/tsc");
			const { code, stdout, stderr } = await run(tsc, ["-p", dir], {
				cwd: dir,
				timeoutMs,
			});
			results[name] = { code, output: `${stdout}${stderr}`, files };
		}),
	);
	return results;
}

/**
 * The consumer project: `npm install --prefer-offline` of the tarballs plus the peer dependencies they declare (at the
 * versions the workspace has installed, so all of it is in the npm cache). This is what a user gets, with npm's own
 * bin links and dependency resolution; `--link-deps` replaces it with the linked variant (see the top of this file)
 * where the registry cannot be reached. `--omit=optional` leaves out the daemon's Kubernetes and
 * cloud SDKs (7 s instead of 20-50 s here): nothing in the check loads them, and the packed daemon then also proves
 * it starts without them, as its README promises.
 */
export async function installConsumer(
	consumer,
	tarballPaths,
	manifests,
	timeoutMs,
) {
	const peers = new Set();
	for (const manifest of manifests) {
		const optional = manifest.peerDependenciesMeta ?? {};
		for (const name of Object.keys(manifest.peerDependencies ?? {})) {
			if (optional[name]?.optional !== true) peers.add(name);
		}
	}
	// The version the workspace has installed is in the npm cache, which `--prefer-offline` uses.
	const peerSpecs = [...peers].sort().map((name) => {
		const installed = join(repoRoot, "node_modules", name, "package.json");
		if (!existsSync(installed)) {
			throw new Error(
				`peer dependency ${name} is not installed in the workspace`,
			);
		}
		return `${name}@${JSON.parse(readFileSync(installed, "utf8")).version}`;
	});
	const args = [
		"install",
		"--prefer-offline",
		"--no-audit",
		"--no-fund",
		"--ignore-scripts",
		"--omit=optional",
	];
	await mustRun("npm", [...args, ...tarballPaths, ...peerSpecs], {
		cwd: consumer,
		timeoutMs,
	});
}

export function linkConsumer(work, consumer, reports) {
	linkNodeModules(
		consumer,
		(pkg, target) =>
			cpSync(join(work, "unpacked", pkg.dir), target, { recursive: true }),
		false,
	);
	// What npm does for a `bin` entry on install; .bin holds only the packed package's bins, so nothing from the
	// workspace install can answer instead.
	mkdirSync(join(consumer, "node_modules/.bin"));
	for (const report of reports) {
		for (const [bin, target] of Object.entries(report.manifest.bin ?? {})) {
			const from = join("..", "@flagd-ts", report.dir, target);
			symlinkSync(from, join(consumer, "node_modules/.bin", bin));
		}
	}
}
