/**
 * Reads the `--config` file (JSON, or YAML for .yaml/.yml) into a settings layer. As with flagd (viper), keys are the
 * long flag names, matched case-insensitively; unlike viper, an unknown key is a problem rather than silently
 * ignored, because a typo in a config file would otherwise run the daemon with a default the user did not want.
 */
import { parse as parseYaml } from "yaml";
import { DAEMON_FLAGS } from "./daemon-flags.js";
import type { RawSetting, SettingLayer } from "./raw-setting.js";
import { suggestName } from "./suggest-name.js";

export interface ConfigFileSettings {
	readonly layer: SettingLayer;
	readonly problems: readonly string[];
}

const NAMES = new Set(DAEMON_FLAGS.map((f) => f.name));

function parseText(
	path: string,
	text: string,
): { ok: true; value: unknown } | { ok: false; problem: string } {
	const lower = path.toLowerCase();
	const isYaml = lower.endsWith(".yaml") || lower.endsWith(".yml");
	if (!isYaml && !lower.endsWith(".json")) {
		return {
			ok: false,
			problem: `--config ${path}: unsupported file type (use .json, .yaml or .yml)`,
		};
	}
	try {
		const value: unknown = isYaml ? parseYaml(text) : JSON.parse(text);
		return { ok: true, value };
	} catch (e: unknown) {
		const reason = e instanceof Error ? e.message : String(e);
		return {
			ok: false,
			problem: `--config ${path}: not valid ${isYaml ? "YAML" : "JSON"}: ${reason}`,
		};
	}
}

/** Short, single-line rendering of a config value for problem labels. */
function show(value: unknown): string {
	const text = typeof value === "string" ? value : JSON.stringify(value);
	return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function readConfigFile(
	path: string,
	readFile: (path: string) => string,
): ConfigFileSettings {
	let text: string;
	try {
		text = readFile(path);
	} catch (e: unknown) {
		const reason = e instanceof Error ? e.message : String(e);
		return {
			layer: new Map(),
			problems: [`--config ${path}: cannot read the file: ${reason}`],
		};
	}
	const parsed = parseText(path, text);
	if (!parsed.ok) return { layer: new Map(), problems: [parsed.problem] };
	// An empty YAML file parses to null: a config file that sets nothing.
	if (parsed.value === null || parsed.value === undefined) {
		return { layer: new Map(), problems: [] };
	}
	if (typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
		return {
			layer: new Map(),
			problems: [
				`--config ${path}: the top level must be a mapping of flag names to values`,
			],
		};
	}
	const layer = new Map<string, RawSetting>();
	const problems: string[] = [];
	for (const [key, value] of Object.entries(parsed.value)) {
		const name = key.toLowerCase();
		if (name === "config") {
			problems.push(`${path}: key "config" cannot name another config file`);
			continue;
		}
		if (!NAMES.has(name)) {
			const hint = suggestName(name, [...NAMES]);
			problems.push(
				`${path}: unknown key "${key}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
			);
			continue;
		}
		// `port:` with no value in YAML is null: treat as not set, like an absent key.
		if (value === null) continue;
		layer.set(name, {
			layer: "file",
			items: [{ value, label: `${path}: ${key}: ${show(value)}` }],
		});
	}
	return { layer, problems };
}
