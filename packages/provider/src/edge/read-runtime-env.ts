import { FLAGD_PROVIDER_OPTION_SPECS } from "../option-table.js";

/** The variables the provider reads (`FLAGD_SYNC_PORT` is read by the option resolution of `in-process`). */
const VARIABLES: readonly string[] = [
	...new Set([
		...FLAGD_PROVIDER_OPTION_SPECS.flatMap((spec) =>
			spec.env === undefined ? [] : [spec.env],
		),
		"FLAGD_SYNC_PORT",
	]),
];

/** The parts of Deno's global this file uses (declared here: the package is typed against Node). */
interface DenoEnvironment {
	readonly env: { get(name: string): string | undefined };
	readonly permissions: {
		querySync?(descriptor: { name: "env"; variable: string }): {
			readonly state: string;
		};
	};
}

/**
 * The `FLAGD_*` variables this runtime lets us read, as a plain object; never throws and never prompts.
 *
 * - Deno: `Deno.env`, only for variables `--allow-env` grants (asked with `Deno.permissions.querySync`, which does
 *   not prompt; a denied variable is left out, as if unset).
 * - Bun, Node, workerd with `nodejs_compat`, Vercel Edge: `process.env` where `process` exists.
 * - Elsewhere (workerd without `nodejs_compat`): nothing; pass options, or `env` explicitly.
 */
export function readRuntimeEnv(): Readonly<Record<string, string | undefined>> {
	const deno = (globalThis as { Deno?: DenoEnvironment }).Deno;
	if (deno !== undefined) return readWith((name) => readDeno(deno, name));
	const processEnv = (
		globalThis as {
			process?: { env?: Record<string, string | undefined> };
		}
	).process?.env;
	if (processEnv === undefined || processEnv === null) return {};
	return readWith((name) => processEnv[name]);
}

function readDeno(deno: DenoEnvironment, name: string): string | undefined {
	const state = deno.permissions.querySync?.({ name: "env", variable: name });
	if (state?.state !== "granted") return undefined;
	return deno.env.get(name);
}

function readWith(
	get: (name: string) => string | undefined,
): Record<string, string | undefined> {
	const env: Record<string, string | undefined> = {};
	for (const name of VARIABLES) {
		let value: string | undefined;
		try {
			value = get(name);
		} catch {
			// A runtime that refuses access (a permission model, a sandboxed `process.env`) reads as "not set".
			value = undefined;
		}
		if (typeof value === "string") env[name] = value;
	}
	return env;
}
