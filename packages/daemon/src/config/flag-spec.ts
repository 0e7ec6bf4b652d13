/**
 * The shape of one `flagd start` option in the option table (daemon-flags.ts), apart from the table so that the
 * groups of rows it is assembled from can name the type without importing the table (no import cycle).
 */

/**
 * How an option's raw text (or config-file value) is read:
 * - `port`: integer 0-65535; `bytes`: non-negative integer; `count`: whole number (the stream limits take 1-4294967295); `duration`: Go duration (`30s`, `1m30s`) or plain ms;
 * - `list`: repeatable, comma lists allowed; `map`: repeatable `key=value`, comma lists allowed;
 * - `boolean`: bare flag = true, or `=true|false`; `enum`: one of `choices`; `string`: text; `sources`: JSON array.
 */
export type FlagKind =
	| "port"
	| "bytes"
	| "count"
	| "duration"
	| "string"
	| "boolean"
	| "enum"
	| "list"
	| "map"
	| "sources";

export interface FlagSpec {
	/** Long name without dashes; also the config-file key and (upper snake, `FLAGD_` prefix) the env var. */
	readonly name: string;
	/** One-letter short form without the dash. */
	readonly short?: string;
	readonly kind: FlagKind;
	/** Allowed values for `enum`. */
	readonly choices?: readonly string[];
	/** Placeholder shown in help (`--port <port>`). */
	readonly valueName?: string;
	/** The default as a user would type it. */
	readonly defaultText: string;
	readonly description: string;
	/**
	 * What this daemon does not do for an option Go flagd honours, said in `--help` and, word for word, in that
	 * option's row of docs/configuration.md (test/docs/configuration-table.test.ts checks both).
	 */
	readonly limitation?: string;
}

/** The env var of an option: `FLAGD_` + upper snake case of the long name (viper's replacer). */
export function envVarName(flagName: string): string {
	return `FLAGD_${flagName.toUpperCase().replaceAll("-", "_")}`;
}
