/**
 * Every package in packages/ as a user gets it from npm: built from a clean copy of the repository (no dist/, no
 * generated code), packed with `npm pack`, checked with @arethetypeswrong/cli, installed into a consumer project with
 * `npm install --prefer-offline <tarballs>` (the npm cache is warm after the workspace's own install) and loaded there by
 * `import` and `require`. The README examples of protocol,
 * evaluator and daemon run against those packed packages, including a packed `flagd` started as a real process.
 */
import {
	existsSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
	type CheckReport,
	checkBudget,
	type PackageReport,
	repoRoot,
	runPackageCheck,
} from "./package-report.js";
import { type PackedDaemon, startPackedDaemon } from "./packed-daemon.js";
import {
	expectedOutput,
	readmeBlocks,
	relativeLinks,
	runCommand,
	runModule,
} from "./readme-examples.js";

const PACKAGE_DIRS = [
	"protocol",
	"evaluator",
	"provider-core",
	"provider",
	"web-provider",
	"daemon",
] as const;
const LIBRARIES = PACKAGE_DIRS.filter((dir) => dir !== "daemon");
/** One export per package that a user of it cannot do without: proves the entry point is the real one. */
const KEY_EXPORTS: Record<(typeof PACKAGE_DIRS)[number], string> = {
	protocol: "EvaluationServiceV1",
	evaluator: "FlagEvaluator",
	"provider-core": "Backoff",
	provider: "FlagdProvider",
	"web-provider": "FlagdWebProvider",
	daemon: "DaemonError",
};
const rootManifest = JSON.parse(
	readFileSync(join(repoRoot, "package.json"), "utf8"),
) as { license: string };

let report: CheckReport | undefined;

function pkg(dir: string): PackageReport {
	const found = report?.packages.find((p) => p.dir === dir);
	if (found === undefined)
		throw new Error(`no report for packages/${dir} (did the check run?)`);
	return found;
}

const work = mkdtempSync(join(tmpdir(), "flagd-ts-packages-"));
/**
 * Budgets derived from the work (scripts/package-check/step-budgets.mjs): every step of the check has its own, and the
 * check as a whole may take their sum; a process started here gets `slack` times its idle-machine time.
 */
const budget = checkBudget();
const scaled = (idleMs: number): number => idleMs * budget.loadSlack;

beforeAll(async () => {
	report = await runPackageCheck(work, budget.totalMs);
}, budget.totalMs + 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true, maxRetries: 3 }));

describe("npm pack contents", () => {
	it("builds and packs all six packages from a clean copy", () => {
		expect(report?.packages.map((p) => p.dir)).toEqual([...PACKAGE_DIRS]);
	});

	it.each(PACKAGE_DIRS)(
		"%s ships dist, README, LICENSE and package.json only",
		(dir) => {
			const { files, fileFindings } = pkg(dir);
			expect(fileFindings).toEqual([]);
			const outsideDist = files.filter(
				(f) =>
					!f.startsWith("dist/") &&
					!(dir === "protocol" && /^proto\/.*\.proto$/.test(f)) &&
					!(dir === "daemon" && f === "bin/flagd.js"),
			);
			expect(outsideDist.sort()).toEqual([
				"LICENSE",
				"README.md",
				"package.json",
			]);
			expect(
				files.filter((f) =>
					/\.test\.|testdata|\.tshy|\.tsbuildinfo$|\.map$|(^|\/)src\//.test(f),
				),
			).toEqual([]);
			expect(files.some((f) => f.endsWith(".d.ts"))).toBe(true);
		},
	);

	it.each(LIBRARIES)("%s ships both an ESM and a CommonJS build", (dir) => {
		const { files } = pkg(dir);
		expect(files).toEqual(
			expect.arrayContaining([
				"dist/esm/index.js",
				"dist/esm/index.d.ts",
				"dist/commonjs/index.js",
				"dist/commonjs/index.d.ts",
			]),
		);
		// tshy marks each dialect folder so Node reads .js there as ESM or CommonJS.
		expect(files).toEqual(
			expect.arrayContaining([
				"dist/esm/package.json",
				"dist/commonjs/package.json",
			]),
		);
	});

	it("protocol ships its generated code", () => {
		const generated = pkg("protocol").files.filter((f) =>
			/_pb\.(js|d\.ts)$/.test(f),
		);
		// evaluation v1, v2, sync v1 and the deprecated schema.v1; .js and .d.ts; ESM and CommonJS.
		expect(generated).toHaveLength(4 * 2 * 2);
	});

	it.each(PACKAGE_DIRS)(
		"%s ships the Apache-2.0 LICENSE of the repository",
		(dir) => {
			const shipped = readFileSync(join(pkg(dir).unpacked, "LICENSE"), "utf8");
			expect(shipped).toBe(readFileSync(join(repoRoot, "LICENSE"), "utf8"));
			expect(shipped).toContain(
				"Apache License\n                           Version 2.0, January 2004",
			);
			expect(pkg(dir).manifest.license).toBe(rootManifest.license);
		},
	);
});

