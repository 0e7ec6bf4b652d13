/**
 * Lifts the `flagd` command's young-generation cap (young-generation.ts) while the daemon serves many requests, and
 * puts it back when the rate falls.
 *
 * The cap keeps an idle or lightly used daemon small, but under sustained load it is the largest single cost of an
 * HTTP/2 call: each one allocates ~15 KB (three quarters of it Node's own stream and header objects), so 1 MiB
 * semi-spaces scavenge every few hundred requests and each scavenge copies the streams in flight (measured in
 * docs/performance.md: ~9 µs per request, Connect over h2c 54 % of a bare node:http2 server capped against 73 %
 * uncapped). After `sustainIntervals` readings at or above `liftAtRequestsPerSec` the governor sets V8's growth
 * factor back to its default, so the semi-spaces grow as V8 sees fit (up to 16 MiB each); after `settleIntervals`
 * readings below half that rate it sets the cap's factor again. The cap stops growth, it does not shrink: V8 gives
 * the grown semi-spaces back by itself once the process allocates little (its memory reducer; measured in Node 20:
 * within 10-30 s below ~200 requests per second, while a steady ~1,000 per second keeps them).
 *
 * The rate is read from the daemon's count of answered requests once per `intervalMs` by an unref'd timer: nothing
 * is added to a request's path. Flag document loads and large ResolveAll answers, which made the cap worth having,
 * are few requests and never lift it; event streams count when they end, so thousands of subscribers connecting
 * do not either.
 */
import { setFlagsFromString } from "node:v8";
import { type Logger, silentLogger } from "../logging/logger.js";
import {
	isYoungGenerationCapped,
	YOUNG_GENERATION_FLAG,
	YOUNG_GENERATION_LIFTED_FLAG,
} from "./young-generation.js";

export interface YoungGenerationGovernorOptions {
	/** Requests answered since start (monotonic): RunningDaemon.requestCount. */
	readonly requestCount: () => number;
	/** Request rate from which the young generation may grow. @default 2_000 */
	readonly liftAtRequestsPerSec?: number;
	/** How often the rate is read. @default 500 */
	readonly intervalMs?: number;
	/** Consecutive readings at or over the lift rate before the cap lifts (sustained load, not a burst). @default 2 */
	readonly sustainIntervals?: number;
	/** Readings below half the lift rate before the cap returns. @default 10 */
	readonly settleIntervals?: number;
	readonly logger?: Logger;
	/** Applies a V8 flag (tests pass a recorder). @default v8.setFlagsFromString */
	readonly setFlags?: (flag: string) => void;
	/** Monotonic clock in ms (tests pass their own). @default performance.now */
	readonly now?: () => number;
}

/** Resolved {@link YoungGenerationGovernorOptions}. */
export interface YoungGenerationGovernorConfig {
	readonly liftAtRequestsPerSec: number;
	readonly intervalMs: number;
	readonly sustainIntervals: number;
	readonly settleIntervals: number;
}

export function resolveYoungGenerationGovernorConfig(
	options: YoungGenerationGovernorOptions,
): YoungGenerationGovernorConfig {
	const config = {
		liftAtRequestsPerSec: options.liftAtRequestsPerSec ?? 2_000,
		intervalMs: options.intervalMs ?? 500,
		sustainIntervals: options.sustainIntervals ?? 2,
		settleIntervals: options.settleIntervals ?? 10,
	};
	for (const [name, value] of Object.entries(config)) {
		if (!Number.isFinite(value) || value <= 0)
			throw new RangeError(`${name} must be a positive number, got ${value}`);
	}
	return config;
}

/** See the file comment. Starts reading at construction; stop() ends it and leaves the cap as it finds it. */
export class YoungGenerationGovernor {
	readonly config: YoungGenerationGovernorConfig;
	readonly #options: YoungGenerationGovernorOptions;
	readonly #setFlags: (flag: string) => void;
	readonly #now: () => number;
	readonly #logger: Logger;
	readonly #timer: ReturnType<typeof setInterval>;
	#lifted = false;
	#busyReadings = 0;
	#quietReadings = 0;
	#lastCount: number;
	#lastAt: number;

	constructor(options: YoungGenerationGovernorOptions) {
		this.config = resolveYoungGenerationGovernorConfig(options);
		this.#options = options;
		this.#setFlags = options.setFlags ?? setFlagsFromString;
		this.#now = options.now ?? (() => performance.now());
		this.#logger = options.logger ?? silentLogger;
		this.#lastCount = options.requestCount();
		this.#lastAt = this.#now();
		this.#timer = setInterval(() => this.read(), this.config.intervalMs);
		// A timer of its own must never keep the process alive.
		this.#timer.unref();
	}

	/** Whether the young generation may grow now. */
	get lifted(): boolean {
		return this.#lifted;
	}

	/**
	 * Reads the rate since the previous reading and lifts or restores the cap. The timer calls it; tests call it
	 * with their own clock. The rate uses the time that really passed, so a late timer on a busy machine does not
	 * read as a burst.
	 */
	read(): void {
		const count = this.#options.requestCount();
		const at = this.#now();
		const elapsedMs = at - this.#lastAt;
		if (elapsedMs <= 0) return;
		const perSec = ((count - this.#lastCount) * 1000) / elapsedMs;
		this.#lastCount = count;
		this.#lastAt = at;
		const { liftAtRequestsPerSec, sustainIntervals, settleIntervals } =
			this.config;
		if (!this.#lifted) {
			if (perSec < liftAtRequestsPerSec) {
				this.#busyReadings = 0;
				return;
			}
			if (++this.#busyReadings < sustainIntervals) return;
			this.#busyReadings = 0;
			this.#setFlags(YOUNG_GENERATION_LIFTED_FLAG);
			this.#lifted = true;
			this.#quietReadings = 0;
			this.#logger.debug(
				{ requestsPerSec: Math.round(perSec) },
				"young generation may grow (request load)",
			);
			return;
		}
		if (perSec >= liftAtRequestsPerSec / 2) {
			this.#quietReadings = 0;
			return;
		}
		if (++this.#quietReadings < settleIntervals) return;
		this.#setFlags(YOUNG_GENERATION_FLAG);
		this.#lifted = false;
		this.#logger.debug(
			{ requestsPerSec: Math.round(perSec) },
			"young generation capped again (load fell)",
		);
	}

	/** Stops reading and restores the cap if it was lifted. */
	stop(): void {
		clearInterval(this.#timer);
		if (this.#lifted) {
			this.#setFlags(YOUNG_GENERATION_FLAG);
			this.#lifted = false;
		}
	}
}

/**
 * A governor for this process when it capped its young generation (capYoungGeneration() applied the flag), else
 * undefined: young-generation flags given by the operator, or the daemon embedded in an application, leave V8 alone.
 */
export function governYoungGeneration(
	options: YoungGenerationGovernorOptions,
): YoungGenerationGovernor | undefined {
	return isYoungGenerationCapped()
		? new YoungGenerationGovernor(options)
		: undefined;
}
