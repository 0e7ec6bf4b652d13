import { Backoff, sleep } from "@flagd-ts/provider-core";
import { ErrorCode, GeneralError } from "@openfeature/web-sdk";
import { FlagdWebError, toFlagdWebError } from "./errors.js";
import { FlagSnapshot } from "./flag-snapshot.js";
import type { FlagdWebProviderConfig } from "./flagd-web-provider-options.js";
import type {
	EventStreamMessage,
	FlagdWebTransport,
	JsonObject,
} from "./flagd-web-transport.js";

/** Connection state of the web provider; changed only in `transition`. */
export type ConnectionState = "connecting" | "ready" | "stale" | "error";

/** Provider events the connection emits (the web SDK's `ProviderEvents` strings). */
export type ConnectionEventName =
	| "PROVIDER_READY"
	| "PROVIDER_ERROR"
	| "PROVIDER_STALE"
	| "PROVIDER_CONFIGURATION_CHANGED";

/** Details of an emitted event. */
export type ConnectionEventDetails = {
	readonly message?: string;
	readonly errorCode?: ErrorCode;
	readonly flagsChanged?: string[];
};

/** Callbacks of the connection, as one named object. */
export interface ConnectionHandlers {
	emit(event: ConnectionEventName, details: ConnectionEventDetails): void;
}

/** Options of {@link FlagdWebConnection}. */
export interface FlagdWebConnectionOptions {
	readonly transport: FlagdWebTransport;
	readonly config: FlagdWebProviderConfig;
	/** The evaluation context of the provider's domain, already in Struct JSON form. */
	readonly context: JsonObject;
	readonly handlers: ConnectionHandlers;
	/** Random source of the backoff jitter; a test seam. @default Math.random */
	readonly random?: () => number;
}

/**
 * Keeps flagd's EventStream open and the flag snapshot current for one evaluation context:
 *
 *   connecting → ready: the stream said provider_ready and ResolveAll succeeded (initialize resolves);
 *   connecting → error: nothing within deadlineMs (initialize rejects; retries go on and later reach ready);
 *   ready → stale: the stream failed or ended; stale → error after the grace period;
 *   stale/error → ready: reconnected and re-fetched; emits READY then CONFIGURATION_CHANGED with the keys whose
 *   evaluation differs from the snapshot held before.
 *
 * The stream is opened before the first ResolveAll so no change between the fetch and the subscription is missed.
 * Events are held back while initialize is pending: the web SDK emits READY/ERROR for its outcome itself.
 */
export class FlagdWebConnection {
	private readonly options: FlagdWebConnectionOptions;
	private readonly controller = new AbortController();
	private readonly backoff: Backoff;
	private readonly headers: Readonly<Record<string, string>>;
	private current: ConnectionState = "connecting";
	private context: JsonObject;
	private flags: FlagSnapshot | undefined;
	private refreshCount = 0;
	private initSettled = false;
	private settleInit: ((error?: Error) => void) | undefined;
	private attemptController: AbortController | undefined;
	private graceTimer: ReturnType<typeof setTimeout> | undefined;
	private loop: Promise<void> | undefined;
	private lastError: FlagdWebError | undefined;

	constructor(options: FlagdWebConnectionOptions) {
		this.options = options;
		this.context = options.context;
		this.backoff = new Backoff({
			initialDelayMs: options.config.retryBackoffMs,
			maxDelayMs: options.config.retryBackoffMaxMs,
			random: options.random,
		});
		const selector = options.config.selector;
		this.headers = selector === undefined ? {} : { "Flagd-Selector": selector };
	}

	/** Current state. */
	get state(): ConnectionState {
		return this.current;
	}

	/** Flags evaluated for the current context, or undefined before the first successful fetch. */
	get snapshot(): FlagSnapshot | undefined {
		return this.flags;
	}