describe("package.json", () => {
	it("all packages carry one lockstep version, and sibling dependencies pin it exactly", () => {
		const versions = new Set(report?.packages.map((p) => p.version));
		expect(versions.size).toBe(1);
		for (const dir of PACKAGE_DIRS) expect(pkg(dir).pinFindings).toEqual([]);
	});

	it.each(PACKAGE_DIRS)("%s has the publishing fields", (dir) => {
		const { manifest } = pkg(dir);
		expect(manifest.engines).toEqual({ node: ">=20" });
		expect(manifest.type).toBe("module");
		expect(manifest.publishConfig).toEqual({ access: "public" });
		expect(manifest.files).toContain("dist");
		expect(Array.isArray(manifest.keywords)).toBe(true);
		expect(typeof manifest.description).toBe("string");
		// One repository for every package, so npm links each to its folder, its issues and its README.
		expect(manifest.repository).toEqual({
			type: "git",
			url: "git+https://github.com/flagd-ts/flagd-ts.git",
			directory: `packages/${dir}`,
		});
		expect(manifest.bugs).toEqual({
			url: "https://github.com/flagd-ts/flagd-ts/issues",
		});
		expect(manifest.homepage).toBe(
			`https://github.com/flagd-ts/flagd-ts/tree/main/packages/${dir}#readme`,
		);
	});

	it.each(LIBRARIES)("%s has a dual exports map and no side effects", (dir) => {
		const { manifest } = pkg(dir);
		expect(manifest.sideEffects).toBe(false);
		// The provider also maps the runtimes without `node:` modules to its fetch-based build (before import/require:
		// the first matching condition wins).
		const edge = {
			types: "./dist/esm/edge/index.d.ts",
			default: "./dist/esm/edge/index.js",
		};
		const runtimes =
			dir === "provider"
				? {
						workerd: edge,
						"edge-light": edge,
						worker: edge,
						deno: edge,
						bun: edge,
					}
				: {};
		const dot = (manifest.exports as Record<string, unknown>)["."];
		expect(dot).toEqual({
			...runtimes,
			import: {
				types: "./dist/esm/index.d.ts",
				default: "./dist/esm/index.js",
			},
			require: {
				types: "./dist/commonjs/index.d.ts",
				default: "./dist/commonjs/index.js",
			},
		});
		expect(Object.keys(dot as object)).toEqual([
			...Object.keys(runtimes),
			"import",
			"require",
		]);
	});

	it("daemon is ESM only with a flagd bin", () => {
		const { manifest } = pkg("daemon");
		expect((manifest.exports as Record<string, unknown>)["."]).toEqual({
			types: "./dist/index.d.ts",
			default: "./dist/index.js",
		});
		// A committed shim, so npm links the bin at install time, before any build (`npx flagd` works after a build).
		expect(manifest.bin).toEqual({ flagd: "./bin/flagd.js" });
		// The check leaves a stand-in for `npm run bundle`'s single-file daemon in dist/; `files` keeps it out.
		expect(pkg("daemon").files).not.toContain("dist/flagd.mjs");
		expect(
			readFileSync(
				join(pkg("daemon").unpacked, "bin/flagd.js"),
				"utf8",
			).startsWith("#!/usr/bin/env node\n"),
		).toBe(true);
	});

	it.each(PACKAGE_DIRS)(
		"%s: the build leaves package.json as committed (tshy writes exports)",
		(dir) => {
			expect(pkg(dir).buildRewrotePackageJson).toBe(false);
		},
	);

	it.each(PACKAGE_DIRS)("%s declares every package its dist imports", (dir) => {
		expect(pkg(dir).dependencies.undeclaredImports).toEqual([]);
	});

	it("provider-core takes @openfeature/core from the SDK as a peer; web-provider depends on connect-web at connect's version", () => {
		const core = pkg("provider-core").manifest;
		expect(core.dependencies?.["@openfeature/core"]).toBeUndefined();
		expect(core.peerDependencies?.["@openfeature/core"]).toBe("^1.12.0");
		const web = pkg("web-provider").manifest;
		// connect-web pins @connectrpc/connect exactly, so it must be the version we depend on.
		expect(web.dependencies?.["@connectrpc/connect-web"]).toBe(
			web.dependencies?.["@connectrpc/connect"],
		);
		expect(web.peerDependencies?.["@connectrpc/connect-web"]).toBeUndefined();
	});
});

