/**
 * Exponential reconnect backoff with a cap and full jitter (C28). Reconnect loops call `nextDelayMs()` before each
 * retry and `reset()` once a connection proved healthy, so a flapping upstream is not hammered while a short blip
 * reconnects quickly.
 */
export interface BackoffOptions {
	/** First delay. @default 1000 ms */
	readonly initialDelayMs?: number;
	/** Upper bound of any delay. @default 60000 ms (flagd's fixed retry after its 4/16/64 s steps) */
	readonly maxDelayMs?: number;
	/** Growth factor per attempt. @default 2 */
	readonly multiplier?: number;
	/** Fraction of the delay that is randomised (0 = none, 1 = full jitter). @default 0.5 */
	readonly jitter?: number;
	/** Random source in [0, 1); a test seam. @default Math.random */
	readonly random?: () => number;
}

export interface BackoffConfig {
	readonly initialDelayMs: number;
	readonly maxDelayMs: number;
	readonly multiplier: number;
	readonly jitter: number;
	readonly random: () => number;
}

export function resolveBackoffOptions(
	options: BackoffOptions = {},
): BackoffConfig {
	const config: BackoffConfig = {
		initialDelayMs: options.initialDelayMs ?? 1000,
		maxDelayMs: options.maxDelayMs ?? 60_000,
		multiplier: options.multiplier ?? 2,
		jitter: options.jitter ?? 0.5,
		random: options.random ?? Math.random,
	};
	if (!(config.initialDelayMs >= 0))
		throw new RangeError("backoff initialDelayMs must be >= 0");
	if (!(config.maxDelayMs >= config.initialDelayMs))
		throw new RangeError("backoff maxDelayMs must be >= initialDelayMs");
	if (!(config.multiplier >= 1))
		throw new RangeError("backoff multiplier must be >= 1");
	if (!(config.jitter >= 0 && config.jitter <= 1))
		throw new RangeError("backoff jitter must be within [0, 1]");
	return config;
}

export class Backoff {
	private readonly config: BackoffConfig;
	private attempt = 0;

	constructor(options: BackoffOptions = {}) {
		this.config = resolveBackoffOptions(options);
	}

	/** The delay before the next retry; each call counts as one more failed attempt. */
	nextDelayMs(): number {
		const { initialDelayMs, maxDelayMs, multiplier, jitter, random } =
			this.config;
		const base = Math.min(
			maxDelayMs,
			initialDelayMs * multiplier ** Math.min(this.attempt, 64),
		);
		this.attempt += 1;
		// Jitter only ever shortens the delay, so the cap stays a hard upper bound.
		return Math.round(base * (1 - jitter * random()));
	}

	/** Back to the initial delay (after a healthy connection). */
	reset(): void {
		this.attempt = 0;
	}

	/** Failed attempts since the last reset. */
	get attempts(): number {
		return this.attempt;
	}
}
