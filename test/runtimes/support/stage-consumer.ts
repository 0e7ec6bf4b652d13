/**
 * A consumer project as a user of Deno, Bun or an edge bundler has it: a directory outside the repository with a
 * package.json and a node_modules holding `@flagd-ts/{protocol,evaluator,provider-core,provider}` as published
 * (their package.json with the export map, the ESM build in dist/esm) and copies of the third-party packages they
 * (and the application: the OpenFeature server SDK) need, taken from the workspace. Copies, not links: Deno does
 * not resolve a linked package to one real path, so links would load a package twice. So
 * `import "@flagd-ts/provider"` goes through the package's export conditions, and no tsconfig `paths` of the
 * repository apply.
 *
 * dist/esm is produced here with esbuild (TypeScript stripped file by file, imports untouched, as tsc's ESM
 * output), so the tests run against the current sources without a prior `npm run build`.
 */
import {
	cpSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";

const REPO = path.resolve(__dirname, "../../..");
const WORKSPACE_PACKAGES = [
	"protocol",
	"evaluator",
	"provider-core",
	"provider",
] as const;

/** A staged consumer project; `remove()` deletes it. */
export interface ConsumerProject {
	readonly dir: string;
	/** Copies a file of the repository into the project (relative to the repository root); returns its path. */
	addFile(repoPath: string, as?: string): string;
	remove(): void;
}

/** Stages the consumer project (a few seconds: four packages transpiled, their dependencies copied). */
export async function stageConsumer(): Promise<ConsumerProject> {
	const dir = mkdtempSync(path.join(tmpdir(), "flagd-consumer-"));
	try {
		const modules = path.join(dir, "node_modules");
		for (const name of WORKSPACE_PACKAGES) await stagePackage(name, modules);
		copyThirdParty(modules);
		writeFileSync(
			path.join(dir, "package.json"),
			JSON.stringify({
				name: "flagd-runtime-consumer",
				private: true,
				type: "module",
				dependencies: {
					"@flagd-ts/provider": "0.1.0",
					"@openfeature/server-sdk": "*",
				},
			}),
		);
		// Bun reads the nearest tsconfig.json; an empty one keeps it from finding anything else.
		writeFileSync(path.join(dir, "tsconfig.json"), "{}\n");
	} catch (error: unknown) {
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	return {
		dir,
		addFile: (repoPath, as) => {
			const target = path.join(dir, as ?? path.basename(repoPath));
			cpSync(path.join(REPO, repoPath), target);
			return target;
		},
		remove: () => rmSync(dir, { recursive: true, force: true }),
	};
}

/**
 * Copies the third-party packages the staged packages and the application import, with their dependencies
 * (the workspace's node_modules is flat: each name resolves at its top level).
 */
function copyThirdParty(modules: string): void {
	const from = path.join(REPO, "node_modules");
	const pending = [
		...WORKSPACE_PACKAGES.flatMap((name) =>
			dependenciesOf(path.join(REPO, "packages", name, "package.json")),
		),
		"@openfeature/server-sdk",
	];
	const copied = new Set<string>();
	while (pending.length > 0) {
		const name = pending.pop() as string;
		if (copied.has(name) || name.startsWith("@flagd-ts/")) continue;
		copied.add(name);
		const source = path.join(from, name);
		if (!existsSync(source)) continue; // an optional peer that is not installed
		cpSync(source, path.join(modules, name), {
			recursive: true,
			dereference: true,
		});
		pending.push(...dependenciesOf(path.join(source, "package.json")));
	}
}

function dependenciesOf(packageJson: string): string[] {
	const manifest = JSON.parse(readFileSync(packageJson, "utf8")) as {
		dependencies?: Record<string, string>;
		peerDependencies?: Record<string, string>;
	};
	return [
		...Object.keys(manifest.dependencies ?? {}),
		...Object.keys(manifest.peerDependencies ?? {}),
	];
}

/** package.json + dist/esm of one workspace package (tests and testdata left out, as in the published package). */
async function stagePackage(name: string, modules: string): Promise<void> {
	const source = path.join(REPO, "packages", name);
	const target = path.join(modules, "@flagd-ts", name);
	mkdirSync(target, { recursive: true });
	writeFileSync(
		path.join(target, "package.json"),
		readFileSync(path.join(source, "package.json")),
	);
	await build({
		entryPoints: listSources(path.join(source, "src")),
		outdir: path.join(target, "dist/esm"),
		outbase: path.join(source, "src"),
		format: "esm",
		platform: "neutral",
		target: "es2022",
		bundle: false,
		logLevel: "silent",
	});
	writeFileSync(
		path.join(target, "dist/esm/package.json"),
		'{ "type": "module" }\n',
	);
}

function listSources(dir: string): string[] {
	const files: string[] = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			if (entry.name !== "testdata") files.push(...listSources(full));
		} else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
			files.push(full);
	}
	return files;
}