describe("types resolve (@arethetypeswrong/cli)", () => {
	it.each(LIBRARIES)(
		"%s: node16 (ESM and CJS) and bundler resolution find types, no problems",
		(dir) => {
			const { attw, subpaths } = pkg(dir);
			expect(attw.profile).toBe("node16");
			expect(attw.problems).toEqual([]);
			expect(attw.exitCode).toBe(0);
			for (const entry of [".", ...subpaths.map((s) => `./${s}`)]) {
				const file = entry === "." ? "index" : entry.slice(2);
				const resolved = attw.resolutions[entry];
				expect(resolved?.["node16-esm"]).toMatch(
					new RegExp(`/dist/esm/${file}\\.d\\.ts$`),
				);
				expect(resolved?.["node16-cjs"]).toMatch(
					new RegExp(`/dist/commonjs/${file}\\.d\\.ts$`),
				);
				expect(resolved?.bundler).toMatch(
					new RegExp(`/dist/esm/${file}\\.d\\.ts$`),
				);
			}
		},
	);

	// The daemon is ESM only (C36): under node16-cjs a `require` of it is expected to meet ESM, which attw reports;
	// the esm-only profile ignores exactly that, and still checks node16-esm and bundler.
	it("daemon: esm-only profile, node16-esm and bundler find types", () => {
		const { attw } = pkg("daemon");
		expect(attw.profile).toBe("esm-only");
		expect(attw.problems).toEqual([]);
		expect(attw.exitCode).toBe(0);
		expect(attw.resolutions["."]?.["node16-esm"]).toMatch(
			/\/dist\/index\.d\.ts$/,
		);
		expect(attw.resolutions["."]?.bundler).toMatch(/\/dist\/index\.d\.ts$/);
	});
});

describe("types compile in a strict TypeScript consumer", () => {
	it("node16 resolution: an ESM (.mts) and a CommonJS (.cts) file importing every entry point compile", () => {
		expect(report?.typecheck.node16.files).toEqual(["esm.mts", "cjs.cts"]);
		expect(report?.typecheck.node16.output).toBe("");
		expect(report?.typecheck.node16.code).toBe(0);
	});

	it("bundler resolution: a file importing every entry point compiles", () => {
		expect(report?.typecheck.bundler.output).toBe("");
		expect(report?.typecheck.bundler.code).toBe(0);
	});
});

