/**
 * Finds the Deno or Bun binary installed from npm (devDependencies `deno`, `bun`: their platform packages carry
 * the binary). When it is missing or does not run (no binary for this platform, install scripts skipped
 * offline), the tests report SKIPPED with this reason instead of passing.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const MODULES = path.resolve(__dirname, "../../../node_modules");

/** A runnable binary, or why there is none. */
export type RuntimeBinary =
	| { readonly ok: true; readonly path: string; readonly version: string }
	| { readonly ok: false; readonly reason: string };

const CANDIDATES: Readonly<Record<"deno" | "bun", readonly string[]>> = {
	deno: ["deno/deno", "@deno/linux-x64-glibc/deno", ".bin/deno"],
	bun: ["bun/bin/bun.exe", "@oven/bun-linux-x64/bin/bun", ".bin/bun"],
};

/** The runtime's binary; `ok: false` with the reason when it cannot run here. */
export function findRuntime(name: "deno" | "bun"): RuntimeBinary {
	const found = CANDIDATES[name]
		.map((candidate) => path.join(MODULES, candidate))
		.find((candidate) => existsSync(candidate));
	if (found === undefined) {
		return {
			ok: false,
			reason: `${name} binary not installed (npm package "${name}" and its platform package missing from node_modules)`,
		};
	}
	const probe = spawnSync(found, ["--version"], {
		encoding: "utf8",
		timeout: 30_000,
	});
	if (probe.error !== undefined || probe.status !== 0) {
		return {
			ok: false,
			reason: `${found} --version failed (${probe.error?.message ?? `exit ${probe.status}: ${probe.stderr.trim().slice(0, 200)}`})`,
		};
	}
	return {
		ok: true,
		path: found,
		version: probe.stdout.trim().split("\n")[0] ?? "",
	};
}
