import { checkOptionValue, type OptionSpec } from "./option-spec.js";

/** Result cache mode: `lru` caches STATIC results, `disabled` always asks the daemon. */
export type CacheType = "lru" | "disabled";
/** flagd evaluation API: `v2` (default, explicit code-default signalling) or `v1` for older daemons. */
export type ApiVersion = "v1" | "v2";
/** flagd resolver mode. This package implements `rpc` only; the option exists for flagd config compatibility. */
export type ResolverType = "rpc" | "in-process";

/**
 * Options shared by the Node and the browser flagd RPC providers. Names follow the flagd provider option table
 * (testbed `config.feature`) so configuration carries over from other flagd providers; units are in the docs of
 * each field (two flagd names, `retryGracePeriod` and `keepAliveTime`, predate the unit-suffix convention).
 */
export interface CommonProviderOptions {
	/** @default "localhost" */
	host?: string;
	/** @default 8013 */
	port?: number;
	/** Use TLS. @default false */
	tls?: boolean;
	/** Deadline of every evaluation call and of initialization, in milliseconds. @default 500 */
	deadlineMs?: number;
	/** Deadline of one event stream, in milliseconds; the stream is then re-opened. 0 disables. @default 600000 */
	streamDeadlineMs?: number;
	/** First reconnect delay of the event stream, in milliseconds (doubles per attempt, with jitter). @default 1000 */
	retryBackoffMs?: number;
	/** Cap of the reconnect delay, in milliseconds. @default 12000 */
	retryBackoffMaxMs?: number;
	/** Time in STALE before the provider reports ERROR, in **seconds** (flagd name). @default 5 */
	retryGracePeriod?: number;
	/** @default "lru" */
	cache?: CacheType;
	/** Maximum number of cached results. @default 1000 */
	maxCacheSize?: number;
	/** flagd selector expression, sent as the `flagd-selector` header on every call. @default undefined */
	selector?: string;
	/** Identity of this provider, sent as the `flagd-provider-id` header. @default undefined */
	providerId?: string;
	/**
	 * gRPC status code names (e.g. `PERMISSION_DENIED`) that make the provider give up and become FATAL when they
	 * end a connection attempt before the first successful connection. @default []
	 */
	fatalStatusCodes?: readonly string[];
	/** @default "v2" */
	apiVersion?: ApiVersion;
	/** @default "rpc" */
	resolver?: ResolverType;
}

/** Fully resolved common options: every field present and validated. */
export interface CommonProviderConfig {
	readonly host: string;
	readonly port: number;
	readonly tls: boolean;
	readonly deadlineMs: number;
	readonly streamDeadlineMs: number;
	readonly retryBackoffMs: number;
	readonly retryBackoffMaxMs: number;
	readonly retryGracePeriod: number;
	readonly cache: CacheType;
	readonly maxCacheSize: number;
	readonly selector: string | undefined;
	readonly providerId: string | undefined;
	readonly fatalStatusCodes: readonly string[];
	readonly apiVersion: ApiVersion;
	readonly resolver: ResolverType;
}

/** Defaults of the common options (flagd provider spec / testbed config.feature). */
export const COMMON_DEFAULTS = {
	host: "localhost",
	port: 8013,
	tls: false,
	deadlineMs: 500,
	streamDeadlineMs: 600_000,
	retryBackoffMs: 1000,
	retryBackoffMaxMs: 12_000,
	retryGracePeriod: 5,
	cache: "lru",
	maxCacheSize: 1000,
	fatalStatusCodes: [],
	apiVersion: "v2",
	resolver: "rpc",
} as const satisfies Partial<CommonProviderConfig>;

const MAX_MS = 2_147_483_647; // setTimeout's limit; larger delays fire immediately

