// `npm run bench [-- <name>...] [-- --smoke]`: runs every bench/*.bench.ts (or the named ones, e.g. `evaluator`)
// in its own Node process with tsx, one after the other so they do not compete for the 2 cores. Full runs write
// bench/results/latest.{json,md}; --smoke runs take seconds and write to a temporary directory instead, so the
// committed results only ever come from full runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const benchDir = path.join(root, "bench");
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const names = args.filter((a) => !a.startsWith("--"));

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

let failed = 0;
for (const name of selected) {
	process.stdout.write(`bench: ${name}${smoke ? " (smoke)" : ""}\n`);
	const run = spawnSync(
		process.execPath,
		[
			"--import",
			"tsx",
			path.join(benchDir, `${name}.bench.ts`),
			...(smoke ? ["--smoke"] : []),
			"--out",
			outDir,
		],
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
