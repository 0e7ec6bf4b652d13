import type { Transport } from "@connectrpc/connect";
import {
	type CommonProviderConfig,
	type CommonProviderOptions,
	parseStatusCodeNames,
	resolveCommonOptions,
	validateExplicit,
} from "@flagd-ts/provider-core";
import type { Logger } from "@openfeature/server-sdk";
import { readEnvOptions } from "./env.js";
import { NODE_OPTION_SPECS } from "./option-table.js";

/** Wire protocol of the Node provider. flagd serves both on its evaluation port. */
export type TransportProtocol = "grpc" | "connect";

/**
 * Options of the Node flagd provider: the common ones plus Node-only connection settings. Precedence per field:
 * this object > `FLAGD_*` environment variables > defaults.
 */
export interface FlagdProviderOptions extends CommonProviderOptions {
	/** Unix domain socket of the daemon; replaces host/port. @default undefined */
	socketPath?: string;
	/** PEM file of the CA (or self-signed server certificate) to trust for TLS, in addition to none. @default undefined (system roots) */
	certPath?: string;
	/** HTTP/2 keepalive ping interval in milliseconds; 0 disables (flagd name, env `FLAGD_KEEP_ALIVE_TIME_MS`). @default 0 */
	keepAliveTime?: number;
	/**
	 * Target in gRPC name syntax, replacing host/port: `envoy://host:port/authority` (connect to host:port and
	 * send `authority` as `:authority`, for Envoy-style routing), `dns:[//]host:port`, `unix:/path`. @default undefined
	 */
	targetUri?: string;
	/** `:authority` (HTTP/2) or `Host` (HTTP/1.1) to send instead of host:port. @default undefined */
	defaultAuthority?: string;
	/** `grpc` (gRPC over HTTP/2) or `connect` (Connect protocol). @default "grpc" */
	transport?: TransportProtocol;
	/** HTTP version of the Connect transport (gRPC always uses HTTP/2). @default "2" */
	httpVersion?: "1.1" | "2";
	/** Logger; defaults to the OpenFeature `DefaultLogger` (warn and error to the console). */
	logger?: Logger;
	/** Environment to read `FLAGD_*` variables from. @default process.env */
	env?: Readonly<Record<string, string | undefined>>;
	/** A ready-made Connect transport; replaces every connection option (for tests and custom stacks). */
	connectTransport?: Transport;
	/**
	 * Sends the active OpenTelemetry context (W3C `traceparent`/`tracestate`, plus whatever the registered
	 * propagator writes) with every RPC, so daemon spans join the caller's trace. Adds nothing when no span is
	 * active. Not applied to a `connectTransport` you pass (add `traceContextInterceptor` to it yourself).
	 * @default true
	 */
	tracePropagation?: boolean;
}

/** Fully resolved options of the Node provider. */
export interface FlagdProviderConfig extends CommonProviderConfig {
	readonly socketPath: string | undefined;
	readonly certPath: string | undefined;
	readonly keepAliveTime: number;
	readonly targetUri: string | undefined;
	readonly defaultAuthority: string | undefined;
	readonly transport: TransportProtocol;
	readonly httpVersion: "1.1" | "2";
	/** See {@link FlagdProviderOptions.tracePropagation}. */
	readonly tracePropagation: boolean;
}

/** Result of {@link resolveFlagdProviderOptions}. */
export interface ResolvedFlagdProviderOptions {
	readonly config: FlagdProviderConfig;
	/** Problems that did not stop resolution (bad environment values, unknown status names), each naming its source. */
	readonly warnings: readonly string[];
}

/**
 * The one pure function that turns constructor options and an environment into the provider's configuration.
 * Precedence per field: explicit option > environment variable > default. An invalid explicit option throws a
 * `TypeError`/`RangeError` naming it; an invalid environment value is skipped with a warning naming the
 * variable (the caller logs it), so nothing is ever dropped silently.
 */
export function resolveFlagdProviderOptions(
	options: FlagdProviderOptions = {},
	env: Readonly<Record<string, string | undefined>> = {},
): ResolvedFlagdProviderOptions {
	const fromEnv = readEnvOptions(env);
	const warnings = [...fromEnv.warnings];
	// Parsed against the same option table, so every value has its option's type.
	const e = fromEnv.options as FlagdProviderOptions;
	const common = resolveCommonOptions(options, e);
	const o = validateExplicit(
		NODE_OPTION_SPECS,
		options,
	) as FlagdProviderOptions;
	const config: FlagdProviderConfig = Object.freeze({
		...common,
		socketPath: o.socketPath ?? e.socketPath,
		certPath: o.certPath ?? e.certPath,
		keepAliveTime: o.keepAliveTime ?? e.keepAliveTime ?? 0,
		targetUri: o.targetUri ?? e.targetUri,
		defaultAuthority: o.defaultAuthority ?? e.defaultAuthority,
		transport: o.transport ?? "grpc",
		httpVersion: o.httpVersion ?? "2",
		tracePropagation: tracePropagationOption(options.tracePropagation),
	});
	for (const name of parseStatusCodeNames(config.fatalStatusCodes).unknown) {
		warnings.push(
			`fatalStatusCodes: unknown gRPC status name ${JSON.stringify(name)} is ignored`,
		);
	}
	return { config, warnings };
}

/** Validated by hand: the option is not part of the shared option table (it has no environment variable). */
function tracePropagationOption(value: unknown): boolean {
	if (value === undefined) return true;
	if (typeof value !== "boolean") {
		throw new TypeError(
			`flagd provider option "tracePropagation": expected a boolean, got ${typeof value}`,
		);
	}
	return value;
}
