import type { Logger } from "@openfeature/web-sdk";
import type { OfrepRefetchHint } from "./ofrep-bulk-client.js";

/** What the change stream reports to the provider. */
export interface OfrepChangeStreamHandlers {
	/** A `refetchEvaluation` event (with its hint), or `undefined` for an unconditional re-fetch after a pause. */
	readonly onRefetch: (hint: OfrepRefetchHint | undefined) => void;
	/** A stream is connected again after `onInterrupted` (events may have been missed). */
	readonly onReconnected: () => void;
	/** A stream failed and the browser is reconnecting it. */
	readonly onInterrupted: () => void;
	/** A stream failed for good (non-200 answer, wrong content type); the browser will not retry it. */
	readonly onClosed: () => void;
}

export interface OfrepChangeStreamOptions {
	/** @default globalThis.EventSource */
	readonly EventSourceImpl?: typeof EventSource;
	readonly parse: (event: MessageEvent) => unknown;
	/** Client override of the hidden-page inactivity delay (seconds). */
	readonly inactivityDelaySec: number | undefined;
	readonly logger: Logger | undefined;
}

const DEFAULT_INACTIVITY_DELAY_SEC = 120;
const CLOSED = 2; // EventSource.CLOSED, without touching the global

/**
 * The advertised SSE streams (OFREP ADR-0008) on the browser's own EventSource, which parses the stream, keeps
 * the last event id and reconnects by itself. While the page is hidden for longer than the inactivity delay the
 * streams are closed; when it is shown again they reopen and an unconditional re-fetch is requested.
 */
export class OfrepChangeStream {
	readonly #handlers: OfrepChangeStreamHandlers;
	readonly #options: OfrepChangeStreamOptions;
	#urls: readonly string[] = [];
	#sources: EventSource[] = [];
	#interrupted = false;
	#inactivityDelaySec = DEFAULT_INACTIVITY_DELAY_SEC;
	#inactivityTimer: ReturnType<typeof setTimeout> | undefined;
	#paused = false;
	#closed = false;
	readonly #onVisibility = () => this.#visibilityChanged();

	constructor(
		handlers: OfrepChangeStreamHandlers,
		options: OfrepChangeStreamOptions,
	) {
		this.#handlers = handlers;
		this.#options = options;
		if (typeof document !== "undefined") {
			document.addEventListener("visibilitychange", this.#onVisibility);
		}
	}

	/** Whether EventSource exists here. */
	static available(impl?: typeof EventSource): boolean {
		return (impl ?? globalThis.EventSource) !== undefined;
	}

	/** Follows exactly `urls`; keeps open connections when the set is unchanged. */
	connect(
		urls: readonly string[],
		serverInactivityDelaySec: number | undefined,
	): void {
		if (this.#closed) return;
		this.#inactivityDelaySec =
			this.#options.inactivityDelaySec ??
			serverInactivityDelaySec ??
			DEFAULT_INACTIVITY_DELAY_SEC;
		const same =
			urls.length === this.#urls.length &&
			urls.every((u) => this.#urls.includes(u));
		if (same && (this.#sources.length > 0 || this.#paused)) return;
		this.#closeSources();
		this.#urls = [...urls];
		if (!this.#paused) this.#open();
	}

	/** Whether streams are configured (open, reconnecting or paused). */
	get active(): boolean {
		return this.#urls.length > 0;
	}

	/** Closes every stream and stops listening to the page. Idempotent. */
	close(): void {
		this.#closed = true;
		this.#closeSources();
		this.#urls = [];
		this.#clearInactivityTimer();
		if (typeof document !== "undefined") {
			document.removeEventListener("visibilitychange", this.#onVisibility);
		}
	}

	#open(): void {
		const Impl = this.#options.EventSourceImpl ?? globalThis.EventSource;
		for (const url of this.#urls) {
			const source = new Impl(url);
			source.addEventListener("open", () => {
				if (!this.#interrupted) return;
				this.#interrupted = false;
				this.#handlers.onReconnected();
			});
			source.addEventListener("message", (event) => this.#message(event));
			source.addEventListener("error", () => this.#error(source));
			this.#sources.push(source);
		}
	}

	#message(event: MessageEvent): void {
		let data: unknown;
		try {
			data = this.#options.parse(event);
		} catch (e: unknown) {
			this.#options.logger?.warn(
				`OFREP web provider: ignoring an event stream message that cannot be parsed: ${e instanceof Error ? e.message : String(e)}`,
			);
			return;
		}
		if (typeof data !== "object" || data === null) return;
		const message = data as Record<string, unknown>;
		// Other types are ignored: the ADR lets servers add them.
		if (message.type !== "refetchEvaluation") return;
		const hint: { etag?: string; lastModified?: string | number } = {};
		if (typeof message.etag === "string") hint.etag = message.etag;
		if (
			typeof message.lastModified === "string" ||
			typeof message.lastModified === "number"
		) {
			hint.lastModified = message.lastModified;
		}
		this.#handlers.onRefetch(hint);
	}

	#error(source: EventSource): void {
		if (source.readyState === CLOSED) {
			this.#sources = this.#sources.filter((s) => s !== source);
			this.#options.logger?.warn(
				`OFREP web provider: event stream ${source.url} closed for good`,
			);
			this.#handlers.onClosed();
			return;
		}
		if (this.#interrupted) return;
		this.#interrupted = true;
		this.#handlers.onInterrupted();
	}

	#closeSources(): void {
		for (const source of this.#sources) source.close();
		this.#sources = [];
		this.#interrupted = false;
	}

	#visibilityChanged(): void {
		if (document.visibilityState === "hidden") {
			this.#clearInactivityTimer();
			this.#inactivityTimer = setTimeout(() => {
				this.#inactivityTimer = undefined;
				this.#paused = true;
				this.#closeSources();
			}, this.#inactivityDelaySec * 1000);
			return;
		}
		this.#clearInactivityTimer();
		if (!this.#paused) return;
		this.#paused = false;
		if (this.#closed || this.#urls.length === 0) return;
		this.#open();
		// Changes made while paused were not seen: re-fetch without conditions (ADR-0008).
		this.#handlers.onRefetch(undefined);
	}

	#clearInactivityTimer(): void {
		if (this.#inactivityTimer === undefined) return;
		clearTimeout(this.#inactivityTimer);
		this.#inactivityTimer = undefined;
	}
}
