import { type OptionValue, parseOptionText } from "@flagd-ts/provider-core";
import { FLAGD_PROVIDER_OPTION_SPECS } from "./option-table.js";

/**
 * Options read from the environment, keyed by option name, with a warning for every variable that could not be
 * used. Each value has the kind its option spec declares (`resolveFlagdProviderOptions` reads them as
 * `FlagdProviderOptions`); this file does not import that type, so options and env do not import each other.
 */
export interface EnvOptions {
	readonly options: Readonly<Record<string, OptionValue>>;
	readonly warnings: readonly string[];
}

/**
 * Reads the `FLAGD_*` variables of the option table from `env` (pure: pass `process.env` or a plain object).
 * Every invalid value yields a warning naming the variable and is left out, so the option falls back to its
 * default; `0` is a value like any other. `FLAGD_SYNC_PORT` is read by the option resolution itself (it applies to
 * the in-process resolver only).
 */
export function readEnvOptions(
	env: Readonly<Record<string, string | undefined>>,
): EnvOptions {
	const options: Record<string, OptionValue> = {};
	const warnings: string[] = [];
	for (const spec of FLAGD_PROVIDER_OPTION_SPECS) {
		if (spec.env === undefined) continue;
		const raw = env[spec.env];
		if (raw === undefined) continue;
		const parsed = parseOptionText(spec, raw);
		if (parsed.ok) options[spec.name] = parsed.value;
		else
			warnings.push(
				`${spec.env}: ${parsed.problem}; ignored, "${spec.name}" keeps its default`,
			);
	}
	return { options, warnings };
}
