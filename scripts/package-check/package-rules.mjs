// What a publishable package must look like: rules over the packed file list, the manifest and the imports of the
// packed code, and the summary of every finding.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { BUNDLE_FILE } from "./package-list.mjs";

/** Files a packed package may carry besides dist/: npm always adds package.json, README and LICENSE. */
const ALWAYS_ALLOWED = new Set(["package.json", "README.md", "LICENSE"]);
/** protocol also ships its .proto sources: the wire contract, for users who generate code in other languages. */
const EXTRA_ALLOWED_PREFIXES = { protocol: ["proto/"] };

/** Every string target of an `exports` map (conditions and subpaths flattened). */
function exportTargets(exportsField) {
	if (typeof exportsField === "string") return [exportsField];
	if (exportsField === null || typeof exportsField !== "object") return [];
	return Object.values(exportsField).flatMap(exportTargets);
}

/** Rules on the packed file list; returns human-readable findings. */
export function checkFileList(pkg, manifest, files) {
	const findings = [];
	const extra = EXTRA_ALLOWED_PREFIXES[pkg.dir] ?? [];
	// A bin is a committed shim outside dist/ (npm links it at install time only if it exists before any build).
	const bins = new Set(
		Object.values(manifest.bin ?? {}).map((t) => t.replace(/^\.\//, "")),
	);
	for (const file of files) {
		const allowed =
			ALWAYS_ALLOWED.has(file) ||
			bins.has(file) ||
			file.startsWith("dist/") ||
			extra.some((p) => file.startsWith(p));
		if (!allowed) findings.push(`ships ${file} (outside dist/)`);
		if (
			/\.test\.|(^|\/)testdata\/|(^|\/)\.tshy|\.tsbuildinfo$|\.map$/.test(file)
		)
			findings.push(`ships ${file}`);
		if (file === `dist/${BUNDLE_FILE}`) {
			findings.push(
				`ships the single-file daemon ${file} (npm run bundle output)`,
			);
		}
	}
	for (const required of ALWAYS_ALLOWED) {
		if (!files.includes(required)) findings.push(`does not ship ${required}`);
	}
	const targets = [
		...exportTargets(manifest.exports),
		...Object.values(manifest.bin ?? {}),
		manifest.main,
		manifest.types,
		manifest.module,
	].filter((t) => typeof t === "string");
	for (const target of targets) {
		const path = target.replace(/^\.\//, "");
		if (!files.includes(path))
			findings.push(`declares ${target} but does not ship it`);
	}
	return findings;
}

/**
 * Bare specifiers imported by the packed JavaScript and declarations (a type-only import must be installed too, or a
 * consumer's type-check fails), mapped to package names. Comment lines are skipped: tsc keeps comments on lines of
 * their own, and prose like `"a" from "b:c"` would otherwise count. A `from` inside a string (the HPACK static
 * table's `["from", ""]`) is not a keyword: the lookbehind skips a quote right before it.
 */
function importedPackages(packageDir) {
	const names = new Set();
	const pattern =
		/(?:(?<!["'])\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"'./][^"']*)["']/gm;
	const walk = (dir) => {
		for (const entry of readdirSync(dir, { withFileTypes: true })) {
			const path = join(dir, entry.name);
			if (entry.isDirectory()) walk(path);
			else if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(entry.name)) {
				const code = readFileSync(path, "utf8")
					.split("\n")
					.filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
					.join("\n");
				for (const match of code.matchAll(pattern)) {
					const spec = match[1] ?? "";
					const parts = spec.split("/");
					const name = spec.startsWith("@")
						? parts.slice(0, 2).join("/")
						: (parts[0] ?? "");
					if (!spec.startsWith("node:") && !builtinModules.includes(name))
						names.add(name);
				}
			}
		}
	};
	walk(join(packageDir, "dist"));
	return [...names].sort();
}

export function dependencyReport(manifest, packageDir) {
	const declared = new Set([
		...Object.keys(manifest.dependencies ?? {}),
		...Object.keys(manifest.peerDependencies ?? {}),
		...Object.keys(manifest.optionalDependencies ?? {}),
	]);
	const imported = importedPackages(packageDir);
	const optionalPeers = new Set(
		Object.keys(manifest.peerDependenciesMeta ?? {}),
	);
	return {
		imported,
		undeclaredImports: imported.filter((name) => !declared.has(name)),
		unusedDependencies: [...declared]
			.filter((name) => !imported.includes(name) && !optionalPeers.has(name))
			.sort(),
	};
}

/** Sibling dependencies must name the exact lockstep version (C10). */
export function siblingPins(manifest, version) {
	const all = {
		...manifest.dependencies,
		...manifest.peerDependencies,
		...manifest.optionalDependencies,
	};
	return Object.entries(all)
		.filter(
			([name, range]) => name.startsWith("@flagd-ts/") && range !== version,
		)
		.map(
			([name, range]) =>
				`${name}@${range} is not pinned to the lockstep version ${version}`,
		);
}

/** Everything that makes the packages unpublishable, as one list of sentences. */
export function problemsOf(report) {
	const problems = [];
	for (const r of report.packages) {
		const at = (msg) => problems.push(`${r.name}: ${msg}`);
		for (const f of [...r.fileFindings, ...r.pinFindings]) at(f);
		if (r.buildRewrotePackageJson)
			at("the build (tshy) rewrote package.json: commit what it writes");
		for (const name of r.dependencies.undeclaredImports)
			at(`dist imports ${name}, which package.json does not declare`);
		if (r.attw.exitCode !== 0)
			at(`attw --profile ${r.attw.profile} exited ${r.attw.exitCode}`);
		for (const p of r.attw.problems)
			at(
				`attw (${r.attw.profile}): ${p.kind} ${p.entrypoint ?? ""} ${p.resolutionKind ?? ""}`,
			);
		for (const [format, result] of Object.entries(r.smoke)) {
			if (result.error !== undefined)
				at(`${format} smoke failed: ${result.error}`);
		}
	}
	for (const [variant, result] of Object.entries(report.typecheck)) {
		if (result.code !== 0) {
			problems.push(
				`a ${variant} TypeScript consumer does not compile:\n${result.output}`,
			);
		}
	}
	for (const [bin, result] of Object.entries(report.binRuns)) {
		if (result.code !== 0)
			problems.push(
				`bin ${bin} version exited ${result.code}: ${result.stderr}`,
			);
	}
	return problems;
}
