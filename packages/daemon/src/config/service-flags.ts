import type { FlagSpec } from "./flag-spec.js";

/**
 * Where the services listen and what they offer: ports, OFREP change notifications, bind address, unix sockets and
 * TLS. The first rows of the option table (daemon-flags.ts), in the order `--help` lists them.
 */
export const SERVICE_FLAGS: readonly FlagSpec[] = [
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
];
