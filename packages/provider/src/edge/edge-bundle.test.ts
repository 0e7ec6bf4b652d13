/**
 * The edge entry bundled as Workers/Vercel Edge bundlers do (esbuild, platform "neutral", conditions
 * workerd/worker/edge-light/browser) must not import any Node builtin, and must run where code generation from
 * strings is forbidden: the bundle is executed by `node --disallow-code-generation-from-strings` (as workerd and
 * Edge forbid `eval`/`new Function`) and evaluates targeting rules with the in-process resolver's evaluator.
 * `@openfeature/server-sdk` is left out of the bundle: it is the application's peer and itself imports
 * `node:events`/`async_hooks`, which workerd provides under `nodejs_compat` and Vercel Edge provides natively.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { build, type Metafile } from "esbuild";

const ENTRY = path.join(__dirname, "index.ts");
const REPO = path.resolve(__dirname, "../../../..");
const work = mkdtempSync(path.join(tmpdir(), "flagd-edge-bundle-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NODE_BUILTINS = new Set(
	builtinModules.flatMap((name) => [name, `node:${name}`]),
);

async function bundle(entry: string, outfile: string): Promise<Metafile> {
	const result = await build({
		entryPoints: [entry],
		outfile,
		bundle: true,
		format: "esm",
		platform: "neutral",
		conditions: ["workerd", "worker", "edge-light", "browser"],
		mainFields: ["module", "main"],
		external: ["@openfeature/server-sdk"],
		metafile: true,
		logLevel: "silent",
		// Workspace packages by their sources, as the jest mapper does.
		alias: {
			"@flagd-ts/protocol": path.join(REPO, "packages/protocol/src/index.ts"),
			"@flagd-ts/evaluator": path.join(REPO, "packages/evaluator/src/index.ts"),
			"@flagd-ts/provider-core": path.join(
				REPO,
				"packages/provider-core/src/index.ts",
			),
		},
	});
	return result.metafile;
}

describe("edge entry bundle", () => {
	it("imports no Node builtin (node: or bare)", async () => {
		const metafile = await bundle(ENTRY, path.join(work, "edge.mjs"));
		const imports = Object.values(metafile.inputs).flatMap((input) =>
			input.imports.map((imported) => imported.path),
		);
		expect(imports.filter((name) => NODE_BUILTINS.has(name))).toEqual([]);
		// Sanity: the bundle contains the provider, the fetch transport and the evaluator.
		const inputs = Object.keys(metafile.inputs).join("\n");
		expect(inputs).toMatch(/connect-web/);
		expect(inputs).toMatch(/packages\/evaluator\/src/);
		expect(inputs).not.toMatch(
			/connect-node|create-transport\.ts|watch-flag-file/,
		);
	});

	it("evaluates targeting with code generation from strings disallowed", async () => {
		const script = path.join(work, "no-eval.ts");
		writeFileSync(
			script,
			`import { FlagdProvider } from ${JSON.stringify(ENTRY)};
import { codeGenerationAvailable, defaultTargetingMode, parseFlagDocument } from "@flagd-ts/evaluator";
import { LocalFlagStore } from ${JSON.stringify(path.join(__dirname, "../in-process/local-flag-store.ts"))};
import { LocalResolver } from ${JSON.stringify(path.join(__dirname, "../in-process/local-resolver.ts"))};
let evalBlocked = false;
try { new Function("return 1")(); } catch { evalBlocked = true; }
const provider = new FlagdProvider({ env: {}, host: "127.0.0.1", port: 1, resolver: "in-process" });
// What the in-process session does with the sync payload (create-local-session.ts), with the mode it picks.
const store = new LocalFlagStore({ targetingMode: defaultTargetingMode() });
const parsed = parseFlagDocument(JSON.stringify({ flags: { f: {
	state: "ENABLED", variants: { internal: "INTERNAL", external: "EXTERNAL" }, defaultVariant: "external",
	targeting: { if: [{ ends_with: [{ var: "email" }, "@example.com"] }, "internal", "external"] },
} } }), { format: "json" });
if (!parsed.ok) throw new Error("bad document");
store.apply(parsed.document);
const resolver = new LocalResolver(store);
const internal = await resolver.resolve("string", "f", "none", { email: "ada@example.com" });
const external = await resolver.resolve("string", "f", "none", { email: "bob@elsewhere.org" });
console.log(JSON.stringify({
	evalBlocked,
	codeGeneration: codeGenerationAvailable(),
	mode: defaultTargetingMode(),
	internal: [internal.value, internal.reason],
	external: [external.value, external.reason],
	resolver: provider.config.resolver,
	transport: provider.config.transport,
}));
`,
		);
		const outfile = path.join(work, "no-eval.mjs");
		await bundle(script, outfile);
		// The external @openfeature/server-sdk resolves from the repository's node_modules.
		symlinkSync(
			path.join(REPO, "node_modules"),
			path.join(work, "node_modules"),
		);
		writeFileSync(
			path.join(work, "package.json"),
			'{ "type": "module", "dependencies": {} }\n',
		);
		const run = spawnSync(
			process.execPath,
			["--disallow-code-generation-from-strings", outfile],
			{
				encoding: "utf8",
				timeout: 60_000,
				cwd: work,
			},
		);
		expect(run.stderr).toBe("");
		expect(JSON.parse(run.stdout)).toEqual({
			evalBlocked: true,
			codeGeneration: false,
			mode: "interpreted",
			internal: ["INTERNAL", "TARGETING_MATCH"],
			external: ["EXTERNAL", "TARGETING_MATCH"],
			resolver: "in-process",
			transport: "connect",
		});
	});

	it("refuses the file resolver, gRPC and Node-only connection options, naming them", async () => {
		const { FlagdProvider } = await import("./index.js");
		expect(
			() => new FlagdProvider({ env: {}, transport: "grpc" } as never),
		).toThrow(/option "transport": "grpc" is not available on this runtime/);
		expect(
			() => new FlagdProvider({ env: {}, resolver: "file" } as never),
		).toThrow(/option "resolver"|offlineFlagSourcePath/);
		expect(
			() =>
				new FlagdProvider({
					env: {},
					resolver: "in-process",
					offlineFlagSourcePath: "/tmp/flags.json",
				} as never),
		).toThrow(
			/option "offlineFlagSourcePath" selects the file resolver, which is not available/,
		);
		expect(
			() =>
				new FlagdProvider({
					env: { FLAGD_OFFLINE_FLAG_SOURCE_PATH: "/f.json" },
					resolver: "in-process",
				}),
		).toThrow(/FLAGD_OFFLINE_FLAG_SOURCE_PATH/);
		expect(
			() => new FlagdProvider({ env: {}, certPath: "/ca.pem" } as never),
		).toThrow(/option "certPath" is not available on this runtime/);
		expect(
			() =>
				new FlagdProvider({ env: { FLAGD_SOCKET_PATH: "/tmp/flagd.sock" } }),
		).toThrow(
			/option "socketPath" \(from FLAGD_SOCKET_PATH\) is not available/,
		);
		expect(
			() =>
				new FlagdProvider({
					env: {},
					targetUri: "envoy://localhost:9211/flagd.svc",
				}),
		).toThrow(/option "targetUri" is not available on this runtime/);
		expect(
			new FlagdProvider({ env: {}, targetUri: "dns:///flagd:8013" }).config
				.transport,
		).toBe("connect");
	});
});
