/**
 * The one place CLI flags, FLAGD_* env vars and the `--config` file become a DaemonConfig (C26). Precedence per
 * option: CLI flag > env var > config file > DEFAULTS. Pure apart from `readFile` (injectable), so tests use plain
 * objects. Every problem is collected and reported in one DaemonError CONFIG_INVALID, each naming the flag, env var
 * or config key the user wrote, so one run shows everything to fix.
 */
import { readFileSync } from "node:fs";
import { DaemonError } from "../errors.js";
import { checkDaemonConfig } from "./check-daemon-config.js";
import type { DaemonConfig } from "./daemon-config.js";
import { DEFAULTS } from "./defaults.js";
import {
	type Parsed,
	parseBoolean,
	parseBytes,
	parseChoice,
	parseCount,
	parseDuration,
	parseList,
	parseMap,
	parseOrigin,
	parsePort,
	parsePositiveCount,
	parseString,
} from "./option-parsers.js";
import { OptionReader } from "./option-reader.js";
import { parseArgv } from "./parse-argv.js";
import type { SettingLayer } from "./raw-setting.js";
import { readConfigFile } from "./read-config-file.js";
import { readEnvSettings } from "./read-env-settings.js";
import { resolveSources } from "./resolve-sources.js";

export interface ResolveDaemonConfigInput {
	/** The arguments after `start` (no node/script path, no subcommand). */
	readonly argv: readonly string[];
	/** Usually `process.env`; only `FLAGD_*` names are read. */
	readonly env: Readonly<Record<string, string | undefined>>;
	/** Reads the `--config` file. @default fs.readFileSync(path, "utf8") */
	readonly readFile?: (path: string) => string;
}

export interface ResolvedDaemonConfig {
	readonly config: DaemonConfig;
	/** Things worth logging that do not stop the daemon (unknown FLAGD_* vars, no sources configured). */
	readonly warnings: readonly string[];
}

// Header field-name characters (RFC 9110 token).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function readContext(
	reader: OptionReader,
	name: "context-value" | "context-from-header",
): Record<string, string> {
	const out: Record<string, string> = {};
	for (const { value, item } of reader.repeated(name, parseMap) ?? []) {
		const [rawKey, entry] = value;
		const key = name === "context-from-header" ? rawKey.toLowerCase() : rawKey;
		if (key === "" || (name === "context-from-header" && entry === "")) {
			reader.report(`${item.label}: --${name} needs a non-empty key and value`);
		} else if (name === "context-from-header" && !HEADER_NAME.test(key)) {
			reader.report(
				`${item.label}: --${name} "${rawKey}" is not a valid header name`,
			);
		} else {
			// Keys are ordinary strings: `__proto__` becomes an own key, never a prototype write.
			Object.defineProperty(out, key, {
				value: entry,
				enumerable: true,
				writable: true,
				configurable: true,
			});
		}
	}
	return out;
}

function readLayers(
	input: ResolveDaemonConfigInput,
	problems: string[],
	warnings: string[],
): SettingLayer[] {
	const cli = parseArgv(input.argv);
	const env = readEnvSettings(input.env);
	problems.push(...cli.problems);
	warnings.push(...env.warnings);
	const configItem = cli.configPath ?? env.configPath;
	if (configItem === undefined) return [cli.layer, env.layer];
	const path = parseString(configItem.value);
	if (!path.ok || path.value === undefined) {
		problems.push(`${configItem.label}: --config needs a file path`);
		return [cli.layer, env.layer];
	}
	const readFile = input.readFile ?? ((p: string) => readFileSync(p, "utf8"));
	const file = readConfigFile(path.value, readFile);
	problems.push(...file.problems);
	return [cli.layer, env.layer, file.layer];
}

function readTls(reader: OptionReader): DaemonConfig["tls"] {
	const certPath = reader.scalar("server-cert-path", parseString, undefined);
	const keyPath = reader.scalar("server-key-path", parseString, undefined);
	if (certPath !== undefined && keyPath !== undefined)
		return { certPath, keyPath };
	if (certPath !== undefined || keyPath !== undefined) {
		const [set, missing] =
			certPath !== undefined
				? ["server-cert-path", "server-key-path"]
				: ["server-key-path", "server-cert-path"];
		reader.report(
			`${reader.origin(set)}: --${set} needs --${missing} as well (TLS uses both)`,
		);
	}
	return DEFAULTS.tls;
}

const exporterChoice = parseChoice(["prometheus", "otel"] as const);

// flagd's default for --metrics-exporter is "" (meaning Prometheus), so "" from an old config is accepted.
function parseMetricsExporter(raw: unknown): Parsed<"prometheus" | "otel"> {
	return raw === "" ? { ok: true, value: "prometheus" } : exporterChoice(raw);
}