describe("smoke: import and require the packed packages", () => {
	it.each(LIBRARIES)(
		"%s loads with import and with require, from its packed dist",
		(dir) => {
			const { smoke, name, subpaths } = pkg(dir);
			const consumerCopy = join(
				report?.consumer ?? "",
				"node_modules/@flagd-ts",
				dir,
			);
			for (const spec of [name, ...subpaths.map((s) => `${name}/${s}`)]) {
				const esm = smoke.esm[spec];
				const cjs = smoke.cjs?.[spec];
				expect(esm?.resolved?.startsWith(join(consumerCopy, "dist/esm/"))).toBe(
					true,
				);
				expect(
					cjs?.resolved?.startsWith(join(consumerCopy, "dist/commonjs/")),
				).toBe(true);
				expect(esm?.exports?.length).toBeGreaterThan(0);
				expect(cjs?.exports).toEqual(esm?.exports);
			}
			expect(smoke.esm[name]?.exports).toContain(KEY_EXPORTS[dir]);
		},
	);

	it("daemon loads with import from its packed dist", () => {
		const { smoke, name } = pkg("daemon");
		const consumerCopy = join(
			report?.consumer ?? "",
			"node_modules/@flagd-ts/daemon",
		);
		expect(smoke.esm[name]?.resolved).toBe(join(consumerCopy, "dist/index.js"));
		expect(smoke.esm[name]?.exports).toContain(KEY_EXPORTS.daemon);
	});

	it("the consumer project installed the tarballs with npm, offline", () => {
		expect(report?.consumerMode).toBe("npm-install");
	});

	it("`npm run pack:all` is the packing the check installs from (scripts/pack-all.mjs)", () => {
		const root = JSON.parse(
			readFileSync(join(repoRoot, "package.json"), "utf8"),
		) as { scripts: Record<string, string> };
		expect(root.scripts["pack:all"]).toBe("node scripts/pack-all.mjs");
		expect(
			readFileSync(join(repoRoot, "scripts/check-packages.mjs"), "utf8"),
		).toContain("await packWorkspaces(repo, tarballs, budgets.packMs)");
	});

	it("`node node_modules/.bin/flagd version` runs the packed daemon", () => {
		const run = report?.binRuns.flagd;
		expect(run?.code).toBe(0);
		expect(run?.stdout).toContain(
			`(@flagd-ts/daemon) ${pkg("daemon").version}`,
		);
	});

	it("the check script found no problem at all", () => {
		expect(report?.problems).toEqual([]);
	});
});

