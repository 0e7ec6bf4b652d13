import { Backoff } from "@flagd-ts/provider-core";
import {
	type Logger,
	type OpenFeatureEventEmitter,
	ProviderEvents,
} from "@openfeature/web-sdk";
import { OfrepRequestError } from "./ofrep-bulk-client.js";

export interface OfrepProviderHealthOptions {
	readonly events: OpenFeatureEventEmitter;
	/** Seconds STALE may last before ERROR is emitted. */
	readonly retryGracePeriodSec: number;
	readonly logger: Logger | undefined;
	/** Re-fetches; called when a scheduled retry is due. */
	readonly retry: () => void;
}

/**
 * The OFREP web provider's STALE / ERROR / READY transitions and its retry schedule: STALE while the event stream
 * is down or re-fetches fail, ERROR once that lasts the grace period (or at once for a fatal answer), READY when a
 * request succeeds again; retries back off from 1 s to 60 s and honour Retry-After.
 */
export class OfrepProviderHealth {
	readonly #options: OfrepProviderHealthOptions;
	readonly #backoff = new Backoff({ initialDelayMs: 1000, maxDelayMs: 60_000 });
	#stale = false;
	#errored = false;
	#graceTimer: ReturnType<typeof setTimeout> | undefined;
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#closed = false;

	constructor(options: OfrepProviderHealthOptions) {
		this.#options = options;
	}

	/** A request was answered: the next failure's retry starts from the shortest delay again. */
	answered(): void {
		this.#backoff.reset();
	}

	/** The SDK reports ERROR for a failed initialization or context change; READY follows recovery. */
	markErrored(): void {
		this.#errored = true;
	}

	/** A re-fetch failed: ERROR for a fatal answer, else STALE and a retry. */
	failed(e: unknown): void {
		if (this.#closed) return;
		const message = e instanceof Error ? e.message : String(e);
		this.#options.logger?.warn(`OFREP web provider: ${message}`);
		if (e instanceof OfrepRequestError && e.fatal) {
			this.#errored = true;
			this.#options.events.emit(ProviderEvents.Error, { message });
			return;
		}
		this.markStale(message);
		this.scheduleRetry(
			e instanceof OfrepRequestError ? e.retryAfterMs : undefined,
		);
	}

	/** One retry after the next backoff delay (at least `atLeastMs`); a pending one stands. */
	scheduleRetry(atLeastMs: number | undefined): void {
		if (this.#closed || this.#retryTimer !== undefined) return;
		const delayMs = Math.max(this.#backoff.nextDelayMs(), atLeastMs ?? 0);
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = undefined;
			this.#options.retry();
		}, delayMs);
	}

	markStale(message: string): void {
		if (this.#closed || this.#stale) return;
		this.#stale = true;
		const { events, retryGracePeriodSec } = this.#options;
		events.emit(ProviderEvents.Stale, { message });
		this.#graceTimer = setTimeout(() => {
			this.#graceTimer = undefined;
			if (!this.#stale || this.#closed) return;
			this.#errored = true;
			events.emit(ProviderEvents.Error, {
				message: `${message} for ${retryGracePeriodSec} s`,
			});
		}, retryGracePeriodSec * 1000);
	}

	/** A request succeeded: leaves STALE/ERROR with READY. */
	recovered(): void {
		clearTimeout(this.#graceTimer);
		this.#graceTimer = undefined;
		clearTimeout(this.#retryTimer);
		this.#retryTimer = undefined;
		if (!this.#stale && !this.#errored) return;
		this.#stale = false;
		this.#errored = false;
		this.#options.events.emit(ProviderEvents.Ready, {
			message: "flags re-evaluated",
		});
	}

	close(): void {
		this.#closed = true;
		clearTimeout(this.#graceTimer);
		clearTimeout(this.#retryTimer);
	}
}
