import type { FlagSpec } from "./flag-spec.js";

/**
 * Metrics, traces and logs: the exporter, the OTLP collector and its TLS files, the log format and level. Rows of
 * the option table (daemon-flags.ts), in the order `--help` lists them.
 */
export const TELEMETRY_FLAGS: readonly FlagSpec[] = [
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
];
