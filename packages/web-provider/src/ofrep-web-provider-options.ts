import type { EvaluationContext, Logger } from "@openfeature/web-sdk";

/** Header pairs or a name → value map, as @openfeature/ofrep-web-provider takes them. */
export type OfrepHeaders =
	| [name: string, value: string][]
	| Record<string, string>;

/** How the provider starts and whether it persists bulk results (OFREP ADR-0009). */
export type OfrepCacheMode = "local-cache-first" | "network-first" | "disabled";

/** What keeps the flags current after the first evaluation (OFREP ADR-0008). */
export type OfrepChangeDetection = "sse" | "polling" | "none";

/** What a cache-key generator is given; whatever it returns is hashed into the storage key. */
export interface OfrepCacheKeyInput {
	readonly url: string;
	readonly selector: string | undefined;
	readonly domain: string | undefined;
	/** The auth headers sent (Authorization, Api-Key, X-Api-Key, X-Auth-Token, X-Access-Token), serialised. */
	readonly auth: string | undefined;
	readonly targetingKey: string | undefined;
	readonly context: EvaluationContext;
}

/**
 * Options of `OfrepWebProvider`. Names and defaults follow @openfeature/ofrep-web-provider where both have the
 * setting; `selector`, `retryGracePeriod` and `logger` are this package's. Any other name throws.
 */
export interface OfrepWebProviderOptions {
	/** Base URL of the OFREP API (flagd's OFREP port, e.g. `http://localhost:8016`); relative paths work. */
	baseUrl: string;
	/** Sent as `Flagd-Selector` on bulk requests; part of the persisted cache key. @default undefined */
	selector?: string;
	/** Static request headers. @default none */
	headers?: OfrepHeaders;
	/** Headers computed before every request (e.g. a fresh bearer token). @default none */
	headersFactory?: () => OfrepHeaders | Promise<OfrepHeaders>;
	/** Static query parameters of bulk requests. @default none */
	query?: URLSearchParams;
	/** fetch implementation. @default globalThis.fetch */
	fetchImplementation?: typeof globalThis.fetch;
	/** Abort a bulk request after this many milliseconds. @default 10000 */
	timeoutMs?: number;
	/** `'sse'`: the event streams the bulk response advertises, else polling if `pollInterval` > 0. @default "sse" */
	changeDetection?: OfrepChangeDetection;
	/** Milliseconds between bulk re-fetches when no event stream is used; 0 = never. @default 0 */
	pollInterval?: number;
	/** Do not re-fetch when the page becomes visible again (OFREP ADR-0010). @default false */
	disableVisibilityRefresh?: boolean;
	/** Hidden-page seconds after which the event stream is closed; overrides the server's value. @default server's, else 120 */
	inactivityDelaySec?: number;
	/** Parses an SSE message's payload. @default JSON.parse of `event.data` */
	sseEventParser?: (event: MessageEvent) => unknown;
	/** See {@link OfrepCacheMode}. @default "local-cache-first" */
	cacheMode?: OfrepCacheMode;
	/** Maximum age in seconds of a persisted entry. @default 2592000 (30 days) */
	cacheTTL?: number;
	/** Key material of persisted entries. @default [url, selector, domain, auth, targetingKey] */
	cacheKeyGenerator?: (input: OfrepCacheKeyInput) => string;
	/** Seconds of STALE (lost event stream, failing re-fetches) before ERROR is reported. @default 30 */
	retryGracePeriod?: number;
	/** Logger for background problems. @default none (the SDK's logger is not reachable from a provider) */
	logger?: Logger;
}

/** Options after defaults. */
export interface OfrepWebProviderConfig
	extends Required<
		Omit<
			OfrepWebProviderOptions,
			| "selector"
			| "headers"
			| "headersFactory"
			| "query"
			| "fetchImplementation"
			| "inactivityDelaySec"
			| "sseEventParser"
			| "cacheKeyGenerator"
			| "logger"
		>
	> {
	readonly selector: string | undefined;
	readonly headers: [string, string][];
	readonly headersFactory: OfrepWebProviderOptions["headersFactory"];
	readonly query: URLSearchParams | undefined;
	readonly fetchImplementation: typeof globalThis.fetch;
	readonly inactivityDelaySec: number | undefined;
	readonly sseEventParser: (event: MessageEvent) => unknown;
	readonly cacheKeyGenerator: (input: OfrepCacheKeyInput) => string;
	readonly logger: Logger | undefined;
}

const DEFAULTS = {
	timeoutMs: 10_000,
	changeDetection: "sse",
	pollInterval: 0,
	disableVisibilityRefresh: false,
	cacheMode: "local-cache-first",
	cacheTTL: 30 * 24 * 60 * 60,
	retryGracePeriod: 30,
} as const;

/** Every option name; anything else is refused by name. */
export const OFREP_OPTION_NAMES: readonly string[] = [
	"baseUrl",
	"selector",
	"headers",
	"headersFactory",
	"query",
	"fetchImplementation",
	"timeoutMs",
	"changeDetection",
	"pollInterval",
	"disableVisibilityRefresh",
	"inactivityDelaySec",
	"sseEventParser",
	"cacheMode",
	"cacheTTL",
	"cacheKeyGenerator",
	"retryGracePeriod",
	"logger",
];

/** Default key material (ADR-0009 plus the selector): never the whole context, which may hold volatile data. */
export function defaultOfrepCacheKey(input: OfrepCacheKeyInput): string {
	return JSON.stringify([
		input.url,
		input.selector ?? "",
		input.domain ?? "",
		input.auth ?? "",
		input.targetingKey ?? "",
	]);
}

