// How long each step of the package check may take: a timeout per child process, derived from the work that step
// does (bytes of TypeScript to compile, packages to analyse, entry points to load), never one wall-clock limit over
// everything. The costs are generous quiet-machine figures (the whole check takes ~45 s on an idle 2-core machine);
// LOAD_SLACK covers a machine whose cores are shared many times over (CI, `npm run test:stress`). A step that runs
// past its budget is reported by name with its budget, so a hang is told apart from a slow machine.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { PACKAGES, repoRoot } from "./package-list.mjs";

/**
 * How many times slower than idle a step may run before it counts as hung. Measured: with load average 24 on 2
 * cores, protocol's build ran past 12 times its idle cost; a hang still fails at its own step, within minutes.
 */
export const LOAD_SLACK = 30;

const COST = {
	generateMs: 5_000,
	/** One `npm run build` of a package: start-up plus compile time per kB of source, per output dialect. */
	buildFixedMs: 4_000,
	buildPerKbMs: 40,
	/** `npm pack --workspaces` of all packages. */
	packMs: 4_000,
	/** `npm install --prefer-offline` of the tarballs into the consumer (~7 s idle). */
	installMs: 15_000,
	/** attw over one tarball. */
	attwMs: 5_000,
	/** One node process loading a package's entry points with import or require. */
	smokeMs: 2_000,
	/** One run of a packed bin (`flagd version`). */
	binMs: 2_000,
	/** tsc over the consumer: fixed part plus per entry point. */
	typecheckFixedMs: 5_000,
	typecheckPerEntryMs: 1_000,
};

function sourceBytes(dir) {
	let total = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) {
			if (entry.name !== "testdata" && entry.name !== "gen")
				total += sourceBytes(path);
		} else if (entry.name.endsWith(".ts") && !entry.name.includes(".test."))
			total += statSync(path).size;
	}
	return total;
}

const budget = (quietMs) => Math.round(quietMs * LOAD_SLACK);

/** The budget (ms) of every step, and their sum: the most the whole check may take when nothing overlaps. */
export function stepBudgets(root = repoRoot) {
	const build = {};
	const attw = {};
	let entryPoints = 0;
	for (const pkg of PACKAGES) {
		const kb = sourceBytes(join(root, "packages", pkg.dir, "src")) / 1024;
		// Protocol's generated code is not in the checkout; it is about the size of its hand-written sources.
		const dialects = pkg.kind === "library" ? 2 : 1;
		const generated = pkg.dir === "protocol" ? 2 : 1;
		build[pkg.dir] = budget(
			COST.buildFixedMs + kb * generated * dialects * COST.buildPerKbMs,
		);
		attw[pkg.dir] = budget(COST.attwMs);
		entryPoints += 1 + pkg.subpaths.length;
	}
	const manifest = JSON.parse(
		readFileSync(join(root, "packages/daemon/package.json"), "utf8"),
	);
	const steps = {
		generateMs: budget(COST.generateMs),
		buildMs: build,
		packMs: budget(COST.packMs),
		installMs: budget(COST.installMs),
		attwMs: attw,
		smokeMs: budget(COST.smokeMs),
		binMs: budget(COST.binMs),
		typecheckMs: budget(
			COST.typecheckFixedMs + entryPoints * COST.typecheckPerEntryMs,
		),
	};
	const smokeRuns = PACKAGES.reduce(
		(n, pkg) => n + (pkg.kind === "library" ? 2 : 1),
		0,
	);
	const binRuns = Object.keys(manifest.bin ?? {}).length;
	const sum = (record) => Object.values(record).reduce((a, b) => a + b, 0);
	const totalMs =
		steps.generateMs +
		sum(steps.buildMs) +
		steps.packMs +
		steps.installMs +
		sum(steps.attwMs) +
		smokeRuns * steps.smokeMs +
		binRuns * steps.binMs +
		steps.typecheckMs;
	return { loadSlack: LOAD_SLACK, steps, totalMs };
}
