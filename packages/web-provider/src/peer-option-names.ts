import { COMMON_OPTION_SPECS, checkOptionValue } from "@flagd-ts/provider-core";

/**
 * Names of every option `FlagdWebProvider` takes. Anything else is refused by name: an option that is silently
 * ignored is a setting the user believes in and does not have.
 */
export const WEB_OPTION_NAMES: readonly string[] = [
	"host",
	"port",
	"tls",
	"pathPrefix",
	"deadlineMs",
	"streamDeadlineMs",
	"streamIdleTimeoutMs",
	"retryBackoffMs",
	"retryBackoffMaxMs",
	"retryGracePeriod",
	"selector",
	"interceptors",
	"fetch",
	"transport",
	"logger",
];
const KNOWN: ReadonlySet<string> = new Set(WEB_OPTION_NAMES);

/** Options of @openfeature/flagd-web-provider that have no option of the same name here. */
export interface PeerOptionNames {
	/** Peer: cap of the reconnect delay in ms (default 60000). Here: `retryBackoffMaxMs` (default 12000). */
	maxDelay?: number;
	/**
	 * Peer: reconnect attempts before giving up (0 = unlimited, the default). Here the provider always reconnects
	 * until it is closed and reports ERROR after `retryGracePeriod`; only 0 is accepted.
	 */
	maxRetries?: number;
}

const BACKOFF_MAX_SPEC = COMMON_OPTION_SPECS.find(
	(s) => s.name === "retryBackoffMaxMs",
);

/**
 * Takes the options as given, maps @openfeature/flagd-web-provider's names to ours (`maxDelay` →
 * `retryBackoffMaxMs`, `maxRetries: 0` → the default of reconnecting forever) and throws a `TypeError` or
 * `RangeError` naming the option for anything else that is not an option of this provider. Returns the options
 * without the peer's names.
 */
export function translatePeerOptions<T extends object>(options: T): T {
	const out: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(options)) {
		if (KNOWN.has(name)) {
			out[name] = value;
			continue;
		}
		if (name === "maxDelay") continue;
		if (name === "maxRetries") {
			checkMaxRetries(value);
			continue;
		}
		throw new TypeError(
			`flagd web provider: unknown option "${name}"; the options are ${WEB_OPTION_NAMES.join(", ")}`,
		);
	}
	const maxDelay = (options as PeerOptionNames).maxDelay;
	if (maxDelay !== undefined) {
		out.retryBackoffMaxMs = mapMaxDelay(maxDelay, out.retryBackoffMaxMs);
	}
	return out as T;
}

function mapMaxDelay(value: unknown, retryBackoffMaxMs: unknown): unknown {
	const check = BACKOFF_MAX_SPEC
		? checkOptionValue(BACKOFF_MAX_SPEC, value)
		: ({ ok: true, value } as const);
	if (!check.ok) {
		const ErrorType = typeof value === "number" ? RangeError : TypeError;
		throw new ErrorType(
			`flagd web provider option "maxDelay" (@openfeature/flagd-web-provider's name for "retryBackoffMaxMs"): ${check.problem}`,
		);
	}
	if (retryBackoffMaxMs !== undefined && retryBackoffMaxMs !== value) {
		throw new RangeError(
			`flagd web provider options "maxDelay" (${String(value)}) and "retryBackoffMaxMs" (${String(retryBackoffMaxMs)}) set the same thing differently; keep "retryBackoffMaxMs"`,
		);
	}
	return value;
}

function checkMaxRetries(value: unknown): void {
	if (value === undefined || value === 0) return;
	throw new RangeError(
		`flagd web provider option "maxRetries" (from @openfeature/flagd-web-provider) is not supported, got ${JSON.stringify(value)}: this provider reconnects until it is closed (as maxRetries 0 did) and reports ERROR after "retryGracePeriod" seconds; remove the option`,
	);
}
