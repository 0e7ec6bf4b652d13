import type { Interceptor } from "@connectrpc/connect";
import {
	COMMON_DEFAULTS,
	COMMON_OPTION_SPECS,
	type CommonProviderOptions,
	type OptionSpec,
	validateExplicit,
} from "@flagd-ts/provider-core";
import type { Logger } from "@openfeature/web-sdk";
import type { FlagdWebTransport } from "./flagd-web-transport.js";
import {
	type PeerOptionNames,
	translatePeerOptions,
} from "./peer-option-names.js";

/** The options the web provider shares with the Node provider (same names, meaning and defaults). */
type SharedOptions = Pick<
	CommonProviderOptions,
	| "host"
	| "port"
	| "tls"
	| "deadlineMs"
	| "streamDeadlineMs"
	| "retryBackoffMs"
	| "retryBackoffMaxMs"
	| "retryGracePeriod"
	| "selector"
>;

/**
 * Options of `FlagdWebProvider`. Shared options keep the Node provider's names and defaults (see
 * provider-core's `CommonProviderOptions`): `host` "localhost", `port` 8013, `tls` false, `deadlineMs` 500,
 * `streamDeadlineMs` 600000 (0: never re-open), `retryBackoffMs` 1000, `retryBackoffMaxMs` 12000,
 * `retryGracePeriod` 5 (seconds), `selector` none. Note that @openfeature/flagd-web-provider defaults to port 443
 * with TLS: behind an HTTPS proxy set `tls: true, port: 443`. Its `maxDelay` and `maxRetries: 0` are accepted
 * (see {@link PeerOptionNames}); any other name that is not an option here throws.
 */
export interface FlagdWebProviderOptions
	extends SharedOptions,
		PeerOptionNames {
	/**
	 * Path under which a reverse proxy serves flagd's Connect service, e.g. `/flagd` for
	 * `https://host/flagd/flagd.evaluation.v1.Service/ResolveAll`. @default ""
	 */
	pathPrefix?: string;
	/** fetch implementation (auth wrappers, test doubles, runtimes without a global fetch). @default globalThis.fetch */
	fetch?: typeof globalThis.fetch;
	/** connect-es interceptors of the built-in transport, e.g. to add an auth header. @default [] */
	interceptors?: Interceptor[];
	/**
	 * Replaces the built-in connect-web Connect (JSON) client, e.g. `fromConnectTransport(createConnectTransport(…))`
	 * for binary or gRPC-web, or an in-memory transport in tests. host, port, tls, pathPrefix, fetch and
	 * interceptors configure the built-in transport, so setting one of them as well throws. @default undefined
	 */
	transport?: FlagdWebTransport;
	/**
	 * Silence on the event stream after which the connection counts as lost, in milliseconds. flagd sends a
	 * keep_alive after 20 s without other messages, so the default allows two to go missing. 0 disables.
	 * @default 60000
	 */
	streamIdleTimeoutMs?: number;
	/** Where connection problems are logged. @default console */
	logger?: Logger;
}

/** Fully resolved options of `FlagdWebProvider`. */
export interface FlagdWebProviderConfig {
	readonly baseUrl: string;
	readonly deadlineMs: number;
	readonly streamDeadlineMs: number;
	readonly retryBackoffMs: number;
	readonly retryBackoffMaxMs: number;
	readonly retryGracePeriodMs: number;
	readonly streamIdleTimeoutMs: number;
	readonly selector: string | undefined;
	readonly fetch: typeof globalThis.fetch | undefined;
	readonly interceptors: readonly Interceptor[];
	readonly transport: FlagdWebTransport | undefined;
	readonly logger: Logger;
}

const SHARED_NAMES: ReadonlySet<string> = new Set([
	"host",
	"port",
	"tls",
	"deadlineMs",
	"streamDeadlineMs",
	"retryBackoffMs",
	"retryBackoffMaxMs",
	"retryGracePeriod",
	"selector",
]);
const SHARED_SPECS = COMMON_OPTION_SPECS.filter((s) =>
	SHARED_NAMES.has(s.name),
);
const WEB_SPECS: readonly OptionSpec[] = [
	{
		name: "streamIdleTimeoutMs",
		kind: "integer",
		min: 0,
		max: 2_147_483_647,
		defaultText: "60000",
		doc: "silence on the event stream before it counts as lost (ms); 0 disables",
	},
];
const WEB_DEFAULTS = { streamIdleTimeoutMs: 60_000 } as const;

