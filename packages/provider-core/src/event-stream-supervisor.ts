import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode, GeneralError, ProviderFatalError } from "@openfeature/core";
import { Backoff } from "./backoff.js";
import type {
	ConnectionState,
	EventStreamSupervisorOptions,
	StreamMessage,
	SupervisorEventDetails,
} from "./event-stream-supervisor-options.js";
import { sleep } from "./sleep.js";

export type {
	ConnectionState,
	EventStreamSupervisorOptions,
	StreamMessage,
	SupervisorEventDetails,
	SupervisorEventName,
	SupervisorHandlers,
} from "./event-stream-supervisor-options.js";

type AttemptOutcome =
	| { readonly kind: "ended" }
	| {
			readonly kind: "failed";
			readonly error: ConnectError;
			readonly handshakeTimedOut: boolean;
	  }
	| { readonly kind: "recycle" }
	| { readonly kind: "closed" };

/**
 * Keeps flagd's EventStream open and turns what happens on it into one explicit {@link ConnectionState}; the Node
 * and the web provider both run on it:
 *
 *   connecting → ready (initialize resolves) | error (no connection within deadlineMs: initialize rejects,
 *   retries go on) | fatal (a fatal status before the first connection: initialize rejects, retries stop);
 *   ready → stale on any loss, including a stream that ends cleanly or falls silent; stale → error after the
 *   grace period; stale/error → ready on reconnect, which purges the cache and emits READY then
 *   CONFIGURATION_CHANGED.
 *
 * "Connected" means `provider_ready` arrived and the `synchronize` handler (if any) succeeded. One async loop does
 * the connecting; {@link transition} is the only code that changes the state, and it sets the cache mode and
 * emits the event that goes with it. Events are not emitted while `initialize` is pending: the SDK emits
 * READY/ERROR for the initialize outcome itself (legacy contract, openfeature-spec.md §1.4).
 */
export class EventStreamSupervisor {
	private readonly options: EventStreamSupervisorOptions;
	private readonly logName: string;
	private readonly controller = new AbortController();
	private readonly backoff: Backoff;
	private current: ConnectionState = "connecting";
	private initSettled = false;
	private everReady = false;
	private lastError: ConnectError | undefined;
	private graceTimer: ReturnType<typeof setTimeout> | undefined;
	private attemptController: AbortController | undefined;
	private loop: Promise<void> | undefined;
	private settleInit: ((error?: Error) => void) | undefined;

	constructor(options: EventStreamSupervisorOptions) {
		this.options = options;
		this.logName = options.logName ?? "flagd provider";
		this.backoff = new Backoff({
			initialDelayMs: options.retryBackoffMs,
			maxDelayMs: options.retryBackoffMaxMs,
			random: options.random,
		});
	}

	/** Current connection state. */
	get state(): ConnectionState {
		return this.current;
	}