describe("READMEs", () => {
	it.each(PACKAGE_DIRS)("%s: README links to docs that exist", (dir) => {
		const readme = join(repoRoot, "packages", dir, "README.md");
		for (const link of relativeLinks(readme)) {
			expect({
				link,
				exists: existsSync(resolve(dirname(readme), link)),
			}).toEqual({ link, exists: true });
		}
	});

	it.each(["protocol", "evaluator", "daemon"])(
		"%s: README has install, example and docs sections",
		(dir) => {
			const text = readFileSync(
				join(repoRoot, "packages", dir, "README.md"),
				"utf8",
			);
			expect(text).toMatch(/^## Install$/m);
			expect(text).toContain(`npm install`);
			expect(text).toMatch(/^## Documentation$/m);
		},
	);

	it(
		"evaluator: the README example prints what it says, from the packed package",
		async () => {
			const [example] = readmeBlocks(
				join(repoRoot, "packages/evaluator/README.md"),
			).filter((b) => b.language === "js");
			expect(example).toBeDefined();
			const run = await runModule(
				report?.consumer ?? "",
				"evaluator-readme",
				example?.code ?? "",
				scaled(2_000),
			);
			expect(run.stderr).toBe("");
			expect(run.stdout.trim().split("\n")).toEqual(
				expectedOutput(example?.code ?? ""),
			);
		},
		scaled(2_000) + 10_000,
	);

	it(
		"protocol: the encoding example prints what it says, from the packed package",
		async () => {
			const examples = readmeBlocks(
				join(repoRoot, "packages/protocol/README.md"),
			).filter((b) => b.language === "js");
			const encode = examples.find((b) => b.code.includes("toBinary"));
			const run = await runModule(
				report?.consumer ?? "",
				"protocol-encode",
				encode?.code ?? "",
				scaled(2_000),
			);
			expect(run.stderr).toBe("");
			expect(run.stdout.trim().split("\n")).toEqual(
				expectedOutput(encode?.code ?? ""),
			);
		},
		scaled(2_000) + 10_000,
	);

	describe("daemon quick start, with the packed flagd", () => {
		let daemon: PackedDaemon | undefined;
		const blocks = readmeBlocks(join(repoRoot, "packages/daemon/README.md"));

		beforeAll(async () => {
			const consumer = report?.consumer ?? "";
			const flags = blocks.find((b) => b.language === "json");
			writeFileSync(join(consumer, "flags.json"), flags?.code ?? "");
			const start = blocks
				.flatMap((b) => b.code.split("\n"))
				.find((line) => line.startsWith("flagd start "));
			expect(start).toBeDefined();
			// The README's own arguments, then free loopback ports instead of 8013-8016.
			daemon = await startPackedDaemon(
				consumer,
				(start ?? "").split(/\s+/).slice(1),
				scaled(3_000),
			);
		}, scaled(3_000) + 10_000);

		afterAll(async () => {
			const code = await daemon?.stop();
			expect(code).toBe(0);
		});

		it("runs without the cloud and Kubernetes SDKs, which are optional peers npm does not install", () => {
			const { manifest } = pkg("daemon");
			expect(manifest.optionalDependencies).toBeUndefined();
			const optional = Object.keys(
				(manifest.peerDependenciesMeta ?? {}) as Record<string, unknown>,
			);
			expect(optional.sort()).toEqual([
				"@aws-sdk/client-s3",
				"@azure/storage-blob",
				"@google-cloud/storage",
				"@kubernetes/client-node",
			]);
			expect(optional.length).toBeGreaterThan(0);
			const installed = optional.filter((name) =>
				existsSync(join(report?.consumer ?? "", "node_modules", name)),
			);
			expect(installed).toEqual([]);
			expect(daemon?.evaluation).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		});

		it(
			"the README's curl answers what the README says",
			async () => {
				const curl = blocks.find(
					(b) => b.language === "sh" && b.code.startsWith("curl "),
				);
				const command = (curl?.code ?? "").replaceAll(
					"http://localhost:8013",
					daemon?.evaluation ?? "",
				);
				const [script, said] = command.split("\n# ");
				const run = await runCommand(
					"sh",
					["-c", script ?? ""],
					report?.consumer ?? "",
					scaled(1_000),
				);
				expect(run.code).toBe(0);
				expect(JSON.parse(run.stdout)).toEqual(JSON.parse(said ?? ""));
			},
			scaled(1_000) + 10_000,
		);

		it(
			"protocol: the gRPC client example evaluates the flag on the packed daemon",
			async () => {
				const examples = readmeBlocks(
					join(repoRoot, "packages/protocol/README.md"),
				).filter((b) => b.language === "js");
				const client = examples.find((b) =>
					b.code.includes("createGrpcTransport"),
				);
				const code = (client?.code ?? "").replaceAll(
					"http://localhost:8013",
					daemon?.evaluation ?? "",
				);
				const run = await runModule(
					report?.consumer ?? "",
					"protocol-client",
					code,
					scaled(2_000),
				);
				expect(run.stderr).toBe("");
				expect(run.stdout.trim().split("\n")).toEqual(expectedOutput(code));
			},
			scaled(2_000) + 10_000,
		);
	});
});
