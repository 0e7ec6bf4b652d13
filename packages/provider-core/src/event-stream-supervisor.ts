import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
	ErrorCode,
	GeneralError,
	type Logger,
	ProviderFatalError,
} from "@openfeature/core";
import { Backoff } from "./backoff.js";
import type { ResultCache } from "./result-cache.js";
import { sleep } from "./sleep.js";

/** Connection state of a provider; the only place its lifecycle lives. */
export type ConnectionState =
	| "connecting"
	| "ready"
	| "stale"
	| "error"
	| "fatal";

/** OpenFeature event names the supervisor emits (same strings in the server and web SDKs). */
export type SupervisorEventName =
	| "PROVIDER_READY"
	| "PROVIDER_ERROR"
	| "PROVIDER_STALE"
	| "PROVIDER_CONFIGURATION_CHANGED";

/** Details passed with an emitted event. */
export interface SupervisorEventDetails {
	readonly message?: string;
	readonly errorCode?: ErrorCode;
	readonly flagsChanged?: string[];
}

/** One message of flagd's EventStream (v1 and v2 share the shape). */
export interface StreamMessage {
	readonly type: string;
	readonly data?: JsonObject | undefined;
}

/** Callbacks of the supervisor, passed as one named object. */
export interface SupervisorHandlers {
	/** Emits an OpenFeature provider event. */
	emit(event: SupervisorEventName, details: SupervisorEventDetails): void;
	/**
	 * Drops the transport's connections. Called when an attempt got no `provider_ready` within `deadlineMs`:
	 * the connection may be black-holed (a stalled proxy, a dead peer without RST), and HTTP/2 would otherwise
	 * keep multiplexing new attempts onto it forever.
	 */
	resetConnection?(): void;
}

/** Options of {@link EventStreamSupervisor}. */
export interface EventStreamSupervisorOptions {
	/** Opens one EventStream call; aborting the signal must end it. */
	openStream: (signal: AbortSignal) => AsyncIterable<StreamMessage>;
	/** Time allowed for initialization and for each attempt to receive `provider_ready`, in ms. */
	deadlineMs: number;
	/** Lifetime of one stream before it is re-opened, in ms; 0 = unlimited. */
	streamDeadlineMs: number;
	retryBackoffMs: number;
	retryBackoffMaxMs: number;
	/** Time in STALE before ERROR, in ms. */
	retryGracePeriodMs: number;
	/** Status codes that are fatal while the provider has never been connected. */
	fatalCodes: ReadonlySet<Code>;
	/** Cache whose mode follows the state; optional. */
	cache?: ResultCache | undefined;
	handlers: SupervisorHandlers;
	logger: Logger;
	/** Random source for backoff jitter; a test seam. */
	random?: () => number;
}

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
 * Keeps flagd's EventStream open and turns what happens on it into one explicit {@link ConnectionState}:
 *
 *   connecting → ready (initialize resolves) | error (no connection within deadlineMs: initialize rejects,
 *   retries go on) | fatal (a fatal status before the first connection: initialize rejects, retries stop);
 *   ready → stale on any loss, including a stream that ends cleanly; stale → error after the grace period;
 *   stale/error → ready on reconnect, which purges the cache and emits READY then CONFIGURATION_CHANGED.
 *
 * One async loop does the connecting; {@link transition} is the only code that changes the state, and it sets
 * the cache mode and emits the event that goes with it. Events are not emitted while `initialize` is pending:
 * the SDK emits READY/ERROR for the initialize outcome itself (legacy contract, openfeature-spec.md §1.4).
 */
export class EventStreamSupervisor {
	private readonly options: EventStreamSupervisorOptions;
	private readonly controller = new AbortController();
	private readonly backoff: Backoff;
	private current: ConnectionState = "connecting";
	private initSettled = false;
	private everReady = false;
	private lastError: ConnectError | undefined;
	private graceTimer: ReturnType<typeof setTimeout> | undefined;
	private loop: Promise<void> | undefined;
	private settleInit: ((error?: Error) => void) | undefined;

