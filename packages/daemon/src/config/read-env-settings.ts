/**
 * The only place the daemon reads `FLAGD_*` environment variables (C24): pure, over a plain object, so tests pass
 * their own. Names follow viper's mapping (prefix `FLAGD_`, dashes → underscores: `FLAGD_SYNC_PORT`).
 */
import { CONFIG_FLAG, DAEMON_FLAGS, envVarName } from "./daemon-flags.js";
import type { RawItem, RawSetting, SettingLayer } from "./raw-setting.js";

export interface EnvSettings {
	readonly layer: SettingLayer;
	/** `FLAGD_CONFIG`: a config file path (ours; viper does not bind it). */
	readonly configPath: RawItem | undefined;
	readonly warnings: readonly string[];
}

const KNOWN = new Map(DAEMON_FLAGS.map((f) => [envVarName(f.name), f.name]));
const CONFIG_ENV = envVarName(CONFIG_FLAG.name);

/**
 * `FLAGD_*` variables the OpenFeature flagd providers read (FLAGD_HOST, FLAGD_TLS, …). They share our prefix, so
 * seeing them in a daemon's environment is normal and not worth a warning.
 */
const PROVIDER_VARS = new Set([
	"FLAGD_HOST",
	"FLAGD_TLS",
	"FLAGD_DEADLINE_MS",
	"FLAGD_STREAM_DEADLINE_MS",
	"FLAGD_KEEP_ALIVE_TIME_MS",
	"FLAGD_CACHE",
	"FLAGD_MAX_CACHE_SIZE",
	"FLAGD_MAX_EVENT_STREAM_RETRIES",
	"FLAGD_RETRY_BACKOFF_MS",
	"FLAGD_RETRY_BACKOFF_MAX_MS",
	"FLAGD_RETRY_GRACE_PERIOD",
	"FLAGD_RESOLVER",
	"FLAGD_SOURCE_SELECTOR",
	"FLAGD_SELECTOR",
	"FLAGD_OFFLINE_FLAG_SOURCE_PATH",
	"FLAGD_OFFLINE_POLL_MS",
	"FLAGD_TARGET_URI",
	"FLAGD_PROVIDER_ID",
	"FLAGD_FATAL_STATUS_CODES",
	"FLAGD_DEFAULT_AUTHORITY",
]);

/**
 * Reads every `FLAGD_*` variable named after a `flagd start` option. Empty values count as unset (as viper does
 * for `FLAGD_X=`); unknown `FLAGD_*` names become warnings, never errors, because providers share the prefix.
 */
export function readEnvSettings(
	env: Readonly<Record<string, string | undefined>>,
): EnvSettings {
	const layer = new Map<string, RawSetting>();
	const warnings: string[] = [];
	let configPath: RawItem | undefined;
	for (const [key, value] of Object.entries(env)) {
		if (!key.startsWith("FLAGD_") || value === undefined) continue;
		if (value.trim() === "") continue;
		const item: RawItem = { value, label: `${key}=${value}` };
		if (key === CONFIG_ENV) {
			configPath = item;
			continue;
		}
		const name = KNOWN.get(key);
		if (name === undefined) {
			if (!PROVIDER_VARS.has(key)) {
				warnings.push(
					`${key} is not a flagd start setting and is ignored (see flagd start --help)`,
				);
			}
			continue;
		}
		layer.set(name, { layer: "env", items: [item] });
	}
	return { layer, configPath, warnings };
}