const parseJsonEvent = (event: MessageEvent): unknown =>
	typeof event.data === "string" ? JSON.parse(event.data) : event.data;

function fail(name: string, problem: string, type = RangeError): never {
	throw new type(`OFREP web provider option "${name}": ${problem}`);
}

function nonNegative(
	options: OfrepWebProviderOptions,
	name: keyof typeof DEFAULTS,
	positive = false,
): number {
	const value = options[name] ?? DEFAULTS[name];
	if (typeof value !== "number" || !Number.isFinite(value)) {
		fail(
			name,
			`expected a finite number, got ${JSON.stringify(value)}`,
			TypeError,
		);
	}
	if (value < 0 || (positive && value === 0)) {
		fail(
			name,
			`expected a ${positive ? "positive" : "non-negative"} number, got ${value}`,
		);
	}
	return value;
}

function oneOf<T extends string>(
	name: string,
	value: unknown,
	allowed: readonly T[],
): T {
	if (!allowed.includes(value as T)) {
		fail(
			name,
			`expected one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(value)}`,
		);
	}
	return value as T;
}

function fn<T>(name: string, value: unknown): T | undefined {
	if (value !== undefined && typeof value !== "function") {
		fail(name, `expected a function, got ${typeof value}`, TypeError);
	}
	return value as T | undefined;
}

/** Checks the headers option; returns them as pairs. */
export function toHeaderPairs(
	value: unknown,
	name = "headers",
): [string, string][] {
	if (value === undefined) return [];
	const pairs = Array.isArray(value)
		? value
		: typeof value === "object" && value !== null
			? Object.entries(value)
			: fail(
					name,
					`expected [name, value] pairs or an object, got ${typeof value}`,
					TypeError,
				);
	for (const pair of pairs) {
		if (
			!Array.isArray(pair) ||
			pair.length !== 2 ||
			typeof pair[0] !== "string" ||
			typeof pair[1] !== "string"
		) {
			fail(
				name,
				`every header must be a [string, string] pair, got ${JSON.stringify(pair)}`,
				TypeError,
			);
		}
	}
	return pairs as [string, string][];
}

/** Applies defaults and checks every value; throws a TypeError or RangeError naming the option. */
export function resolveOfrepWebProviderOptions(
	options: OfrepWebProviderOptions,
): OfrepWebProviderConfig {
	if (typeof options !== "object" || options === null) {
		throw new TypeError(
			"OFREP web provider: options must be an object with at least baseUrl",
		);
	}
	for (const name of Object.keys(options)) {
		if (!OFREP_OPTION_NAMES.includes(name)) {
			throw new TypeError(
				`OFREP web provider: unknown option "${name}"; the options are ${OFREP_OPTION_NAMES.join(", ")}`,
			);
		}
	}
	if (typeof options.baseUrl !== "string") {
		fail(
			"baseUrl",
			`required, expected a string, got ${typeof options.baseUrl}`,
			TypeError,
		);
	}
	if (options.selector !== undefined && typeof options.selector !== "string") {
		fail(
			"selector",
			`expected a string, got ${typeof options.selector}`,
			TypeError,
		);
	}
	if (
		options.query !== undefined &&
		!(options.query instanceof URLSearchParams)
	) {
		fail("query", "expected a URLSearchParams", TypeError);
	}
	const inactivity = options.inactivityDelaySec;
	if (
		inactivity !== undefined &&
		(typeof inactivity !== "number" ||
			!Number.isFinite(inactivity) ||
			inactivity < 0)
	) {
		fail(
			"inactivityDelaySec",
			`expected a non-negative number, got ${JSON.stringify(inactivity)}`,
		);
	}
	const fetchImplementation =
		fn<typeof fetch>("fetchImplementation", options.fetchImplementation) ??
		(typeof fetch === "function" ? fetch.bind(globalThis) : undefined) ??
		fail("fetchImplementation", "no global fetch here; pass one", TypeError);
	return {
		baseUrl: options.baseUrl.replace(/\/+$/, ""),
		selector: options.selector,
		headers: toHeaderPairs(options.headers),
		headersFactory: fn("headersFactory", options.headersFactory),
		query: options.query,
		fetchImplementation,
		timeoutMs: nonNegative(options, "timeoutMs", true),
		changeDetection: oneOf(
			"changeDetection",
			options.changeDetection ?? DEFAULTS.changeDetection,
			["sse", "polling", "none"],
		),
		pollInterval: nonNegative(options, "pollInterval"),
		disableVisibilityRefresh:
			typeof (options.disableVisibilityRefresh ?? false) === "boolean"
				? (options.disableVisibilityRefresh ?? false)
				: fail("disableVisibilityRefresh", "expected a boolean", TypeError),
		inactivityDelaySec: inactivity,
		sseEventParser:
			fn("sseEventParser", options.sseEventParser) ?? parseJsonEvent,
		cacheMode: oneOf("cacheMode", options.cacheMode ?? DEFAULTS.cacheMode, [
			"local-cache-first",
			"network-first",
			"disabled",
		]),
		cacheTTL: nonNegative(options, "cacheTTL"),
		cacheKeyGenerator:
			fn("cacheKeyGenerator", options.cacheKeyGenerator) ??
			defaultOfrepCacheKey,
		retryGracePeriod: nonNegative(options, "retryGracePeriod"),
		logger: options.logger,
	};
}
