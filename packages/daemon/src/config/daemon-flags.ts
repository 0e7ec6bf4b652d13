/**
 * The table of every `flagd start` option: long name (also the config-file key), short form, value kind, default as
 * shown in help, and meaning. The argv parser, the env reader, the config-file reader and the help text all read
 * this one table, so an option exists everywhere or nowhere. Names and short forms follow Go flagd's
 * `flagd/cmd/start.go`; `--strict-validation`, `--on-source-failure` and `--bind-address` are ours.
 */
import { CONNECTION_LIMIT_FLAGS } from "./connection-limit-flags.js";
import type { FlagSpec } from "./flag-spec.js";
import { SERVICE_FLAGS } from "./service-flags.js";
import { TELEMETRY_FLAGS } from "./telemetry-flags.js";

// The row type and the env naming stay importable from the table they describe (index.ts and the help text read them
// together with the table).
export { envVarName, type FlagKind, type FlagSpec } from "./flag-spec.js";

/**
 * Rows in the order `--help` and docs/configuration.md list them. The larger groups live in their own files, one
 * concern each; the rows about sources, evaluation and flag documents stay here.
 */
export const DAEMON_FLAGS: readonly FlagSpec[] = [
	...SERVICE_FLAGS,
	{
		name: "uri",
		short: "f",
		kind: "list",
		valueName: "uri",
		defaultText: "[]",
		description:
			"Sync source URI (file:, http(s)://, grpc(s)://, core.openfeature.dev/ns/name, gs://, azblob://, s3://). " +
			"Repeatable or comma-separated; later sources win on duplicate flag keys.",
	},
	{
		name: "sources",
		short: "s",
		kind: "sources",
		valueName: "json",
		defaultText: "",
		description:
			"JSON array of source configs ({uri, provider, ...}); appended after --uri sources. See docs/syncs.md.",
	},
	{
		name: "cors-origin",
		short: "C",
		kind: "list",
		valueName: "origin",
		defaultText: "[]",
		description:
			"Allowed CORS origin; repeatable or comma-separated. * or an empty list allows every origin.",
	},
	{
		name: "context-value",
		short: "X",
		kind: "map",
		valueName: "key=value",
		defaultText: "{}",
		description:
			"Static evaluation context entry (string value); repeatable or comma-separated.",
	},
	{
		name: "context-from-header",
		short: "H",
		kind: "map",
		valueName: "Header=contextKey",
		defaultText: "{}",
		description:
			"Copy a request header into the evaluation context under contextKey; repeatable or comma-separated.",
	},
	{
		name: "stream-deadline",
		kind: "duration",
		valueName: "duration",
		defaultText: "0s",
		description:
			"Server-side deadline for EventStream and SyncFlags streams (Go duration like 30s or 1m, or plain ms); 0 = none.",
	},
	{
		name: "disable-sync-metadata",
		kind: "boolean",
		defaultText: "false",
		description: "Answer the sync service's GetMetadata with UNIMPLEMENTED.",
	},
	...CONNECTION_LIMIT_FLAGS,
	...TELEMETRY_FLAGS,
	{
		name: "strict-validation",
		kind: "boolean",
		defaultText: "false",
		description:
			"Reject flag documents that fail schema validation (flagd only warns and loads them).",
	},
	{
		name: "on-source-failure",
		kind: "enum",
		choices: ["exit", "continue"],
		valueName: "mode",
		defaultText: "exit",
		description:
			"A source failing before its first sync: exit stops the daemon (flagd); continue keeps serving the others.",
	},
];

/** `--config <file>`: read by the CLI layers only (a config file cannot name another one). */
export const CONFIG_FLAG: FlagSpec = {
	name: "config",
	kind: "string",
	valueName: "file",
	defaultText: "",
	description:
		"Config file (.json, .yaml or .yml) whose keys are the long flag names; flags and FLAGD_* env vars override it.",
};
