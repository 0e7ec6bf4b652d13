/**
 * Bundles an app entry (a Worker, an Edge Function) with esbuild for one runtime's export conditions, as a user's
 * bundler (wrangler, Next.js) does. Every `@flagd-ts/*` import is resolved by esbuild, with those conditions, in
 * a staged consumer project (stage-consumer.ts: the packages as published, export map and dist/esm), so the
 * bundle holds the build the export map picks for the runtime. Anything the runtime itself provides (`node:`
 * modules under a compatibility flag) stays external; the result lists those imports so tests can assert them.
 */
import path from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";
import type { ConsumerProject } from "./stage-consumer.js";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

/** Where `@flagd-ts/<pkg>[/<entry>]` was resolved to, for assertions on the export map. */
export interface WorkspaceResolution {
	readonly specifier: string;
	/** The file bundled, relative to the package's directory in the consumer project (e.g. `dist/esm/edge/index.js`). */
	readonly file: string;
}

export interface EdgeBundleOptions {
	/** The consumer project whose node_modules hold the published `@flagd-ts/*` packages. */
	readonly consumer: ConsumerProject;
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
		plugins: [consumerPackagesPlugin(options.consumer.dir, resolutions)],
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

/** Resolves `@flagd-ts/*` from the consumer project, with the build's conditions (esbuild's own resolver). */
function consumerPackagesPlugin(
	consumerDir: string,
	resolutions: WorkspaceResolution[],
): Plugin {
	return {
		name: "flagd-ts-consumer-packages",
		setup(buildApi) {
			buildApi.onResolve({ filter: /^@flagd-ts\// }, async (args) => {
				if (args.pluginData === "consumer") return undefined;
				const resolved = await buildApi.resolve(args.path, {
					kind: args.kind,
					resolveDir: consumerDir,
					pluginData: "consumer",
				});
				if (resolved.errors.length > 0) return { errors: resolved.errors };
				const pkg = /^@flagd-ts\/([^/]+)/.exec(args.path)?.[1] ?? "";
				const pkgDir = path.join(consumerDir, "node_modules/@flagd-ts", pkg);
				resolutions.push({
					specifier: args.path,
					file: path.relative(pkgDir, resolved.path),
				});
				return { path: resolved.path };
			});
		},
	};
}
