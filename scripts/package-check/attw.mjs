// @arethetypeswrong/cli over one packed tarball, with the profile that fits the package.
import { dirname, join } from "node:path";
import { repoRoot } from "./package-list.mjs";
import { run } from "./run-command.mjs";

export async function attw(tarball, pkg, timeoutMs) {
	const profile = pkg.kind === "esm-cli" ? "esm-only" : "node16";
	const { stdout, code } = await run(
		join(repoRoot, "node_modules/.bin/attw"),
		// --no-definitely-typed: our packages ship their own types, and the check must run without a network.
		[
			tarball,
			"--format",
			"json",
			"--profile",
			profile,
			"--no-definitely-typed",
		],
		{
			cwd: dirname(tarball),
			timeoutMs,
		},
	);
	const parsed = JSON.parse(stdout);
	// The JSON output lists problems for every resolution kind, grouped by kind, whatever the profile; apply the
	// profile here the way attw's own exit code does. node16 ignores node10 (which predates `exports` and cannot see
	// subpaths); esm-only also ignores node16-cjs, where `require` of an ESM-only package is expected to fail.
	const ignored =
		profile === "esm-only" ? ["node10", "node16-cjs"] : ["node10"];
	const grouped = parsed.problems ?? {};
	const all = Array.isArray(grouped) ? grouped : Object.values(grouped).flat();
	const problems = all.filter((p) => !ignored.includes(p.resolutionKind));
	const resolutions = {};
	for (const [entry, info] of Object.entries(
		parsed.analysis?.entrypoints ?? {},
	)) {
		resolutions[entry] = Object.fromEntries(
			Object.entries(info.resolutions ?? {}).map(([kind, r]) => [
				kind,
				r.resolution?.fileName ?? null,
			]),
		);
	}
	return { profile, exitCode: code, problems, resolutions };
}
