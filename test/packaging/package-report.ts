/**
 * Runs scripts/check-packages.mjs (clean build of every package in a scratch copy, `npm pack`, attw, import/require
 * smoke from a consumer project) as a child process and returns its JSON report. A child process rather than an
 * import: the script is plain ESM with top-level await, which CommonJS Jest cannot load.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const repoRoot = resolve(__dirname, "../..");

export interface SmokeEntry {
	readonly resolved?: string;
	readonly exports?: readonly string[];
}

export interface AttwProblem {
	readonly kind: string;
	readonly entrypoint?: string;
	readonly resolutionKind?: string;
}

export interface PackageReport {
	readonly dir: string;
	readonly kind: "library" | "esm-cli";
	readonly subpaths: readonly string[];
	readonly name: string;
	readonly version: string;
	readonly manifest: Record<string, unknown> & {
		readonly exports?: unknown;
		readonly bin?: Record<string, string>;
		readonly files?: readonly string[];
		readonly engines?: Record<string, string>;
		readonly dependencies?: Record<string, string>;
		readonly peerDependencies?: Record<string, string>;
		readonly optionalDependencies?: Record<string, string>;
	};
	readonly buildRewrotePackageJson: boolean;
	readonly files: readonly string[];
	readonly tarballBytes: number;
	readonly unpackedBytes: number;
	readonly fileFindings: readonly string[];
	readonly pinFindings: readonly string[];
	readonly dependencies: {
		readonly imported: readonly string[];
		readonly undeclaredImports: readonly string[];
		readonly unusedDependencies: readonly string[];
	};
	readonly attw: {
		readonly profile: string;
		readonly exitCode: number;
		readonly problems: readonly AttwProblem[];
		readonly resolutions: Record<string, Record<string, string | null>>;
	};
	readonly unpacked: string;
	readonly smoke: {
		readonly esm: Record<string, SmokeEntry> & { readonly error?: string };
		readonly cjs?: Record<string, SmokeEntry> & { readonly error?: string };
	};
}

export interface CheckReport {
	readonly work: string;
	readonly consumer: string;
	/** "npm-install": the consumer installed the tarballs with `npm install --prefer-offline` (the default). */
	readonly consumerMode: "npm-install" | "linked";
	readonly timings: Record<string, number>;
	readonly packages: readonly PackageReport[];
	readonly binRuns: Record<
		string,
		{ code: number; stdout: string; stderr: string }
	>;
	/** tsc over a consumer importing every entry point: node16 (.mts + .cts) and bundler resolution. */
	readonly typecheck: Record<
		"node16" | "bundler",
		{ code: number; output: string; files: readonly string[] }
	>;
	readonly problems: readonly string[];
}

export interface CheckBudget {
	/** How many times its idle-machine time a step may take. */
	readonly loadSlack: number;
	/** The sum of every step's budget: the most the check may take. */
	readonly totalMs: number;
}

/** The check's own budgets (`check-packages.mjs --budget`), derived from the work each step does. */
export function checkBudget(): CheckBudget {
	return JSON.parse(
		execFileSync(process.execPath, ["scripts/check-packages.mjs", "--budget"], {
			cwd: repoRoot,
			encoding: "utf8",
		}),
	) as CheckBudget;
}

/**
 * Runs the check in `work` (an empty directory the caller owns and removes, also when the check fails) and returns
 * the report.
 */
export async function runPackageCheck(
	work: string,
	timeoutMs: number,
): Promise<CheckReport> {
	const reportFile = join(work, "report.json");
	await new Promise<void>((resolvePromise, reject) => {
		execFile(
			process.execPath,
			["scripts/check-packages.mjs", "--json", reportFile, "--work", work],
			{ cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
			(error, stdout, stderr) => {
				// Each step has its own budget inside the script; `timeoutMs` (their sum) only guards the script itself.
				// Exit code 1 means "problems found": the report exists and the tests show the problems. Anything else
				// (2: a package does not build) fails every test with the script's output.
				if (error !== null && error.code !== 1) {
					reject(
						new Error(
							`check-packages failed: ${error.message}\n${stdout}\n${stderr}`,
						),
					);
				} else {
					resolvePromise();
				}
			},
		);
	});
	return JSON.parse(readFileSync(reportFile, "utf8")) as CheckReport;
}
