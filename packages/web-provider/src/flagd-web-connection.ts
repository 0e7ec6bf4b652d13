import {
	type ConnectionState,
	EventStreamSupervisor,
	type StreamMessage,
	type SupervisorEventDetails,
	type SupervisorEventName,
} from "@flagd-ts/provider-core";
import { GeneralError } from "@openfeature/web-sdk";
import { FlagdWebError, toConnectError, toFlagdWebError } from "./errors.js";
import { FlagSnapshot } from "./flag-snapshot.js";
import type { FlagdWebProviderConfig } from "./flagd-web-provider-options.js";
import type { FlagdWebTransport, JsonObject } from "./flagd-web-transport.js";

export type { ConnectionState };

/** Callbacks of the connection, as one named object. */
export interface ConnectionHandlers {
	emit(event: SupervisorEventName, details: SupervisorEventDetails): void;
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

/** The web provider has no fatal status codes: every failure is retried. */
const NO_FATAL_CODES: ReadonlySet<never> = new Set();

/**
 * The flag snapshot of one evaluation context, kept current over flagd's EventStream by provider-core's
 * `EventStreamSupervisor` (the same state machine as the Node provider's: connecting → ready ⇄ stale → error,
 * reconnect with backoff, the same events). This class adds what is web-specific:
 *
 *   on every provider_ready and configuration_change it re-fetches all flags with ResolveAll, so "connected"
 *   means flags are loaded, and a reconnect's CONFIGURATION_CHANGED names the keys whose evaluation differs
 *   from the snapshot held before; a context change re-fetches, and if that fails the snapshot (which belongs to
 *   the old context) is dropped and the stream re-opened.
 *
 * The stream is opened before the first ResolveAll so no change between the fetch and the subscription is missed.
 */
export class FlagdWebConnection {
	private readonly options: FlagdWebConnectionOptions;
	private readonly supervisor: EventStreamSupervisor;
	/** Aborts the fetches of context changes when the connection closes (the supervisor owns the stream's). */
	private readonly closing = new AbortController();
	private readonly headers: Readonly<Record<string, string>>;
	private context: JsonObject;
	private flags: FlagSnapshot | undefined;
	private refreshCount = 0;

	constructor(options: FlagdWebConnectionOptions) {
		this.options = options;
		this.context = options.context;
		const { config } = options;
		const selector = config.selector;
		this.headers = selector === undefined ? {} : { "Flagd-Selector": selector };
		this.supervisor = new EventStreamSupervisor({
			openStream: (signal) => this.openStream(signal),
			deadlineMs: config.deadlineMs,
			streamDeadlineMs: config.streamDeadlineMs,
			streamIdleTimeoutMs: config.streamIdleTimeoutMs,
			retryBackoffMs: config.retryBackoffMs,
			retryBackoffMaxMs: config.retryBackoffMaxMs,
			retryGracePeriodMs: config.retryGracePeriodMs,
			fatalCodes: NO_FATAL_CODES,
			handlers: {
				emit: (event, details) => options.handlers.emit(event, details),
				// A newer refresh (a context change) installs its own result: report nothing changed here.
				synchronize: async (signal) =>
					(await this.refreshForStream(signal)) ?? [],
				configurationChanged: async (_keys, signal) => {
					await this.refreshForStream(signal);
				},
			},
			logger: config.logger,
			logName: "flagd web provider",
			...(options.random ? { random: options.random } : {}),
		});
	}

	/** Current state. */
	get state(): ConnectionState {
		return this.supervisor.state;
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
		return this.supervisor.start();
	}

	/**
	 * Re-fetches the flags for a new context. Rejects when that fails: the snapshot for the old context is dropped
	 * (its values belong to someone else), the state becomes error (the SDK emits ERROR for the rejection) and the
	 * stream is re-opened, which re-fetches with this context and emits READY once flagd answers.
	 */
	async setContext(context: JsonObject): Promise<void> {
		this.context = context;
		try {
			await this.refresh(this.closing.signal);
		} catch (e: unknown) {
			const error = toFlagdWebError(e);
			if (this.closing.signal.aborted) {
				throw new GeneralError("flagd web provider was closed", {
					cause: error,
				});
			}
			this.flags = undefined;
			this.options.config.logger.warn(
				`flagd web provider: could not load flags for the new context (${error.code}: ${error.message}); reconnecting`,
			);
			this.supervisor.reconnect(toConnectError(error));
			throw new GeneralError(
				`flagd: could not load flags for the new context: ${error.message}`,
				{ cause: error },
			);
		}
	}

	/** Stops everything: stream, fetches, timers. Idempotent; resolves when the loop has exited. */
	async close(): Promise<void> {
		this.closing.abort(new FlagdWebError("provider closed", "canceled"));
		await this.supervisor.close();
	}

	/** The transport's stream, its failures as `ConnectError`s with the matching code (what the supervisor reads). */
	private async *openStream(
		signal: AbortSignal,
	): AsyncGenerator<StreamMessage> {
		try {
			yield* this.options.transport.eventStream({
				signal,
				headers: this.headers,
			});
		} catch (e: unknown) {
			throw toConnectError(toFlagdWebError(e, signal));
		}
	}

	private async refreshForStream(
		signal: AbortSignal,
	): Promise<string[] | undefined> {
		try {
			return await this.refresh(signal);
		} catch (e: unknown) {
			throw toConnectError(toFlagdWebError(e, signal));
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
}

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
