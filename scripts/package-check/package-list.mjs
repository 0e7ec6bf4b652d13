// The packages scripts/check-packages.mjs checks, and where the repository is.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(
	dirname(fileURLToPath(import.meta.url)),
	"../..",
);

/** Packages in build order (siblings first). `kind` decides the attw profile and the smoke test. */
export const PACKAGES = [
	{
		dir: "protocol",
		kind: "library",
		subpaths: ["evaluation-v1", "evaluation-v2", "sync-v1"],
	},
	{ dir: "evaluator", kind: "library", subpaths: [] },
	{ dir: "provider-core", kind: "library", subpaths: [] },
	{ dir: "provider", kind: "library", subpaths: [] },
	{ dir: "web-provider", kind: "library", subpaths: ["ofrep"] },
	// ESM only (C36): nothing resolves under `require`, so attw's CJS resolutions would only report that fact.
	{ dir: "daemon", kind: "esm-cli", subpaths: [] },
];

/** The single-file daemon that scripts/bundle-daemon.mjs writes into packages/daemon/dist. */
export const BUNDLE_FILE = "flagd.mjs";