/** Specs of the common options, in README order. */
export const COMMON_OPTION_SPECS: readonly OptionSpec[] = [
	{
		name: "resolver",
		env: "FLAGD_RESOLVER",
		kind: "enum",
		values: ["rpc", "in-process"],
		defaultText: "rpc",
		doc: "resolver mode; only `rpc` is implemented by this provider",
	},
	{
		name: "host",
		env: "FLAGD_HOST",
		kind: "string",
		defaultText: "localhost",
		doc: "daemon host",
	},
	{
		name: "port",
		env: "FLAGD_PORT",
		kind: "integer",
		min: 1,
		max: 65535,
		defaultText: "8013",
		doc: "daemon port",
	},
	{
		name: "tls",
		env: "FLAGD_TLS",
		kind: "boolean",
		defaultText: "false",
		doc: "connect with TLS",
	},
	{
		name: "deadlineMs",
		env: "FLAGD_DEADLINE_MS",
		kind: "integer",
		min: 1,
		max: MAX_MS,
		defaultText: "500",
		doc: "deadline of each evaluation call and of initialization (ms)",
	},
	{
		name: "streamDeadlineMs",
		env: "FLAGD_STREAM_DEADLINE_MS",
		kind: "integer",
		min: 0,
		max: MAX_MS,
		defaultText: "600000",
		doc: "lifetime of one event stream before it is re-opened (ms); 0 disables",
	},
	{
		name: "retryBackoffMs",
		env: "FLAGD_RETRY_BACKOFF_MS",
		kind: "integer",
		min: 1,
		max: MAX_MS,
		defaultText: "1000",
		doc: "first reconnect delay, doubled per attempt with jitter (ms)",
	},
	{
		name: "retryBackoffMaxMs",
		env: "FLAGD_RETRY_BACKOFF_MAX_MS",
		kind: "integer",
		min: 1,
		max: MAX_MS,
		defaultText: "12000",
		doc: "cap of the reconnect delay (ms)",
	},
	{
		name: "retryGracePeriod",
		env: "FLAGD_RETRY_GRACE_PERIOD",
		kind: "integer",
		min: 0,
		max: 2_147_483,
		defaultText: "5",
		doc: "time in STALE before ERROR (seconds)",
	},
	{
		name: "cache",
		env: "FLAGD_CACHE",
		kind: "enum",
		values: ["lru", "disabled"],
		defaultText: "lru",
		doc: "cache STATIC results (`lru`) or not (`disabled`)",
	},
	{
		name: "maxCacheSize",
		env: "FLAGD_MAX_CACHE_SIZE",
		kind: "integer",
		min: 1,
		max: 100_000_000,
		defaultText: "1000",
		doc: "maximum number of cached results",
	},
	{
		name: "selector",
		env: "FLAGD_SOURCE_SELECTOR",
		kind: "string",
		defaultText: "none",
		doc: "selector sent as the `flagd-selector` header",
	},
	{
		name: "providerId",
		env: "FLAGD_PROVIDER_ID",
		kind: "string",
		defaultText: "none",
		doc: "provider identity sent as the `flagd-provider-id` header",
	},
	{
		name: "fatalStatusCodes",
		env: "FLAGD_FATAL_STATUS_CODES",
		kind: "list",
		defaultText: "[]",
		doc: "gRPC status names that are fatal until the first successful connection (comma list in env)",
	},
	{
		name: "apiVersion",
		kind: "enum",
		values: ["v1", "v2"],
		defaultText: "v2",
		doc: "flagd evaluation API version",
	},
];

/**
 * Resolves the common options: each field is the explicit option, else the fallback (values already read from
 * the environment by the caller), else the default. Explicit options are validated and a bad one throws a
 * `TypeError`/`RangeError` naming it; fallback values are trusted (their reader validated them).
 */
export function resolveCommonOptions(
	options: CommonProviderOptions,
	fallback: CommonProviderOptions = {},
): CommonProviderConfig {
	const o = validateExplicit(
		COMMON_OPTION_SPECS,
		options,
	) as CommonProviderOptions;
	return Object.freeze({
		host: o.host ?? fallback.host ?? COMMON_DEFAULTS.host,
		port: o.port ?? fallback.port ?? COMMON_DEFAULTS.port,
		tls: o.tls ?? fallback.tls ?? COMMON_DEFAULTS.tls,
		deadlineMs:
			o.deadlineMs ?? fallback.deadlineMs ?? COMMON_DEFAULTS.deadlineMs,
		streamDeadlineMs:
			o.streamDeadlineMs ??
			fallback.streamDeadlineMs ??
			COMMON_DEFAULTS.streamDeadlineMs,
		retryBackoffMs:
			o.retryBackoffMs ??
			fallback.retryBackoffMs ??
			COMMON_DEFAULTS.retryBackoffMs,
		retryBackoffMaxMs:
			o.retryBackoffMaxMs ??
			fallback.retryBackoffMaxMs ??
			COMMON_DEFAULTS.retryBackoffMaxMs,
		retryGracePeriod:
			o.retryGracePeriod ??
			fallback.retryGracePeriod ??
			COMMON_DEFAULTS.retryGracePeriod,
		cache: o.cache ?? fallback.cache ?? COMMON_DEFAULTS.cache,
		maxCacheSize:
			o.maxCacheSize ?? fallback.maxCacheSize ?? COMMON_DEFAULTS.maxCacheSize,
		selector: o.selector ?? fallback.selector,
		providerId: o.providerId ?? fallback.providerId,
		fatalStatusCodes: Object.freeze([
			...(o.fatalStatusCodes ??
				fallback.fatalStatusCodes ??
				COMMON_DEFAULTS.fatalStatusCodes),
		]),
		apiVersion:
			o.apiVersion ?? fallback.apiVersion ?? COMMON_DEFAULTS.apiVersion,
		resolver: o.resolver ?? fallback.resolver ?? COMMON_DEFAULTS.resolver,
	});
}

/**
 * Validates the fields of `options` named in `specs` and returns a copy with normalised values (enums lower
 * case). `undefined` means "not set". Throws `RangeError` for out-of-range integers and unknown enum values,
 * `TypeError` otherwise; the message names the option.
 */
export function validateExplicit(
	specs: readonly OptionSpec[],
	options: object,
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const spec of specs) {
		if (!Object.hasOwn(options, spec.name)) continue;
		const value: unknown = (options as Record<string, unknown>)[spec.name];
		if (value === undefined) continue;
		const check = checkOptionValue(spec, value);
		if (!check.ok) {
			const isRange =
				(spec.kind === "integer" && typeof value === "number") ||
				(spec.kind === "enum" && typeof value === "string");
			const message = `flagd provider option "${spec.name}": ${check.problem}`;
			throw isRange ? new RangeError(message) : new TypeError(message);
		}
		out[spec.name] = check.value;
	}
	return out;
}
