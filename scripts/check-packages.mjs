#!/usr/bin/env node
// Checks that every package in packages/ is publishable: builds a copy of the repository from scratch (generate +
// `npm run build`, so a stale dist/ or src/gen in the checkout cannot hide a broken build), packs each package with
// `npm pack`, runs @arethetypeswrong/cli on each tarball, and loads each packed package from a consumer project with
// both `import` and `require` (and runs the packed daemon's `flagd` bin).
//
// The consumer project installs the tarballs with `npm install --prefer-offline` (plus the peer dependencies they declare,
// at the workspace's versions, optional dependencies omitted): everything is in the npm cache after the workspace's own
// `npm install`, it takes ~7 s here and runs while attw does. Where the cache is cold, `--link-deps` builds the consumer's node_modules from
// links to the workspace's third-party packages plus the unpacked tarballs instead; that variant cannot prove that
// each package declares what it imports, which is why the packed dist is also scanned for bare imports
// (`undeclaredImports`) in both modes.
//
// Usage: node scripts/check-packages.mjs [--json <report.json>] [--keep | --work <empty dir>] [--root-build]
//                                        [--link-deps]
//   --root-build  build with the root `npm run build` (one package after another) instead of the same package
//                 scripts started as soon as their sibling dependencies are built (the default: faster on 2 cores)
//   --link-deps   link the consumer's dependencies instead of `npm install --prefer-offline` (no registry reachable)
//   --budget      print the time budget of every step and their sum as JSON, and exit (package-check/step-budgets.mjs)
// Exit code 0 when no problem was found, 1 when problems were found (the report lists them), 2 when the check could
// not run to the end (e.g. a package does not build). The report lists every finding, and the Jest test in test/packaging reads it.
// The rules live in package-check/package-rules.mjs, the consumer project in package-check/consumer-project.mjs.
import {
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { packWorkspaces } from "./pack-all.mjs";
import { attw } from "./package-check/attw.mjs";
import {
	CJS_SMOKE,
	ESM_SMOKE,
	installConsumer,
	linkConsumer,
	smoke,
	typecheckConsumer,
} from "./package-check/consumer-project.mjs";
import {
	BUNDLE_FILE,
	PACKAGES,
	repoRoot,
} from "./package-check/package-list.mjs";
import {
	checkFileList,
	dependencyReport,
	problemsOf,
	siblingPins,
} from "./package-check/package-rules.mjs";
import { mustRun, run, settleAll } from "./package-check/run-command.mjs";
import { stepBudgets } from "./package-check/step-budgets.mjs";
import { buildAll, copyWorkspace } from "./package-check/workspace-build.mjs";

/** Builds, packs and checks every package; returns the report. `work` is the scratch directory. */
export async function checkPackages(
	work,
	{ rootBuild = false, linkDeps = false } = {},
) {
	const timings = {};
	const budgets = stepBudgets().steps;
	let started = Date.now();
	const repo = join(work, "repo");
	mkdirSync(repo);
	copyWorkspace(repo);
	if (rootBuild) {
		const buildMs = Object.values(budgets.buildMs).reduce((a, b) => a + b);
		await mustRun("npm", ["run", "build"], {
			cwd: repo,
			timeoutMs: budgets.generateMs + buildMs,
		});
	} else await buildAll(repo, budgets);
	timings.buildMs = Date.now() - started;
	// `npm run bundle` leaves the single-file daemon in dist/; the published package must not carry that copy.
	writeFileSync(
		join(repo, "packages/daemon/dist", BUNDLE_FILE),
		"// stand-in for the output of npm run bundle\n",
	);

	started = Date.now();
	// The same packing as `npm run pack:all`, whose tarballs users install together.
	const tarballs = join(work, "tarballs");
	const packed = await packWorkspaces(repo, tarballs, budgets.packMs);
	timings.packMs = Date.now() - started;

	// The consumer lives beside the copy, not inside it, so npm cannot take it for part of that workspace.
	const consumer = join(work, "consumer");
	mkdirSync(consumer);
	writeFileSync(
		join(consumer, "package.json"),
		'{ "name": "consumer", "private": true }\n',
	);
	const manifests = PACKAGES.map((pkg) =>
		JSON.parse(
			readFileSync(join(repoRoot, "packages", pkg.dir, "package.json"), "utf8"),
		),
	);
	const tarballOf = (name) => {
		const pack = packed.find((p) => p.name === name);
		if (pack === undefined)
			throw new Error(`npm pack produced nothing for ${name}`);
		return { pack, path: join(tarballs, pack.filename) };
	};
	started = Date.now();
	const installing = linkDeps
		? Promise.resolve()
		: installConsumer(
				consumer,
				manifests.map((m) => tarballOf(m.name).path),
				manifests,
				budgets.installMs,
			).then(() => {
				timings.installMs = Date.now() - started;
			});

	const checkOne = async (pkg, index) => {
		const source = manifests[index];
		const { pack, path: tarball } = tarballOf(source.name);
		const unpacked = join(work, "unpacked", pkg.dir);
		mkdirSync(unpacked, { recursive: true });
		const untar = ["-xzf", tarball, "-C", unpacked, "--strip-components=1"];
		await mustRun("tar", untar, { cwd: work, timeoutMs: budgets.packMs });
		const manifest = JSON.parse(
			readFileSync(join(unpacked, "package.json"), "utf8"),
		);
		const built = JSON.parse(
			readFileSync(join(repo, "packages", pkg.dir, "package.json"), "utf8"),
		);
		const files = pack.files.map((f) => f.path).sort();
		return {
			...pkg,
			name: source.name,
			version: source.version,
			manifest,
			// tshy rewrites exports/main/types/module on every build; the checked-in ones must already be what it writes.
			buildRewrotePackageJson: JSON.stringify(built) !== JSON.stringify(source),
			files,
			tarballBytes: pack.size,
			unpackedBytes: pack.unpackedSize,
			fileFindings: checkFileList(pkg, manifest, files),
			pinFindings: siblingPins(manifest, source.version),
			dependencies: dependencyReport(manifest, unpacked),
			attw: await attw(tarball, pkg, budgets.attwMs[pkg.dir]),
			unpacked,
		};
	};
	const [reports] = await settleAll([
		settleAll(PACKAGES.map(checkOne)),
		installing,
	]);
	timings.attwMs = Date.now() - started;
	if (linkDeps) linkConsumer(work, consumer, reports);

	started = Date.now();
	writeFileSync(join(consumer, "esm-smoke.mjs"), ESM_SMOKE);
	writeFileSync(join(consumer, "cjs-smoke.cjs"), CJS_SMOKE);
	for (const report of reports) {
		const specs = [
			report.name,
			...report.subpaths.map((s) => `${report.name}/${s}`),
		];
		const smokeWith = (file) => smoke(consumer, specs, file, budgets.smokeMs);
		report.smoke = { esm: await smokeWith("esm-smoke.mjs") };
		if (report.kind === "library")
			report.smoke.cjs = await smokeWith("cjs-smoke.cjs");
	}
	const binRuns = {};
	for (const report of reports) {
		for (const bin of Object.keys(report.manifest.bin ?? {})) {
			binRuns[bin] = await run(
				process.execPath,
				[join("node_modules/.bin", bin), "version"],
				{ cwd: consumer, timeoutMs: budgets.binMs },
			);
		}
	}
	timings.smokeMs = Date.now() - started;
	started = Date.now();
	const typecheck = await typecheckConsumer(
		consumer,
		reports,
		budgets.typecheckMs,
	);
	timings.typecheckMs = Date.now() - started;
	const consumerMode = linkDeps ? "linked" : "npm-install";
	return {
		work,
		consumer,
		consumerMode,
		timings,
		packages: reports,
		binRuns,
		typecheck,
	};
}

async function main() {
	const args = process.argv.slice(2);
	if (args.includes("--budget")) {
		process.stdout.write(`${JSON.stringify(stepBudgets())}\n`);
		return;
	}
	const jsonAt = args.indexOf("--json");
	const workAt = args.indexOf("--work");
	// --work: an empty directory the caller made (and removes); the Jest test uses it so nothing is left behind even
	// when the check fails.
	const given = workAt >= 0 ? args[workAt + 1] : undefined;
	const work = given ?? mkdtempSync(join(tmpdir(), "flagd-ts-packages-"));
	try {
		const report = await checkPackages(work, {
			linkDeps: args.includes("--link-deps"),
			rootBuild: args.includes("--root-build"),
		});
		report.problems = problemsOf(report);
		if (jsonAt >= 0 && args[jsonAt + 1] !== undefined) {
			writeFileSync(args[jsonAt + 1], `${JSON.stringify(report, null, 2)}\n`);
		}
		for (const r of report.packages) {
			const unused = r.dependencies.unusedDependencies;
			console.log(
				`${r.name}: ${r.files.length} files, ${r.tarballBytes} B packed, attw ${r.attw.profile} ${r.attw.problems.length} problem(s)${
					unused.length > 0
						? `, declared but not imported: ${unused.join(", ")}`
						: ""
				}`,
			);
		}
		console.log(`timings: ${JSON.stringify(report.timings)}`);
		for (const p of report.problems) console.error(`PROBLEM ${p}`);
		process.exitCode = report.problems.length > 0 ? 1 : 0;
	} finally {
		if (args.includes("--keep") || given !== undefined)
			console.log(`kept ${work}`);
		else {
			try {
				rmSync(work, { recursive: true, force: true, maxRetries: 3 });
			} catch (error) {
				// Reported, not thrown: an error from the check itself must not be replaced by this one.
				console.error(`could not remove ${work}: ${error}`);
			}
		}
	}
}

if (
	process.argv[1] !== undefined &&
	resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
	try {
		await main();
	} catch (error) {
		// Exit code 2, not 1: 1 means "checked, and found problems" (the report exists); 2 means the check itself
		// could not finish (a package does not build, npm pack failed, ...).
		console.error(error);
		process.exitCode = 2;
	}
}