	/**
	 * Starts connecting. Resolves once flags are loaded; rejects with `GeneralError` after `deadlineMs` without
	 * them (reconnecting continues in the background). Call once.
	 */
	start(): Promise<void> {
		const init = new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				const cause = this.lastError ? `: ${this.lastError.message}` : "";
				this.transition("error", {});
				this.settleInit?.(
					new GeneralError(
						`flagd: flags not loaded within deadlineMs=${this.options.config.deadlineMs}${cause}; retrying in the background`,
					),
				);
			}, this.options.config.deadlineMs);
			this.settleInit = (error) => {
				clearTimeout(timer);
				this.settleInit = undefined;
				this.initSettled = true;
				if (error) reject(error);
				else resolve();
			};
		});
		this.loop = this.run().catch((e: unknown) => {
			// run() handles every expected failure; getting here is a bug that must not go unseen.
			this.options.config.logger.error("flagd web provider: loop crashed", e);
			this.transition("error", {
				message: String(e),
				errorCode: ErrorCode.GENERAL,
			});
		});
		return init;
	}

	/**
	 * Re-fetches the flags for a new context. Rejects when that fails: the snapshot for the old context is dropped
	 * (its values belong to someone else), the state becomes error (the SDK emits ERROR for the rejection) and the
	 * stream is re-opened, which re-fetches with this context and emits READY once flagd answers.
	 */
	async setContext(context: JsonObject): Promise<void> {
		this.context = context;
		try {
			await this.refresh(this.controller.signal);
		} catch (e: unknown) {
			const error = toFlagdWebError(e);
			if (this.controller.signal.aborted) {
				throw new GeneralError("flagd web provider was closed", {
					cause: error,
				});
			}
			this.flags = undefined;
			this.options.config.logger.warn(
				`flagd web provider: could not load flags for the new context (${error.code}: ${error.message}); reconnecting`,
			);
			this.transition("error", {}, false);
			this.attemptController?.abort(error);
			throw new GeneralError(
				`flagd: could not load flags for the new context: ${error.message}`,
				{ cause: error },
			);
		}
	}

	/** Stops everything: stream, fetches, timers. Idempotent; resolves when the loop has exited. */
	async close(): Promise<void> {
		this.controller.abort(new FlagdWebError("provider closed", "canceled"));
		clearTimeout(this.graceTimer);
		this.settleInit?.(
			new GeneralError("flagd web provider was closed before it became ready"),
		);
		await this.loop;
	}

	private async run(): Promise<void> {
		const signal = this.controller.signal;
		while (!signal.aborted) {
			const error = await this.attempt();
			if (signal.aborted) return;
			if (error === RECYCLED) continue;
			this.onLost(error);
			const delayMs = this.backoff.nextDelayMs();
			this.options.config.logger.warn(
				`flagd web provider: ${error.code}: ${error.message}; reconnecting in ${delayMs} ms`,
			);
			await sleep(delayMs, signal);
		}
	}

	/** One EventStream call, from open to failure; returns why it ended (RECYCLED: streamDeadlineMs reached). */
	private async attempt(): Promise<FlagdWebError | typeof RECYCLED> {
		const attempt = new AbortController();
		this.attemptController = attempt;
		const unlink = link(this.controller.signal, attempt);
		const { deadlineMs, streamIdleTimeoutMs, streamDeadlineMs } =
			this.options.config;
		// Re-opening before a proxy's maximum stream duration avoids a STALE/READY flap when it cuts the stream.
		let lifetime: ReturnType<typeof setTimeout> | undefined;
		let recycled = false;
		const abortAfter = (
			ms: number,
			why: string,
		): ReturnType<typeof setTimeout> =>
			setTimeout(
				() => attempt.abort(new FlagdWebError(why, "deadline_exceeded")),
				ms,
			);
		const handshake = abortAfter(
			deadlineMs,
			`no provider_ready and flags within deadlineMs=${deadlineMs}`,
		);
		// A connection that dies without a FIN (sleeping laptop, NAT timeout) never errors; flagd's keep_alive
		// messages (every 20 s when idle) let silence be detected.
		let idle: ReturnType<typeof setTimeout> | undefined;
		try {
			const stream = this.options.transport.eventStream({
				signal: attempt.signal,
				headers: this.headers,
			});
			for await (const message of stream) {
				clearTimeout(idle);
				if (message.type === "provider_ready") {
					const changed = await this.refresh(attempt.signal);
					clearTimeout(handshake);
					if (streamDeadlineMs > 0 && lifetime === undefined) {
						lifetime = setTimeout(() => {
							recycled = true;
							attempt.abort();
						}, streamDeadlineMs);
					}
					this.onConnected(changed ?? []);
				} else {
					await this.onMessage(message, attempt.signal);
				}
				if (streamIdleTimeoutMs > 0) {
					idle = abortAfter(
						streamIdleTimeoutMs,
						`no message from flagd within streamIdleTimeoutMs=${streamIdleTimeoutMs}`,
					);
				}
			}
			if (recycled) return RECYCLED;
			return new FlagdWebError("flagd ended the event stream", "unavailable");
		} catch (e: unknown) {
			if (recycled && !this.controller.signal.aborted) return RECYCLED;
			return toFlagdWebError(e, attempt.signal);
		} finally {
			clearTimeout(handshake);
			clearTimeout(idle);
			clearTimeout(lifetime);
			unlink();
			attempt.abort();
		}
	}

	/** Messages other than provider_ready. keep_alive and types added by newer daemons need nothing. */
	private async onMessage(
		message: EventStreamMessage,
		signal: AbortSignal,
	): Promise<void> {
		if (message.type === "provider_shutdown") {
			this.options.config.logger.info(
				"flagd web provider: flagd announced a shutdown",
			);
			return;
		}
		if (message.type !== "configuration_change") return;
		const flags = message.data?.flags;
		const keys =
			flags !== null && typeof flags === "object" && !Array.isArray(flags)
				? Object.keys(flags)
				: [];
		await this.refresh(signal);
		if (this.current === "ready" && this.initSettled) {
			this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
				flagsChanged: keys,
			});
		}
	}

	/**
	 * ResolveAll for the current context, bounded by deadlineMs. Returns the keys whose evaluation changed, or
	 * undefined when a later refresh started meanwhile (the later one installs its result; an older response
	 * must never overwrite a newer context's flags).
	 */
	private async refresh(signal: AbortSignal): Promise<string[] | undefined> {
		const ticket = ++this.refreshCount;
		const call = new AbortController();
		const unlink = link(signal, call);
		const deadlineMs = this.options.config.deadlineMs;
		const timer = setTimeout(() => {
			call.abort(
				new FlagdWebError(
					`ResolveAll took longer than deadlineMs=${deadlineMs}`,
					"deadline_exceeded",
				),
			);
		}, deadlineMs);
		try {
			const json = await this.options.transport.resolveAll(this.context, {
				signal: call.signal,
				headers: this.headers,
				timeoutMs: deadlineMs,
			});
			const next = FlagSnapshot.fromResponse(json);
			if (ticket !== this.refreshCount) return undefined;
			const changed = next.changedKeys(this.flags);
			this.flags = next;
			return changed;
		} catch (e: unknown) {
			throw toFlagdWebError(e, call.signal);
		} finally {
			clearTimeout(timer);
			unlink();
		}
	}

	private onConnected(changed: string[]): void {
		this.backoff.reset();
		this.lastError = undefined;
		clearTimeout(this.graceTimer);
		this.graceTimer = undefined;
		if (this.current === "ready") {
			// A re-opened stream (streamDeadlineMs): still ready, but a change in the gap must not go unannounced.
			if (this.initSettled && changed.length > 0) {
				this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
					flagsChanged: changed,
				});
			}
			return;
		}
		this.transition("ready", { message: "connected to flagd" });
		if (this.initSettled) {
			// Changes may have happened while disconnected; the diff says which evaluations actually moved.
			this.options.handlers.emit("PROVIDER_CONFIGURATION_CHANGED", {
				message: "reconnected to flagd",
				flagsChanged: changed,
			});
		} else {
			this.settleInit?.();
		}
	}

	private onLost(error: FlagdWebError): void {
		this.lastError = error;
		if (this.current !== "ready") return;
		const why = `${error.code}: ${error.message}`;
		this.transition("stale", { message: `event stream lost (${why})` });
		const graceMs = this.options.config.retryGracePeriodMs;
		this.graceTimer = setTimeout(() => {
			this.graceTimer = undefined;
			if (this.current !== "stale") return;
			this.transition("error", {
				message: `not reconnected within ${graceMs} ms (${why})`,
				errorCode: ErrorCode.GENERAL,
			});
		}, graceMs);
	}

	/** The one place the state changes; emits the matching event once initialize has settled. */
	private transition(
		next: ConnectionState,
		details: ConnectionEventDetails,
		emit = true,
	): void {
		if (this.controller.signal.aborted || next === this.current) return;
		this.current = next;
		if (!this.initSettled || !emit) return;
		if (next === "ready") {
			this.options.handlers.emit("PROVIDER_READY", details);
		} else if (next === "stale") {
			this.options.handlers.emit("PROVIDER_STALE", details);
		} else if (next === "error") {
			this.options.handlers.emit("PROVIDER_ERROR", details);
		}
	}
}

/** Outcome of an attempt that ended because streamDeadlineMs was reached (not a failure). */
const RECYCLED = "recycled" as const;

/** Aborts `child` when `parent` aborts (with its reason); returns the unlink function. */
function link(parent: AbortSignal, child: AbortController): () => void {
	if (parent.aborted) {
		child.abort(parent.reason);
		return () => {};
	}
	const onAbort = (): void => child.abort(parent.reason);
	parent.addEventListener("abort", onAbort, { once: true });
	return () => parent.removeEventListener("abort", onAbort);
}
