/**
 * Bundles an app entry (a Worker, an Edge Function) with esbuild for one runtime's export conditions, as a user's
 * bundler (wrangler, Next.js) does: every `@flagd-ts/*` import is resolved through that package's real `exports`
 * map with the runtime's conditions. When the map points at a build output that is not there (the tests run from
 * sources; CI does not build first), the chosen target is mapped to the TypeScript source tshy builds it from:
 * `dist/<dir>/x.js` ← `src/x.ts`, with tshy's dialect override `src/x-<dialect>.mts` taking precedence for a
 * dialect build (`dist/<dialect>/`). Anything the runtime itself provides (`node:` modules under a compatibility
 * flag) stays external, and the metafile reports it so tests can assert which `node:` modules a bundle needs.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

/** How `@flagd-ts/<pkg>[/<entry>]` was resolved, for assertions on the export map. */
export interface WorkspaceResolution {
	readonly specifier: string;
	/** The `exports` target the conditions picked, e.g. `./dist/workerd/index.js`. */
	readonly exportTarget: string;
	/** The file bundled (the target itself when built, else its source), relative to the repo root. */
	readonly file: string;
}

export interface EdgeBundleOptions {
	/** The app's entry file, absolute. */
	readonly entry: string;
	/** The runtime's export conditions, in the order the runtime's bundler lists them. */
	readonly conditions: readonly string[];
	/** `esm` for module Workers; `iife` (with `globalName`) for a classic script such as edge-runtime's. */
	readonly format: "esm" | "iife";
	readonly globalName?: string;
	/** Modules the runtime provides (left as imports/requires). */
	readonly external?: readonly string[];
	/** Import rewrites the runtime's bundler applies (wrangler maps bare Node names to `node:`). */
	readonly alias?: Readonly<Record<string, string>>;
}

export interface EdgeBundle {
	readonly code: string;
	readonly metafile: Metafile;
	readonly resolutions: readonly WorkspaceResolution[];
	/** Every external import of the bundle: importer (relative to the repo root) → module. */
	readonly externals: ReadonlyArray<{ importer: string; module: string }>;
}

export async function bundleForRuntime(
	options: EdgeBundleOptions,
): Promise<EdgeBundle> {
	const resolutions: WorkspaceResolution[] = [];
	const result = await build({
		entryPoints: [options.entry],
		bundle: true,
		write: false,
		format: options.format,
		...(options.globalName === undefined
			? {}
			: { globalName: options.globalName }),
		platform: "browser",
		target: "es2022",
		conditions: [...options.conditions],
		mainFields: ["browser", "module", "main"],
		external: [...(options.external ?? [])],
		alias: { ...(options.alias ?? {}) },
		nodePaths: [path.join(REPO_ROOT, "node_modules")],
		metafile: true,
		logLevel: "silent",
		plugins: [workspaceExportsPlugin(options.conditions, resolutions)],
	});
	const code = new TextDecoder().decode(result.outputFiles[0]?.contents);
	const externals: Array<{ importer: string; module: string }> = [];
	for (const [importer, input] of Object.entries(result.metafile.inputs)) {
		for (const imported of input.imports) {
			if (imported.external)
				externals.push({ importer, module: imported.path });
		}
	}
	return { code, metafile: result.metafile, resolutions, externals };
}

type ExportValue = string | null | { readonly [key: string]: ExportValue };

/** Node's conditional-exports matching: the first key (in object order) that is active wins. */
function pickTarget(
	value: ExportValue | undefined,
	active: ReadonlySet<string>,
): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value === "string") return value;
	for (const [key, inner] of Object.entries(value)) {
		if (!active.has(key)) continue;
		const picked = pickTarget(inner, active);
		if (picked !== undefined) return picked;
	}
	return undefined;
}

function workspaceExportsPlugin(
	conditions: readonly string[],
	resolutions: WorkspaceResolution[],
): Plugin {
	// What esbuild itself activates for an ESM import on platform "browser", plus the runtime's conditions.
	const active = new Set([...conditions, "import", "default", "browser"]);
	let dialect: string | undefined;
	return {
		name: "flagd-ts-workspace-exports",
		setup(buildApi) {
			buildApi.onResolve({ filter: /^@flagd-ts\// }, (args) => {
				const [, pkg, entry] =
					/^@flagd-ts\/([^/]+)(?:\/(.+))?$/.exec(args.path) ?? [];
				if (pkg === undefined) return undefined;
				const pkgDir = path.join(REPO_ROOT, "packages", pkg);
				const manifest = JSON.parse(
					readFileSync(path.join(pkgDir, "package.json"), "utf8"),
				) as { exports?: Record<string, ExportValue> };
				const subpath = entry === undefined ? "." : `./${entry}`;
				const target = pickTarget(manifest.exports?.[subpath], active);
				if (target === undefined) {
					return {
						errors: [
							{
								text: `${args.path}: no "exports" entry of packages/${pkg}/package.json matches the conditions ${[...active].join(", ")}`,
							},
						],
					};
				}
				const file = builtOrSource(pkgDir, target);
				const dir = /^\.\/dist\/([^/]+)\//.exec(target)?.[1];
				if (dir !== undefined && dir !== "esm" && dir !== "commonjs")
					dialect = dir;
				resolutions.push({
					specifier: args.path,
					exportTarget: target,
					file: path.relative(REPO_ROOT, file),
				});
				return { path: file };
			});
			// tshy dialect overrides inside a package's sources: `./x.js` → `x-<dialect>.mts` when present.
			buildApi.onResolve({ filter: /^\.\.?\// }, (args) => {
				if (dialect === undefined) return undefined;
				if (!args.importer.includes(`${path.sep}src${path.sep}`))
					return undefined;
				const base = path
					.resolve(args.resolveDir, args.path)
					.replace(/\.js$/, "");
				const override = `${base}-${dialect}.mts`;
				return existsSync(override) ? { path: override } : undefined;
			});
		},
	};
}

/** The export target when it exists on disk, else the tshy source it is built from. */
function builtOrSource(pkgDir: string, target: string): string {
	const built = path.join(pkgDir, target);
	if (existsSync(built)) return built;
	const match = /^\.\/dist\/([^/]+)\/(.+)\.js$/.exec(target);
	if (match === null) {
		throw new Error(
			`${target} in ${pkgDir}/package.json is neither built nor a dist/ path`,
		);
	}
	const [, dir = "", rest = ""] = match;
	const candidates = [
		path.join(pkgDir, "src", `${rest}-${dir}.mts`),
		path.join(pkgDir, "src", `${rest}.ts`),
		path.join(pkgDir, "src", `${rest}.mts`),
	];
	const found = candidates.find((c) => existsSync(c));
	if (found === undefined) {
		throw new Error(
			`${target}: no build and no source (${candidates.map((c) => path.relative(REPO_ROOT, c)).join(", ")})`,
		);
	}
	return found;
}
