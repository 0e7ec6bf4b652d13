/** Settings of an exponential backoff. */
export interface BackoffOptions {
	/** First delay, in milliseconds. */
	initialDelayMs: number;
	/** Upper bound of any delay, in milliseconds (applied after jitter). */
	maxDelayMs: number;
	/** Factor applied per attempt. @default 2 */
	multiplier?: number;
	/** Random source in [0, 1); a test seam. @default Math.random */
	random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": attempt n waits a random time in [d/2, d] where
 * d = min(maxDelayMs, initialDelayMs * multiplier^n). Half of the delay is fixed so a reconnect storm never
 * degenerates to zero waits; the random half spreads many clients apart. `reset()` after a success starts
 * over at the initial delay.
 */
export class Backoff {
	private readonly initialDelayMs: number;
	private readonly maxDelayMs: number;
	private readonly multiplier: number;
	private readonly random: () => number;
	private attempt = 0;

	constructor(options: BackoffOptions) {
		if (!(options.initialDelayMs > 0) || !(options.maxDelayMs > 0)) {
			throw new RangeError(
				`backoff delays must be > 0 ms, got initialDelayMs=${options.initialDelayMs} maxDelayMs=${options.maxDelayMs}`,
			);
		}
		this.initialDelayMs = options.initialDelayMs;
		this.maxDelayMs = options.maxDelayMs;
		this.multiplier = options.multiplier ?? 2;
		this.random = options.random ?? Math.random;
	}

	/** The delay before the next attempt, in milliseconds; advances the attempt counter. */
	nextDelayMs(): number {
		const exponential =
			this.initialDelayMs * this.multiplier ** Math.min(this.attempt, 64);
		const ceiling = Math.min(this.maxDelayMs, exponential);
		this.attempt += 1;
		const jittered = ceiling / 2 + (ceiling / 2) * this.random();
		return Math.min(this.maxDelayMs, Math.round(jittered));
	}

	/** Number of delays handed out since the last reset. */
	get attempts(): number {
		return this.attempt;
	}

	/** Starts over at the initial delay (call after a successful connection). */
	reset(): void {
		this.attempt = 0;
	}
}