/**
 * Validates the options (a bad value throws a `TypeError`/`RangeError` naming the option) and fills defaults
 * field by field.
 */
export function resolveFlagdWebProviderOptions(
	given: FlagdWebProviderOptions = {},
): FlagdWebProviderConfig {
	const options = translatePeerOptions(given);
	const o = validateExplicit(SHARED_SPECS, options) as SharedOptions;
	const web = validateExplicit(WEB_SPECS, options) as {
		streamIdleTimeoutMs?: number;
	};
	checkType("pathPrefix", options.pathPrefix, "string");
	checkType("fetch", options.fetch, "function");
	checkType("transport", options.transport, "object");
	checkType("logger", options.logger, "object");
	const interceptors = options.interceptors ?? [];
	if (
		!Array.isArray(interceptors) ||
		!interceptors.every((i) => typeof i === "function")
	) {
		throw new TypeError(
			`flagd provider option "interceptors": expected an array of connect-es interceptors (functions)`,
		);
	}
	if (options.transport !== undefined) {
		const clash = TRANSPORT_SETTINGS.filter(
			(name) => options[name] !== undefined,
		);
		if (clash.length > 0) {
			throw new TypeError(
				`flagd provider option "transport" replaces the built-in transport, so ${clash.map((n) => `"${n}"`).join(", ")} would have no effect; configure your transport instead`,
			);
		}
	}
	const tls = o.tls ?? COMMON_DEFAULTS.tls;
	const host = o.host ?? COMMON_DEFAULTS.host;
	const port = o.port ?? COMMON_DEFAULTS.port;
	const retryBackoffMs = o.retryBackoffMs ?? COMMON_DEFAULTS.retryBackoffMs;
	const retryBackoffMaxMs =
		o.retryBackoffMaxMs ?? COMMON_DEFAULTS.retryBackoffMaxMs;
	if (retryBackoffMaxMs < retryBackoffMs) {
		throw new RangeError(
			`flagd provider option "retryBackoffMaxMs" (${retryBackoffMaxMs}) must be >= retryBackoffMs (${retryBackoffMs})`,
		);
	}
	return Object.freeze({
		baseUrl: `${tls ? "https" : "http"}://${formatHost(host)}:${port}${normalizePrefix(options.pathPrefix ?? "")}`,
		deadlineMs: o.deadlineMs ?? COMMON_DEFAULTS.deadlineMs,
		streamDeadlineMs: o.streamDeadlineMs ?? COMMON_DEFAULTS.streamDeadlineMs,
		retryBackoffMs,
		retryBackoffMaxMs,
		retryGracePeriodMs:
			(o.retryGracePeriod ?? COMMON_DEFAULTS.retryGracePeriod) * 1000,
		streamIdleTimeoutMs:
			web.streamIdleTimeoutMs ?? WEB_DEFAULTS.streamIdleTimeoutMs,
		selector: o.selector === "" ? undefined : o.selector,
		fetch: options.fetch,
		interceptors: [...interceptors],
		transport: options.transport,
		logger: options.logger ?? console,
	});
}

/** Options that configure the built-in transport (and so cannot be combined with `transport`). */
const TRANSPORT_SETTINGS = [
	"host",
	"port",
	"tls",
	"pathPrefix",
	"fetch",
	"interceptors",
] as const satisfies readonly (keyof FlagdWebProviderOptions)[];

/** IPv6 literals need brackets in a URL. */
function formatHost(host: string): string {
	if (host === "" || /[/?#@\s]/.test(host)) {
		throw new TypeError(
			`flagd provider option "host": expected a host name or IP address, got ${JSON.stringify(host)}`,
		);
	}
	return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** "flagd", "/flagd" and "/flagd/" all become "/flagd"; "" and "/" become "". */
function normalizePrefix(prefix: string): string {
	const trimmed = prefix.replace(/^\/+|\/+$/g, "");
	if (/[?#\s]/.test(trimmed)) {
		throw new TypeError(
			`flagd provider option "pathPrefix": must be a URL path, got ${JSON.stringify(prefix)}`,
		);
	}
	return trimmed === "" ? "" : `/${trimmed}`;
}

function checkType(name: string, value: unknown, type: string): void {
	if (value !== undefined && (typeof value !== type || value === null)) {
		throw new TypeError(
			`flagd provider option "${name}": expected a ${type}, got ${value === null ? "null" : typeof value}`,
		);
	}
}
