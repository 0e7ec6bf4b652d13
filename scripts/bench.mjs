// `npm run bench [-- <name>...] [-- --smoke] [-- --<flag the benchmark reads>]`: runs every bench/*.bench.ts (or the named ones, e.g. `evaluator`)
// in its own Node process, one after the other so they do not compete for the 2 cores. Full runs write
// bench/results/latest.{json,md}; --smoke runs take seconds and write to a temporary directory instead, so the
// committed results only ever come from full runs.
//
// Each bench is first compiled with esbuild: our workspace packages from their TypeScript sources (through the
// tsconfig paths), every npm dependency left external and loaded from node_modules as users load it. So our code
// runs as plain compiled JavaScript, as it does for users (tshy/tsc output), and the peers run from their
// published builds. Under tsx our code would carry esbuild's keepNames helper (a defineProperty per closure
// created, i.e. several per evaluation) and the loader, a cost the peers' prebuilt JavaScript does not pay.
// `--tsx` runs the sources under tsx instead (real file paths in profiles).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const benchDir = path.join(root, "bench");
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const useTsx = args.includes("--tsx");
const names = args.filter((a) => !a.startsWith("--"));
// Flags a benchmark reads itself (`--profile`, `--gc-tally`, …) are handed on to each one.
const passOn = args.filter(
	(a) => a.startsWith("--") && a !== "--tsx" && a !== "--smoke",
);

const available = readdirSync(benchDir)
	.filter((f) => f.endsWith(".bench.ts"))
	.map((f) => f.slice(0, -".bench.ts".length))
	.sort();
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length > 0) {
	process.stderr.write(
		`bench: unknown benchmark(s) ${unknown.join(", ")}; available: ${available.join(", ")}\n`,
	);
	process.exit(2);
}
const selected = names.length > 0 ? names : available;
const outDir = smoke
	? mkdtempSync(path.join(os.tmpdir(), "flagd-ts-bench-"))
	: path.join(benchDir, "results");

// Inside the repo, so the external npm dependencies resolve from its node_modules.
const bundleDir = path.join(root, "node_modules", ".cache", "flagd-ts-bench");

/** Dependencies stay external; only @flagd-ts/* (our sources) and relative imports are compiled in. */
const externalDependencies = {
	name: "external-dependencies",
	setup(b) {
		b.onResolve({ filter: /^[^./]/ }, (a) =>
			a.path.startsWith("@flagd-ts/")
				? undefined
				: { path: a.path, external: true },
		);
	},
};

async function compile(name) {
	const { build } = await import("esbuild");
	mkdirSync(bundleDir, { recursive: true });
	const outfile = path.join(bundleDir, `${name}.bench.mjs`);
	await build({
		entryPoints: [path.join(benchDir, `${name}.bench.ts`)],
		outfile,
		bundle: true,
		platform: "node",
		target: "node20",
		format: "esm",
		tsconfig: path.join(root, "tsconfig.json"),
		plugins: [externalDependencies],
		logLevel: "warning",
	});
	return outfile;
}

let failed = 0;
for (const name of selected) {
	process.stdout.write(
		`bench: ${name}${smoke ? " (smoke)" : ""}${useTsx ? " (tsx)" : ""}\n`,
	);
	const entry = useTsx
		? ["--import", "tsx", path.join(benchDir, `${name}.bench.ts`)]
		: [await compile(name)];
	const run = spawnSync(
		process.execPath,
		[...entry, ...(smoke ? ["--smoke"] : []), ...passOn, "--out", outDir],
		{ cwd: root, stdio: "inherit" },
	);
	if (run.status !== 0) {
		failed++;
		process.stderr.write(
			`bench: ${name} failed (exit ${run.status ?? run.signal})\n`,
		);
	}
}
process.exit(failed === 0 ? 0 : 1);