	/**
	 * Starts the loop. Resolves on the first connection; rejects with `ProviderFatalError` on a fatal status
	 * or with `GeneralError` when no connection was made within `deadlineMs` (retries continue in the background
	 * and a later connection emits READY). Call once.
	 */
	start(): Promise<void> {
		if (this.loop !== undefined)
			throw new Error("EventStreamSupervisor.start() called twice");
		const init = new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				const cause = this.lastError ? `: ${this.lastError.message}` : "";
				this.transition("error", {});
				this.settleInit?.(
					new GeneralError(
						`flagd: no connection within deadlineMs=${this.options.deadlineMs}${cause}; retrying in the background`,
					),
				);
			}, this.options.deadlineMs);
			this.settleInit = (error) => {
				clearTimeout(timer);
				this.settleInit = undefined;
				this.initSettled = true;
				if (error) reject(error);
				else resolve();
			};
		});
		this.loop = this.run().catch((err: unknown) => {
			// The loop handles every expected failure itself; reaching this is a bug, and it must not go unseen.
			this.options.logger.error(
				`${this.logName}: event stream loop crashed`,
				err,
			);
			this.transition("error", {
				message: String(err),
				errorCode: ErrorCode.GENERAL,
			});
		});
		return init;
	}

	/**
	 * Drops the current stream and connects again, for a caller that found what the connection gave it unusable
	 * (the web provider when the flags for a new context cannot be loaded). The state becomes error without an
	 * event, as the caller reports that failure itself; the next connection emits READY as usual.
	 */
	reconnect(reason: Error): void {
		if (this.controller.signal.aborted) return;
		this.transition("error", {}, false);
		this.attemptController?.abort(reason);
	}

	/** Stops the loop, closes the stream and clears every timer. Idempotent; resolves once the loop has exited. */
	async close(): Promise<void> {
		this.controller.abort();
		clearTimeout(this.graceTimer);
		this.settleInit?.(
			new GeneralError(`${this.logName} was closed before it became ready`),
		);
		await this.loop;
	}

	private async run(): Promise<void> {
		const signal = this.controller.signal;
		while (!signal.aborted) {
			const outcome = await this.attempt();
			if (outcome.kind === "closed" || signal.aborted) return;
			if (outcome.kind === "recycle") {
				this.options.logger.debug(
					`${this.logName}: re-opening the event stream (streamDeadlineMs)`,
				);
				continue;
			}
			if (outcome.kind === "failed" && this.isFatal(outcome.error)) {
				this.failFatally(outcome.error);
				return;
			}
			if (outcome.kind === "failed" && outcome.handshakeTimedOut) {
				this.options.logger.info(
					`${this.logName}: no answer on the connection; dropping it before retrying`,
				);
				this.options.handlers.resetConnection?.();
			}
			const why = this.onConnectionLost(outcome);
			const delayMs = this.backoff.nextDelayMs();
			this.options.logger.warn(
				`${this.logName}: event stream lost (${why}); reconnecting in ${delayMs} ms`,
			);
			await sleep(delayMs, signal);
		}
	}

	/** One EventStream call from open to end. */
	private async attempt(): Promise<AttemptOutcome> {
		const attempt = new AbortController();
		this.attemptController = attempt;
		const stop = (): void => attempt.abort();
		this.controller.signal.addEventListener("abort", stop, { once: true });
		const { deadlineMs, streamDeadlineMs } = this.options;
		const idleMs = this.options.streamIdleTimeoutMs ?? 0;
		const { synchronize } = this.options.handlers;
		let recycle = false;
		let handshakeTimedOut = false;
		let streamTimer: ReturnType<typeof setTimeout> | undefined;
		let idleTimer: ReturnType<typeof setTimeout> | undefined;
		const handshakeTimer = setTimeout(() => {
			handshakeTimedOut = true;
			attempt.abort(
				new ConnectError(
					`no provider_ready within deadlineMs=${deadlineMs}`,
					Code.DeadlineExceeded,
				),
			);
		}, deadlineMs);
		try {
			for await (const message of this.options.openStream(attempt.signal)) {
				clearTimeout(idleTimer);
				if (message.type === "provider_ready") {
					const changed = synchronize
						? await synchronize(attempt.signal)
						: undefined;
					clearTimeout(handshakeTimer);
					if (streamDeadlineMs > 0 && streamTimer === undefined) {
						// Re-opening before a proxy's maximum stream duration avoids a STALE/READY flap when it cuts.
						streamTimer = setTimeout(() => {
							recycle = true;
							this.options.cache?.setMode("read-only");
							attempt.abort();
						}, streamDeadlineMs);
					}
					this.onReady(changed);
				} else {
					await this.onMessage(message, attempt.signal);
				}
				if (idleMs > 0) {
					idleTimer = setTimeout(() => {
						attempt.abort(
							new ConnectError(
								`no message from flagd within streamIdleTimeoutMs=${idleMs}`,
								Code.DeadlineExceeded,
							),
						);
					}, idleMs);
				}
			}
			if (this.controller.signal.aborted) return { kind: "closed" };
			return recycle ? { kind: "recycle" } : { kind: "ended" };
		} catch (err: unknown) {
			if (this.controller.signal.aborted) return { kind: "closed" };
			if (recycle) return { kind: "recycle" };
			const reason: unknown = attempt.signal.aborted
				? attempt.signal.reason
				: err;
			return {
				kind: "failed",
				error: ConnectError.from(reason),
				handshakeTimedOut,
			};
		} finally {
			clearTimeout(handshakeTimer);
			clearTimeout(streamTimer);
			clearTimeout(idleTimer);
			this.controller.signal.removeEventListener("abort", stop);
			attempt.abort();
			if (this.attemptController === attempt)
				this.attemptController = undefined;
		}
	}

	/** Messages other than provider_ready. keep_alive and types added by newer daemons need nothing. */
	private async onMessage(
		message: StreamMessage,
		signal: AbortSignal,
	): Promise<void> {
		if (message.type === "provider_shutdown") {
			this.options.logger.info(`${this.logName}: flagd announced a shutdown`);
			return;
		}
		if (message.type !== "configuration_change") return;
		const flags = message.data?.flags;
		const keys =
			flags !== null && typeof flags === "object" && !Array.isArray(flags)
				? Object.keys(flags)
				: [];
		const { configurationChanged } = this.options.handlers;
		if (configurationChanged) await configurationChanged(keys, signal);
		this.options.cache?.invalidate(keys);
		if (this.current === "ready" && this.initSettled) {
			this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
				flagsChanged: keys,
			});
		}
	}

	/**
	 * Connected. `changed`: the keys `synchronize` found changed, or undefined when there is no such handler;
	 * then a reconnect can only say that flags may have changed.
	 */
	private onReady(changed: readonly string[] | undefined): void {
		this.backoff.reset();
		this.lastError = undefined;
		clearTimeout(this.graceTimer);
		this.graceTimer = undefined;
		// Changes may have been missed while the stream was down: nothing cached before now can be trusted.
		this.options.cache?.purge();
		const previous = this.current;
		const wasReady = this.everReady;
		this.everReady = true;
		const emit = this.options.handlers.emit;
		if (previous === "ready") {
			// A recycled stream (streamDeadlineMs): still ready, but a change in the gap must not go unannounced.
			this.options.cache?.setMode("read-write");
			if (!this.initSettled) return;
			if (changed === undefined) {
				emit("PROVIDER_CONFIGURATION_CHANGED", {
					message: "event stream re-opened; flags may have changed",
				});
			} else if (changed.length > 0) {
				emit("PROVIDER_CONFIGURATION_CHANGED", { flagsChanged: [...changed] });
			}
			return;
		}
		this.transition("ready", { message: "connected to flagd" });
		if (!this.initSettled) {
			this.settleInit?.();
		} else if (changed !== undefined) {
			emit("PROVIDER_CONFIGURATION_CHANGED", {
				message: "reconnected to flagd",
				flagsChanged: [...changed],
			});
		} else if (wasReady) {
			emit("PROVIDER_CONFIGURATION_CHANGED", {
				message:
					"reconnected to flagd; flags may have changed while disconnected",
			});
		}
	}

	/** Records the loss, goes STALE if it was READY (ERROR after the grace period); returns why, for the log. */
	private onConnectionLost(outcome: AttemptOutcome): string {
		const error = outcome.kind === "failed" ? outcome.error : undefined;
		this.lastError = error;
		const why = error ? error.message : "stream ended by the server";
		if (this.current !== "ready") return why;
		this.transition("stale", { message: `event stream lost: ${why}` });
		const graceMs = this.options.retryGracePeriodMs;
		this.graceTimer = setTimeout(() => {
			this.graceTimer = undefined;
			if (this.current !== "stale") return;
			this.options.logger.warn(
				`${this.logName}: not reconnected within the grace period (${graceMs} ms)`,
			);
			this.transition("error", {
				message: `not reconnected within ${graceMs} ms: ${why}`,
				errorCode: ErrorCode.GENERAL,
			});
		}, graceMs);
		return why;
	}

	private isFatal(error: ConnectError): boolean {
		return !this.everReady && this.options.fatalCodes.has(error.code);
	}

	private failFatally(error: ConnectError): void {
		const message = `flagd answered ${Code[error.code]} (configured as fatal): ${error.rawMessage}`;
		this.options.logger.error(`${this.logName}: ${message}; giving up`);
		this.transition("fatal", { message, errorCode: ErrorCode.PROVIDER_FATAL });
		this.settleInit?.(new ProviderFatalError(message, { cause: error }));
	}

	/**
	 * The single place the state changes: sets the cache mode and emits the matching event (unless `emit` is
	 * false: the caller reports the change itself).
	 */
	private transition(
		next: ConnectionState,
		details: SupervisorEventDetails,
		emit = true,
	): void {
		if (this.controller.signal.aborted || next === this.current) return;
		this.current = next;
		const cache = this.options.cache;
		if (next === "ready") cache?.setMode("read-write");
		else if (next === "stale") cache?.setMode("read-only");
		else cache?.setMode("off");
		// While initialize() is pending the SDK reports its outcome; emitting too would duplicate READY/ERROR.
		if (!this.initSettled || !emit) return;
		switch (next) {
			case "ready":
				this.options.handlers.emit("PROVIDER_READY", details);
				return;
			case "stale":
				this.options.handlers.emit("PROVIDER_STALE", details);
				return;
			case "error":
			case "fatal":
				this.options.handlers.emit("PROVIDER_ERROR", details);
				return;
			case "connecting":
				return;
		}
	}
}
