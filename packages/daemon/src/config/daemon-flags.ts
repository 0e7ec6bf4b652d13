/**
 * The table of every `flagd start` option: long name (also the config-file key), short form, value kind, default as
 * shown in help, and meaning. The argv parser, the env reader, the config-file reader and the help text all read
 * this one table, so an option exists everywhere or nowhere. Names and short forms follow Go flagd's
 * `flagd/cmd/start.go`; `--strict-validation`, `--on-source-failure` and `--bind-address` are ours.
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

export const DAEMON_FLAGS: readonly FlagSpec[] = [
	{
		name: "port",
		short: "p",
		kind: "port",
		defaultText: "8013",
		description:
			"Port of the evaluation service (flagd.evaluation.v1/v2 over gRPC, gRPC-web and Connect). 0 picks a free port.",
	},
	{
		name: "management-port",
		short: "m",
		kind: "port",
		defaultText: "8014",
		description:
			"Port of the management service (/healthz, /readyz, /metrics).",
	},
	{
		name: "sync-port",
		short: "g",
		kind: "port",
		defaultText: "8015",
		description: "Port of the gRPC sync service (flagd.sync.v1).",
	},
	{
		name: "ofrep-port",
		short: "r",
		kind: "port",
		defaultText: "8016",
		description: "Port of the OFREP service (/ofrep/v1/evaluate/flags).",
	},
	{
		name: "ofrep-sse-enabled",
		kind: "boolean",
		defaultText: "true",
		description:
			"Serve OFREP change notifications (Server-Sent Events on /ofrep/v1/sse) and advertise them in bulk responses.",
	},
	{
		name: "ofrep-sse-inactivity-delay",
		kind: "count",
		valueName: "seconds",
		defaultText: "120",
		description:
			"Seconds advertised as inactivityDelaySec; an SSE client that leaves sent bytes unread this long is disconnected. 0 = none.",
	},
	{
		name: "ofrep-sse-public-url",
		kind: "string",
		valueName: "url",
		defaultText: "",
		description:
			"Origin (e.g. https://flags.example.com) for advertised SSE URLs; default: the request's scheme and Host.",
	},
	{
		name: "ofrep-sse-max-connections",
		kind: "count",
		valueName: "count",
		defaultText: "10000",
		description:
			"Concurrent OFREP SSE streams; a stream beyond it is answered 503 with Retry-After. 0 = no limit.",
	},
	{
		name: "bind-address",
		kind: "string",
		valueName: "address",
		defaultText: "0.0.0.0",
		description:
			"Address every TCP listener binds to (e.g. 127.0.0.1 for local only).",
	},
	{
		name: "socket-path",
		short: "d",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description:
			"Serve the evaluation service on this unix socket instead of --port.",
	},
	{
		name: "sync-socket-path",
		short: "e",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description:
			"Serve the sync service on this unix socket instead of --sync-port.",
	},
	{
		name: "server-cert-path",
		short: "c",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description:
			"TLS certificate (PEM) for every service (evaluation, sync, OFREP, management); needs --server-key-path.",
	},
	{
		name: "server-key-path",
		short: "k",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description:
			"TLS private key (PEM) for every service; needs --server-cert-path.",
	},
	{
		name: "sync-client-ca-path",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description:
			"CA certificate (PEM): the sync service then requires a client certificate signed by it (mutual TLS). Needs --server-cert-path and --server-key-path.",
	},
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
	{
		name: "max-request-body",
		short: "B",
		kind: "bytes",
		valueName: "bytes",
		defaultText: "1000000",
		description:
			"Request body limit in bytes on every service (evaluation, sync, OFREP); 0 disables the limit.",
	},
	{
		name: "max-request-header",
		short: "R",
		kind: "bytes",
		valueName: "bytes",
		defaultText: "1000000",
		description:
			"Request header limit in bytes on every port (HTTP/1.1 header size, HTTP/2 header list size); 0 = the runtime's default.",
	},
	{
		name: "header-timeout",
		kind: "duration",
		valueName: "duration",
		defaultText: "5s",
		description:
			"A connection's first bytes and TLS handshake, a whole HTTP/1.1 request header, and an HTTP/2 connection's first request must arrive within this; 0 disables.",
	},
	{
		name: "idle-timeout",
		kind: "duration",
		valueName: "duration",
		defaultText: "1m",
		description:
			"A connection with no request or stream in flight is closed after this long; 0 disables.",
	},
	{
		name: "request-timeout",
		kind: "duration",
		valueName: "duration",
		defaultText: "1m",
		description:
			"A whole request, header and body, must arrive within this on every port (HTTP/2: per stream, answered DEADLINE_EXCEEDED); 0 disables.",
	},
	{
		name: "max-concurrent-streams",
		kind: "count",
		valueName: "count",
		defaultText: "250",
		description:
			"HTTP/2 streams one connection may have open at once (advertised in SETTINGS); more are refused.",
	},
	{
		name: "max-event-streams",
		kind: "count",
		valueName: "count",
		defaultText: "1000",
		description:
			"Open EventStreams the evaluation service accepts (v1 and v2 together); more are refused with RESOURCE_EXHAUSTED.",
	},
	{
		name: "max-sync-streams",
		kind: "count",
		valueName: "count",
		defaultText: "1000",
		description:
			"Open SyncFlags streams the sync service accepts; more are refused with RESOURCE_EXHAUSTED.",
	},
	{
		name: "keep-alive-min-time",
		kind: "duration",
		valueName: "duration",
		defaultText: "30s",
		description:
			"Minimum interval between client keepalive pings the sync service accepts; a client pinging faster gets GOAWAY ENHANCE_YOUR_CALM too_many_pings; 0 accepts any rate.",
	},
	{
		name: "keep-alive-permit-without-stream",
		kind: "boolean",
		defaultText: "true",
		description:
			"Accept client keepalive pings on sync connections without an active stream (false: repeated pings without a stream get GOAWAY too_many_pings).",
	},
	{
		name: "metrics-exporter",
		short: "t",
		kind: "enum",
		choices: ["prometheus", "otel"],
		valueName: "exporter",
		defaultText: "prometheus",
		description:
			"prometheus serves /metrics on the management port; otel pushes OTLP (needs --otel-collector-uri).",
	},
	{
		name: "otel-collector-uri",
		short: "o",
		kind: "string",
		valueName: "uri",
		defaultText: "",
		description:
			"OTLP/HTTP collector base URL (http://collector:4318); also enables trace export.",
		limitation:
			"OTLP/HTTP only: Go flagd's OTLP/gRPC target (collector:4317) is not spoken.",
	},
	{
		name: "otel-cert-path",
		short: "D",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description: "Client certificate for mTLS to the OTLP collector.",
	},
	{
		name: "otel-key-path",
		short: "K",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description: "Client key for mTLS to the OTLP collector.",
	},
	{
		name: "otel-ca-path",
		short: "A",
		kind: "string",
		valueName: "path",
		defaultText: "",
		description: "CA certificate of the OTLP collector.",
	},
	{
		name: "otel-reload-interval",
		short: "I",
		kind: "duration",
		valueName: "duration",
		defaultText: "1h",
		description:
			"How often flagd re-reads the collector's TLS files (--otel-ca-path, --otel-cert-path, --otel-key-path); 0 = never.",
	},
	{
		name: "log-format",
		short: "z",
		kind: "enum",
		choices: ["console", "json"],
		valueName: "format",
		defaultText: "console",
		description:
			"Log output: console (readable lines) or json (one JSON object per line).",
	},
	{
		name: "debug",
		short: "x",
		kind: "boolean",
		defaultText: "false",
		description: "Log at debug level.",
	},
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

/** The env var of an option: `FLAGD_` + upper snake case of the long name (viper's replacer). */
export function envVarName(flagName: string): string {
	return `FLAGD_${flagName.toUpperCase().replaceAll("-", "_")}`;
}
