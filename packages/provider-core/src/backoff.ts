/** Settings of an exponential backoff. */
export interface BackoffOptions {
	/** First delay, in milliseconds. @default 1000 */
	readonly initialDelayMs?: number;
	/** Upper bound of any delay, in milliseconds (a hard cap, also below the initial delay). @default 60000 */
	readonly maxDelayMs?: number;
	/** Factor applied per attempt. @default 2 */
	readonly multiplier?: number;
	/**
	 * Fraction of each delay that is random: attempt n waits a time in [d·(1−jitter), d]. 0 = no jitter,
	 * 1 = full jitter. @default 0.5 ("equal jitter")
	 */
	readonly jitter?: number;
	/** Random source in [0, 1); a test seam. @default Math.random */
	readonly random?: () => number;
}

/**
 * Exponential reconnect backoff shared by every reconnect loop of the repository (the providers' event stream,
 * the daemon's grpc and kubernetes syncs). Attempt n waits a random time in [d·(1−jitter), d] where
 * d = min(maxDelayMs, initialDelayMs · multiplier^n). With the default jitter of 0.5 half of the delay is fixed,
 * so a reconnect storm never degenerates to zero waits, and the random half spreads many clients apart.
 * Jitter only ever shortens a delay, so `maxDelayMs` stays a hard upper bound. `reset()` after a healthy
 * connection starts over at the initial delay.
 */
export class Backoff {
	private readonly initialDelayMs: number;
	private readonly maxDelayMs: number;
	private readonly multiplier: number;
	private readonly jitter: number;
	private readonly random: () => number;
	private attempt = 0;

	constructor(options: BackoffOptions = {}) {
		this.initialDelayMs = options.initialDelayMs ?? 1000;
		this.maxDelayMs = options.maxDelayMs ?? 60_000;
		this.multiplier = options.multiplier ?? 2;
		this.jitter = options.jitter ?? 0.5;
		this.random = options.random ?? Math.random;
		if (!(this.initialDelayMs > 0) || !(this.maxDelayMs > 0)) {
			throw new RangeError(
				`backoff delays must be > 0 ms, got initialDelayMs=${this.initialDelayMs} maxDelayMs=${this.maxDelayMs}`,
			);
		}
		if (!(this.multiplier >= 1)) {
			throw new RangeError(
				`backoff multiplier must be >= 1, got ${this.multiplier}`,
			);
		}
		if (!(this.jitter >= 0 && this.jitter <= 1)) {
			throw new RangeError(
				`backoff jitter must be within [0, 1], got ${this.jitter}`,
			);
		}
	}

	/** The delay before the next attempt, in milliseconds; advances the attempt counter. */
	nextDelayMs(): number {
		const exponential =
			this.initialDelayMs * this.multiplier ** Math.min(this.attempt, 64);
		const ceiling = Math.min(this.maxDelayMs, exponential);
		this.attempt += 1;
		const fixed = ceiling * (1 - this.jitter);
		const jittered = fixed + (ceiling - fixed) * this.random();
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
