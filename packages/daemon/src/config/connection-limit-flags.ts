import type { FlagSpec } from "./flag-spec.js";

/**
 * What one client may ask of a listener: body and header sizes, connection timeouts, HTTP/2 and stream caps, and
 * the keepalive ping policy. Rows of the option table (daemon-flags.ts), in the order `--help` lists them.
 */
export const CONNECTION_LIMIT_FLAGS: readonly FlagSpec[] = [
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
];