	constructor(options: EventStreamSupervisorOptions) {
		this.options = options;
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
	 * Starts the loop. Resolves on the first `provider_ready`; rejects with `ProviderFatalError` on a fatal status
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
				"flagd provider: event stream loop crashed",
				err,
			);
			this.transition("error", {
				message: String(err),
				errorCode: ErrorCode.GENERAL,
			});
		});
		return init;
	}

	/** Stops the loop, closes the stream and clears every timer. Idempotent; resolves once the loop has exited. */
	async close(): Promise<void> {
		this.controller.abort();
		clearTimeout(this.graceTimer);
		this.settleInit?.(
			new GeneralError("flagd provider was closed before it became ready"),
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
					"flagd provider: re-opening the event stream (streamDeadlineMs)",
				);
				continue;
			}
			if (outcome.kind === "failed" && this.isFatal(outcome.error)) {
				this.failFatally(outcome.error);
				return;
			}
			if (outcome.kind === "failed" && outcome.handshakeTimedOut) {
				this.options.logger.info(
					"flagd provider: no answer on the connection; dropping it before retrying",
				);
				this.options.handlers.resetConnection?.();
			}
			this.onConnectionLost(outcome);
			const delayMs = this.backoff.nextDelayMs();
			this.options.logger.info(
				`flagd provider: reconnecting the event stream in ${delayMs} ms`,
			);
			await sleep(delayMs, signal);
		}
	}

	/** One EventStream call from open to end. */
	private async attempt(): Promise<AttemptOutcome> {
		const attempt = new AbortController();
		const stop = (): void => attempt.abort();
		this.controller.signal.addEventListener("abort", stop, { once: true });
		let recycle = false;
		let handshakeTimedOut = false;
		let streamTimer: ReturnType<typeof setTimeout> | undefined;
		const handshakeTimer = setTimeout(() => {
			handshakeTimedOut = true;
			attempt.abort(
				new ConnectError(
					`no provider_ready within deadlineMs=${this.options.deadlineMs}`,
					Code.DeadlineExceeded,
				),
			);
		}, this.options.deadlineMs);
		try {
			for await (const message of this.options.openStream(attempt.signal)) {
				if (message.type === "provider_ready") {
					clearTimeout(handshakeTimer);
					if (this.options.streamDeadlineMs > 0 && streamTimer === undefined) {
						streamTimer = setTimeout(() => {
							recycle = true;
							this.options.cache?.setMode("read-only");
							attempt.abort();
						}, this.options.streamDeadlineMs);
					}
				}
				this.onMessage(message);
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
			this.controller.signal.removeEventListener("abort", stop);
			attempt.abort();
		}
	}

	private onMessage(message: StreamMessage): void {
		switch (message.type) {
			case "provider_ready":
				this.onReady();
				return;
			case "configuration_change": {
				const flags = message.data?.flags;
				const keys =
					flags !== null && typeof flags === "object" && !Array.isArray(flags)
						? Object.keys(flags)
						: [];
				this.options.cache?.invalidate(keys);
				if (this.current === "ready" && this.initSettled) {
					this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
						flagsChanged: keys,
					});
				}
				return;
			}
			case "provider_shutdown":
				this.options.logger.info("flagd provider: daemon announced shutdown");
				return;
			default:
				// keep_alive and types added by newer daemons need no action.
				return;
		}
	}

	private onReady(): void {
		this.backoff.reset();
		this.lastError = undefined;
		clearTimeout(this.graceTimer);
		this.graceTimer = undefined;
		// Changes may have been missed while the stream was down: nothing cached before now can be trusted.
		this.options.cache?.purge();
		const previous = this.current;
		const wasReady = this.everReady;
		this.everReady = true;
		if (previous === "ready") {
			// A recycled stream (streamDeadlineMs): still ready, but changes in the gap may be unseen.
			this.options.cache?.setMode("read-write");
			if (this.initSettled) {
				this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
					message: "event stream re-opened; flags may have changed",
				});
			}
			return;
		}
		this.transition("ready", { message: "connected to flagd" });
		if (this.initSettled && wasReady) {
			this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
				message:
					"reconnected to flagd; flags may have changed while disconnected",
			});
		}
		if (!this.initSettled) this.settleInit?.();
	}

	private onConnectionLost(outcome: AttemptOutcome): void {
		const error = outcome.kind === "failed" ? outcome.error : undefined;
		this.lastError = error;
		const why = error
			? `${Code[error.code]}: ${error.rawMessage}`
			: "stream ended by the server";
		if (this.current !== "ready") {
			this.options.logger.info(
				`flagd provider: connection attempt failed (${why})`,
			);
			return;
		}
		this.options.logger.warn(
			`flagd provider: event stream lost (${why}); serving cached values while reconnecting`,
		);
		this.transition("stale", { message: `event stream lost: ${why}` });
		this.graceTimer = setTimeout(() => {
			this.graceTimer = undefined;
			if (this.current !== "stale") return;
			this.options.logger.warn(
				`flagd provider: not reconnected within the grace period (${this.options.retryGracePeriodMs} ms)`,
			);
			this.transition("error", {
				message: `not reconnected within ${this.options.retryGracePeriodMs} ms: ${why}`,
				errorCode: ErrorCode.GENERAL,
			});
		}, this.options.retryGracePeriodMs);
	}

	private isFatal(error: ConnectError): boolean {
		return !this.everReady && this.options.fatalCodes.has(error.code);
	}

	private failFatally(error: ConnectError): void {
		const message = `flagd answered ${Code[error.code]} (configured as fatal): ${error.rawMessage}`;
		this.options.logger.error(`flagd provider: ${message}; giving up`);
		this.transition("fatal", { message, errorCode: ErrorCode.PROVIDER_FATAL });
		this.settleInit?.(new ProviderFatalError(message, { cause: error }));
	}

	/** The single place the state changes: sets the cache mode and emits the matching event. */
	private transition(
		next: ConnectionState,
		details: SupervisorEventDetails,
	): void {
		if (this.controller.signal.aborted || next === this.current) return;
		this.current = next;
		const cache = this.options.cache;
		if (next === "ready") cache?.setMode("read-write");
		else if (next === "stale") cache?.setMode("read-only");
		else cache?.setMode("off");
		// While initialize() is pending the SDK reports its outcome; emitting too would duplicate READY/ERROR.
		if (!this.initSettled) return;
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
