/**
 * An option's raw values as one configuration layer (CLI, env, config file) supplied them, before parsing. Each
 * item keeps a label saying where it came from (`--port=abc`, `FLAGD_PORT=abc`, `flagd.yaml: port: abc`), so a
 * problem can name exactly what the user wrote.
 */
export interface RawItem {
	/** A string from argv/env, or any JSON/YAML value from the config file. */
	readonly value: unknown;
	readonly label: string;
}

export interface RawSetting {
	readonly layer: "cli" | "env" | "file";
	/** One item per occurrence (repeated flags give several); scalar options use the last one. */
	readonly items: readonly RawItem[];
}

/** One layer's settings keyed by long flag name. */
export type SettingLayer = ReadonlyMap<string, RawSetting>;
