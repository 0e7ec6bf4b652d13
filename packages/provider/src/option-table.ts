import { COMMON_OPTION_SPECS, type OptionSpec } from "@flagd-ts/provider-core";

/** Specs of the Node-only options. */
export const NODE_OPTION_SPECS: readonly OptionSpec[] = [
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
];

/** Every option of the Node provider, in README order. */
export const FLAGD_PROVIDER_OPTION_SPECS: readonly OptionSpec[] = [
	...COMMON_OPTION_SPECS,
	...NODE_OPTION_SPECS,
];
