import { COMMON_OPTION_SPECS, type OptionSpec } from "@flagd-ts/provider-core";

/** The Node provider's resolver option: provider-core's (RPC only) plus the in-process and file resolvers. */
export const RESOLVER_OPTION_SPEC: OptionSpec = {
	name: "resolver",
	env: "FLAGD_RESOLVER",
	kind: "enum",
	values: ["rpc", "in-process", "file"],
	defaultText: "rpc",
	doc: "`rpc` evaluates in the daemon; `in-process` syncs the flags (port 8015) and evaluates locally; `file` reads `offlineFlagSourcePath`",
};

/** `FLAGD_SYNC_PORT`: the in-process port; wins over `FLAGD_PORT` there and is not read by the other resolvers. */
export const SYNC_PORT_ENV_SPEC: OptionSpec = {
	name: "port",
	env: "FLAGD_SYNC_PORT",
	kind: "integer",
	min: 1,
	max: 65535,
	defaultText: "8015",
	doc: "sync port of the in-process resolver",
};

/** Specs of the Node-only options. */
export const NODE_OPTION_SPECS: readonly OptionSpec[] = [
	RESOLVER_OPTION_SPEC,
	{
		name: "targetUri",
		env: "FLAGD_TARGET_URI",
		kind: "string",
		defaultText: "none",
		doc: "`envoy://host:port/authority`, `dns:host:port` or `unix:/path`; replaces host/port",
	},
	{
		name: "socketPath",
		env: "FLAGD_SOCKET_PATH",
		kind: "string",
		defaultText: "none",
		doc: "unix socket of the daemon; replaces host/port",
	},
	{
		name: "certPath",
		env: "FLAGD_SERVER_CERT_PATH",
		kind: "string",
		defaultText: "none",
		doc: "PEM CA certificate to trust for TLS",
	},
	{
		name: "keepAliveTime",
		env: "FLAGD_KEEP_ALIVE_TIME_MS",
		kind: "integer",
		min: 0,
		max: 2_147_483_647,
		defaultText: "0",
		doc: "HTTP/2 keepalive ping interval (ms); 0 disables",
	},
	{
		name: "defaultAuthority",
		env: "FLAGD_DEFAULT_AUTHORITY",
		kind: "string",
		defaultText: "none",
		doc: "`:authority`/`Host` to send instead of host:port",
	},
	{
		name: "transport",
		kind: "enum",
		values: ["grpc", "connect"],
		defaultText: "grpc",
		doc: "wire protocol",
	},
	{
		name: "httpVersion",
		kind: "enum",
		values: ["1.1", "2"],
		defaultText: "2",
		doc: "HTTP version of the `connect` transport",
	},
	{
		name: "offlineFlagSourcePath",
		env: "FLAGD_OFFLINE_FLAG_SOURCE_PATH",
		kind: "string",
		defaultText: "none",
		doc: "JSON or YAML flag file of the `file` resolver (with `in-process`, selects `file`)",
	},
	{
		name: "offlinePollIntervalMs",
		env: "FLAGD_OFFLINE_POLL_MS",
		kind: "integer",
		min: 1,
		max: 2_147_483_647,
		defaultText: "5000",
		doc: "`file` resolver: interval of the stat poll that backs up the file watcher (ms)",
	},
	{
		name: "evaluatorMode",
		kind: "enum",
		values: ["auto", "compiled", "interpreted"],
		defaultText: "auto",
		doc: "`in-process`/`file`: compile targeting to functions, or interpret it (no code generation; `auto` probes)",
	},
];

/** Every option of the Node provider, in README order. */
export const FLAGD_PROVIDER_OPTION_SPECS: readonly OptionSpec[] = [
	RESOLVER_OPTION_SPEC,
	...COMMON_OPTION_SPECS.filter((spec) => spec.name !== "resolver"),
	...NODE_OPTION_SPECS.filter((spec) => spec !== RESOLVER_OPTION_SPEC),
];
