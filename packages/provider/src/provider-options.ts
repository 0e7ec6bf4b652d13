import type { Transport } from "@connectrpc/connect";
import {
	type CommonProviderConfig,
	type CommonProviderOptions,
	parseOptionText,
	parseStatusCodeNames,
	resolveCommonOptions,
	validateExplicit,
} from "@flagd-ts/provider-core";
import type { EvaluationContext, Logger } from "@openfeature/server-sdk";
import { readEnvOptions } from "./env.js";
import {
	NODE_OPTION_SPECS,
	RESOLVER_OPTION_SPEC,
	SYNC_PORT_ENV_SPEC,
} from "./option-table.js";

/**
 * Where flags are evaluated: `rpc` asks the daemon per evaluation; `in-process` receives the whole flag set over
 * flagd's sync stream and evaluates locally; `file` reads a local flag file and evaluates locally.
 */
export type FlagdResolverType = "rpc" | "in-process" | "file";

/** How the in-process and file resolvers run targeting rules (see `evaluatorMode`). */
export type EvaluatorMode = "auto" | "compiled" | "interpreted";

/**
 * Maps the daemon's `sync_context` (its static `-X` context) to evaluation context merged into every evaluation
 * of the in-process resolver. @default identity
 */
export type ContextEnricher = (
	syncContext: Readonly<Record<string, unknown>>,
) => EvaluationContext;

/** Wire protocol of the Node provider. flagd serves both on its evaluation port. */
export type TransportProtocol = "grpc" | "connect";

/**
 * Options of the Node flagd provider: the common ones plus Node-only connection settings. Precedence per field:
 * this object > `FLAGD_*` environment variables > defaults.
 */
export interface FlagdProviderOptions
	extends Omit<CommonProviderOptions, "resolver"> {
	/** Resolver, as in the flagd option table (env `FLAGD_RESOLVER`). @default "rpc" */
	resolver?: FlagdResolverType;
	/** The name `@openfeature/flagd-provider` uses for {@link resolver}; give one or the other. */
	resolverType?: FlagdResolverType;
	/** `file` resolver: JSON or YAML flag file; with resolver `in-process` it selects `file`. @default undefined */
	offlineFlagSourcePath?: string;
	/** `file` resolver: interval of the stat poll backing up the file watcher, in ms. @default 5000 */
	offlinePollIntervalMs?: number;
	/** `in-process` resolver: maps the daemon's `sync_context` to evaluation context. @default identity */
	contextEnricher?: ContextEnricher;
	/**
	 * `in-process`/`file`: `compiled` turns targeting rules into functions (fastest; needs `new Function`),
	 * `interpreted` walks them (for Workers, Edge runtimes and strict CSP), `auto` picks `compiled` where code
	 * generation is allowed. Both give identical results. @default "auto"
	 */
	evaluatorMode?: EvaluatorMode;
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
export interface FlagdProviderConfig
	extends Omit<CommonProviderConfig, "resolver"> {
	readonly resolver: FlagdResolverType;
	readonly offlineFlagSourcePath: string | undefined;
	readonly offlinePollIntervalMs: number;
	readonly contextEnricher: ContextEnricher | undefined;
	readonly evaluatorMode: EvaluatorMode;
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
	// provider-core knows the rpc resolver only; the resolver and the port are settled here.
	const {
		resolver: _resolver,
		resolverType: _resolverType,
		...commonOptions
	} = options;
	const { resolver: _envResolver, ...commonEnv } = fromEnv.options;
	const common = resolveCommonOptions(
		commonOptions,
		commonEnv as CommonProviderOptions,
	);
	const o = validateExplicit(
		NODE_OPTION_SPECS,
		options,
	) as FlagdProviderOptions;
	const e = fromEnv.options as FlagdProviderOptions;
	const offlineFlagSourcePath =
		o.offlineFlagSourcePath ?? e.offlineFlagSourcePath;
	const resolver = resolveResolver(
		options,
		o.resolver ?? e.resolver ?? "rpc",
		offlineFlagSourcePath,
	);
	const config: FlagdProviderConfig = Object.freeze({
		...common,
		resolver,
		port: resolvePort(resolver, options.port, env, warnings) ?? common.port,
		offlineFlagSourcePath,
		offlinePollIntervalMs:
			o.offlinePollIntervalMs ?? e.offlinePollIntervalMs ?? 5000,
		contextEnricher: contextEnricherOption(options.contextEnricher),
		evaluatorMode: o.evaluatorMode ?? "auto",
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

/**
 * `resolverType` (the @openfeature/flagd-provider name) is an alias of `resolver`; `in-process` with an offline
 * file means `file` (flagd option table); `file` without one is an error.
 */
function resolveResolver(
	options: FlagdProviderOptions,
	chosen: FlagdResolverType,
	offlineFlagSourcePath: string | undefined,
): FlagdResolverType {
	let resolver = chosen;
	if (options.resolverType !== undefined) {
		const alias = validateExplicit(
			[{ ...RESOLVER_OPTION_SPEC, name: "resolverType" }],
			options,
		).resolverType as FlagdResolverType;
		if (options.resolver !== undefined && alias !== resolver) {
			throw new TypeError(
				`flagd provider options "resolver" (${JSON.stringify(options.resolver)}) and "resolverType" (${JSON.stringify(options.resolverType)}) disagree; give one of them`,
			);
		}
		resolver = alias;
	}
	if (resolver === "in-process" && offlineFlagSourcePath !== undefined)
		return "file";
	if (resolver === "file" && offlineFlagSourcePath === undefined) {
		throw new TypeError(
			'flagd provider option "resolver": "file" needs "offlineFlagSourcePath" (or FLAGD_OFFLINE_FLAG_SOURCE_PATH)',
		);
	}
	return resolver;
}

/**
 * The in-process resolver defaults to the sync port 8015 and reads `FLAGD_SYNC_PORT` before `FLAGD_PORT`; the
 * other resolvers keep provider-core's answer (`undefined` here).
 */
function resolvePort(
	resolver: FlagdResolverType,
	explicit: number | undefined,
	env: Readonly<Record<string, string | undefined>>,
	warnings: string[],
): number | undefined {
	if (explicit !== undefined || resolver !== "in-process") return undefined;
	const syncPort = env.FLAGD_SYNC_PORT;
	if (syncPort !== undefined) {
		const parsed = parseOptionText(SYNC_PORT_ENV_SPEC, syncPort);
		if (parsed.ok) return parsed.value as number;
		warnings.push(
			`FLAGD_SYNC_PORT: ${parsed.problem}; ignored, "port" falls back to FLAGD_PORT or 8015`,
		);
	}
	const port = env.FLAGD_PORT;
	if (port !== undefined) {
		const parsed = parseOptionText(SYNC_PORT_ENV_SPEC, port);
		if (parsed.ok) return parsed.value as number;
	}
	return 8015;
}

function contextEnricherOption(value: unknown): ContextEnricher | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== "function") {
		throw new TypeError(
			`flagd provider option "contextEnricher": expected a function, got ${value === null ? "null" : typeof value}`,
		);
	}
	return value as ContextEnricher;
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