function buildConfig(reader: OptionReader): DaemonConfig {
	const str = (name: string) => reader.scalar(name, parseString, undefined);
	return {
		port: reader.scalar("port", parsePort, DEFAULTS.port),
		managementPort: reader.scalar(
			"management-port",
			parsePort,
			DEFAULTS.managementPort,
		),
		syncPort: reader.scalar("sync-port", parsePort, DEFAULTS.syncPort),
		ofrepPort: reader.scalar("ofrep-port", parsePort, DEFAULTS.ofrepPort),
		bindAddress: str("bind-address") ?? DEFAULTS.bindAddress,
		socketPath: str("socket-path") ?? DEFAULTS.socketPath,
		syncSocketPath: str("sync-socket-path") ?? DEFAULTS.syncSocketPath,
		tls: readTls(reader),
		sources: resolveSources(reader),
		corsOrigins: (reader.repeated("cors-origin", parseList) ?? []).map(
			(e) => e.value,
		),
		staticContext: readContext(reader, "context-value"),
		headerContext: readContext(reader, "context-from-header"),
		streamDeadlineMs: reader.scalar(
			"stream-deadline",
			parseDuration,
			DEFAULTS.streamDeadlineMs,
		),
		disableSyncMetadata: reader.scalar(
			"disable-sync-metadata",
			parseBoolean,
			DEFAULTS.disableSyncMetadata,
		),
		maxRequestBodyBytes: reader.scalar(
			"max-request-body",
			parseBytes,
			DEFAULTS.maxRequestBodyBytes,
		),
		maxRequestHeaderBytes: reader.scalar(
			"max-request-header",
			parseBytes,
			DEFAULTS.maxRequestHeaderBytes,
		),
		keepAliveMinTimeMs: reader.scalar(
			"keep-alive-min-time",
			parseDuration,
			DEFAULTS.keepAliveMinTimeMs,
		),
		keepAlivePermitWithoutStream: reader.scalar(
			"keep-alive-permit-without-stream",
			parseBoolean,
			DEFAULTS.keepAlivePermitWithoutStream,
		),
		logFormat: reader.scalar(
			"log-format",
			parseChoice(["console", "json"] as const),
			DEFAULTS.logFormat,
		),
		debug: reader.scalar("debug", parseBoolean, DEFAULTS.debug),
		strictValidation: reader.scalar(
			"strict-validation",
			parseBoolean,
			DEFAULTS.strictValidation,
		),
		onSourceStartupFailure: reader.scalar(
			"on-source-failure",
			parseChoice(["exit", "continue"] as const),
			DEFAULTS.onSourceStartupFailure,
		),
		// flagd's default for --metrics-exporter is "" (= Prometheus), so "" is accepted as prometheus.
		metricsExporter: reader.scalar(
			"metrics-exporter",
			parseMetricsExporter,
			DEFAULTS.metricsExporter,
		),
		otelCollectorUri: str("otel-collector-uri") ?? DEFAULTS.otelCollectorUri,
		otelCertPath: str("otel-cert-path") ?? DEFAULTS.otelCertPath,
		otelKeyPath: str("otel-key-path") ?? DEFAULTS.otelKeyPath,
		otelCaPath: str("otel-ca-path") ?? DEFAULTS.otelCaPath,
		otelReloadIntervalMs: reader.scalar(
			"otel-reload-interval",
			parseDuration,
			DEFAULTS.otelReloadIntervalMs,
		),
		ofrepSseEnabled: reader.scalar(
			"ofrep-sse-enabled",
			parseBoolean,
			DEFAULTS.ofrepSseEnabled,
		),
		ofrepSseInactivityDelaySec: reader.scalar(
			"ofrep-sse-inactivity-delay",
			parseCount,
			DEFAULTS.ofrepSseInactivityDelaySec,
		),
		ofrepSsePublicUrl:
			reader.scalar("ofrep-sse-public-url", parseOrigin, undefined) ??
			DEFAULTS.ofrepSsePublicUrl,
		ofrepSseMaxConnections: reader.scalar(
			"ofrep-sse-max-connections",
			parseCount,
			DEFAULTS.ofrepSseMaxConnections,
		),
		headerTimeoutMs: reader.scalar(
			"header-timeout",
			parseDuration,
			DEFAULTS.headerTimeoutMs,
		),
		idleTimeoutMs: reader.scalar(
			"idle-timeout",
			parseDuration,
			DEFAULTS.idleTimeoutMs,
		),
		requestTimeoutMs: reader.scalar(
			"request-timeout",
			parseDuration,
			DEFAULTS.requestTimeoutMs,
		),
		maxConcurrentStreams: reader.scalar(
			"max-concurrent-streams",
			parsePositiveCount,
			DEFAULTS.maxConcurrentStreams,
		),
		maxEventStreams: reader.scalar(
			"max-event-streams",
			parsePositiveCount,
			DEFAULTS.maxEventStreams,
		),
		maxSyncStreams: reader.scalar(
			"max-sync-streams",
			parsePositiveCount,
			DEFAULTS.maxSyncStreams,
		),
		syncClientCaPath: str("sync-client-ca-path") ?? DEFAULTS.syncClientCaPath,
	};
}

/**
 * Resolves argv + env + config file into a validated DaemonConfig.
 * @throws DaemonError CONFIG_INVALID whose message lists every problem, one per line.
 */
export function resolveDaemonConfig(
	input: ResolveDaemonConfigInput,
): ResolvedDaemonConfig {
	const problems: string[] = [];
	const warnings: string[] = [];
	const reader = new OptionReader(
		readLayers(input, problems, warnings),
		problems,
		warnings,
	);
	const config = buildConfig(reader);
	checkDaemonConfig(config, reader);
	if (problems.length > 0) {
		throw new DaemonError(
			"CONFIG_INVALID",
			`invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems
				.map((p) => `  - ${p}`)
				.join("\n")}`,
		);
	}
	if (config.sources.length === 0) {
		warnings.push(
			"no sync sources configured (--uri or --sources): the daemon serves no flags",
		);
	}
	return { config: Object.freeze(config), warnings };
}
