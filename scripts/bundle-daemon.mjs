// Builds the daemon into ONE file, packages/daemon/dist/flagd.mjs, runnable with `node flagd.mjs start ...`: the
// drop-in for places that expect a single flagd executable (the testbed image copies one file). Everything the
// file, http and grpc sources, the services and the evaluator need is inside. The Kubernetes and cloud-blob SDKs
// stay external: the daemon imports them lazily, only when such a source is configured, from a node_modules
// beside the file (the Dockerfile installs them there).
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// `--outfile <path>` builds elsewhere (the memory benchmark measures the file users run).
const outIndex = process.argv.indexOf("--outfile");
const outfile =
	outIndex === -1
		? join(root, "packages/daemon/dist/flagd.mjs")
		: resolve(process.argv[outIndex + 1] ?? "");
mkdirSync(dirname(outfile), { recursive: true });
const { name, version } = JSON.parse(
	readFileSync(join(root, "packages/daemon/package.json"), "utf8"),
);

await build({
	entryPoints: [join(root, "packages/daemon/src/cli/main.ts")],
	outfile,
	bundle: true,
	platform: "node",
	target: "node20",
	format: "esm",
	minify: true,
	sourcemap: false,
	legalComments: "none",
	tsconfig: join(root, "tsconfig.json"),
	external: [
		"@kubernetes/client-node",
		"@aws-sdk/client-s3",
		"@google-cloud/storage",
		"@azure/storage-blob",
	],
	// cli/main.ts carries the #!/usr/bin/env node line; esbuild keeps it first. ESM output has no require(); some bundled CommonJS dependencies call it for Node built-ins.
	banner: {
		js: "import { createRequire as __flagdCreateRequire } from 'node:module'; const require = __flagdCreateRequire(import.meta.url);",
	},
	// cli/package-info.ts reads package.json beside the sources; the bundle carries the values instead.
	define: { FLAGD_BUNDLED_PACKAGE_INFO: JSON.stringify({ name, version }) },
	logLevel: "warning",
});
// One non-ASCII character (even in a regular expression) makes V8 keep the whole source as UTF-16: twice the memory.
const built = readFileSync(outfile);
const nonAscii = built.findIndex((byte) => byte > 0x7f);
if (nonAscii !== -1)
	throw new Error(
		`${outfile} is not ASCII at offset ${nonAscii}: escape the character in the source`,
	);
console.log(`${outfile} (${Math.round(statSync(outfile).size / 1024)} KiB)`);
