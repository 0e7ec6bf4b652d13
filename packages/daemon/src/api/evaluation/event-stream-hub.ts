/**
 * The EventStream of flagd.evaluation.v1 and v2 on the direct streaming path (transport/direct-path/
 * direct-stream-path.ts), with the semantics of flag-event-stream.ts (flagd-protocol.md §7): `keep_alive` while the
 * daemon is not ready yet and after every idle `keepAliveMs`, `provider_ready` once ready, `configuration_change`
 * with `{flags: {<key>: {type}}}` for every change of the selected view, `provider_shutdown` when the daemon stops,
 * DEADLINE_EXCEEDED after the optional server-side stream deadline.
 *
 * The hub keeps one set of open streams per selector and one store subscription per set: a change is turned into
 * one event, encoded once per method and format (shared-message.ts), and the same bytes are written to every
 * stream. A stream whose client does not take what it is sent (more than `maxBufferedBytes` unsent) is dropped with
 * one warning, as the OFREP SSE stream drops its slow clients, rather than buffered without bound.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { EventType } from "@flagd-ts/protocol";
import type { Logger } from "../../logging/logger.js";
import type { FlagResolver } from "../../resolver/flag-resolver.js";
import type { FlagStore } from "../../store/flag-store.js";
import type { FlagChanges } from "../../store/flag-view.js";
import type { Selector } from "../../store/selector.js";
import type {
	DirectServerStream,
	DirectStreamImpl,
} from "../../transport/direct-path/direct-server-stream.js";
import { SharedMessage } from "../../transport/direct-path/shared-message.js";
import { toConnectError } from "../connect-errors.js";
import { changeData, type FlagEvent } from "./flag-event-stream.js";
import { eventStreamMessage } from "./prototype-safe-messages.js";

export interface EventStreamHubOptions {
	readonly store: FlagStore;
	/** Aborts on daemon shutdown: every stream gets `provider_shutdown` and ends. */
	readonly shutdownSignal: AbortSignal;
	readonly keepAliveMs: number;
	/** 0 = no deadline. */
	readonly deadlineMs: number;
	/** Unsent bytes a stream may hold before it is dropped. @default 262_144 */
	readonly maxBufferedBytes?: number;
	readonly logger?: Logger | undefined;
}

/** One open stream. */
interface Subscriber {
	readonly stream: DirectServerStream;
	readonly selector: Selector;
	readonly keepAlive: NodeJS.Timeout;
	readonly deadline: NodeJS.Timeout | undefined;
	group: Group | undefined;
}

/** The open, ready streams of one selector and their store subscription. */
interface Group {
	readonly subscribers: Set<Subscriber>;
	readonly unsubscribe: () => void;
}

const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;
const KEEP_ALIVE = shared({ type: EventType.keepAlive });
const PROVIDER_READY = shared({ type: EventType.providerReady, data: {} });
const PROVIDER_SHUTDOWN = shared({
	type: EventType.providerShutdown,
	data: {},
});

function shared(event: FlagEvent): SharedMessage {
	// Flag keys like "__proto__" in the data stay plain keys (prototype-safe-messages.ts).
	return new SharedMessage((schema) => eventStreamMessage(schema, event));
}

/** See the file comment. */
export class EventStreamHub {
	readonly #options: EventStreamHubOptions;
	readonly #maxBufferedBytes: number;
	readonly #groups = new Map<string, Group>();
	/** Streams opened before the store was ready. */
	readonly #waiting = new Set<Subscriber>();
	#readyWait: AbortController | undefined;

	constructor(options: EventStreamHubOptions) {
		this.#options = options;
		this.#maxBufferedBytes =
			options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
		options.shutdownSignal.addEventListener("abort", () => this.#shutdown(), {
			once: true,
		});
	}

	/** Open streams (waiting for readiness included). */
	get size(): number {
		let n = this.#waiting.size;
		for (const group of this.#groups.values()) n += group.subscribers.size;
		return n;
	}

	/** Selectors with a store subscription (one per selector with a ready stream). */
	get selectorCount(): number {
		return this.#groups.size;
	}

	/** Serves one stream until it ends. */
	open(selector: Selector, stream: DirectServerStream): void {
		const options = this.#options;
		if (options.shutdownSignal.aborted) {
			stream.send(PROVIDER_SHUTDOWN);
			stream.end();
			return;
		}
		const subscriber: Subscriber = {
			stream,
			selector,
			keepAlive: setTimeout(() => this.#idle(subscriber), options.keepAliveMs),
			deadline:
				options.deadlineMs > 0
					? setTimeout(
							() =>
								stream.end(
									new ConnectError(
										"stream closed due to server-side timeout",
										Code.DeadlineExceeded,
									),
								),
							options.deadlineMs,
						)
					: undefined,
			group: undefined,
		};
		stream.onClose(() => this.#remove(subscriber));
		if (options.store.isReady()) this.#join(subscriber);
		else {
			// Before the first sync there are no flags: a provider told "ready" now would get FLAG_NOT_FOUND.
			this.#waiting.add(subscriber);
			this.#waitForReady();
		}
	}

	/** Subscribed once ready: the baseline is the flags the provider will read after provider_ready. */
	#join(subscriber: Subscriber): void {
		const { selector } = subscriber;
		let group = this.#groups.get(selector.key);
		if (group === undefined) {
			const subscribers = new Set<Subscriber>();
			group = {
				subscribers,
				unsubscribe: this.#options.store.subscribe(selector, (changes) =>
					this.#broadcast(subscribers, changes),
				),
			};
			this.#groups.set(selector.key, group);
		}
		group.subscribers.add(subscriber);
		subscriber.group = group;
		this.#send(subscriber, PROVIDER_READY);
	}

	#waitForReady(): void {
		if (this.#readyWait !== undefined) return;
		const wait = new AbortController();
		this.#readyWait = wait;
		// Woken by readiness, or aborted when the last waiting stream goes (no timer outlives the streams).
		void this.#options.store
			.waitUntilReady(2 ** 31 - 1, wait.signal)
			.then((ready) => {
				if (this.#readyWait === wait) this.#readyWait = undefined;
				if (!ready || this.#options.shutdownSignal.aborted) return;
				const waiting = [...this.#waiting];
				this.#waiting.clear();
				for (const subscriber of waiting)
					if (subscriber.stream.open) this.#join(subscriber);
			});
	}

	#broadcast(subscribers: ReadonlySet<Subscriber>, changes: FlagChanges): void {
		const message = shared({
			type: EventType.configurationChange,
			data: changeData(changes),
		});
		for (const subscriber of subscribers) this.#send(subscriber, message);
	}

	#send(subscriber: Subscriber, message: SharedMessage): void {
		const { stream } = subscriber;
		try {
			const unsent = stream.bufferedBytes;
			if (unsent > this.#maxBufferedBytes) {
				this.#options.logger?.warn(
					{ unsentBytes: unsent, selector: subscriber.selector.key },
					`EventStream client is not reading (${unsent} bytes unsent): stream closed`,
				);
				stream.abort();
				return;
			}
			stream.send(message);
			subscriber.keepAlive.refresh();
		} catch (e: unknown) {
			// A failed encoding or write is reported and ends this stream only: the others still get the event.
			this.#options.logger?.error(
				{ err: e, selector: subscriber.selector.key },
				`EventStream write failed, stream closed: ${String(e)}`,
			);
			stream.abort();
		}
	}

	#idle(subscriber: Subscriber): void {
		if (!subscriber.stream.open) return;
		this.#send(subscriber, KEEP_ALIVE);
	}

	#remove(subscriber: Subscriber): void {
		clearTimeout(subscriber.keepAlive);
		clearTimeout(subscriber.deadline);
		const { group } = subscriber;
		if (group !== undefined) {
			group.subscribers.delete(subscriber);
			if (group.subscribers.size === 0) {
				group.unsubscribe();
				if (this.#groups.get(subscriber.selector.key) === group)
					this.#groups.delete(subscriber.selector.key);
			}
		} else if (this.#waiting.delete(subscriber) && this.#waiting.size === 0) {
			this.#readyWait?.abort();
			this.#readyWait = undefined;
		}
	}

	#shutdown(): void {
		this.#readyWait?.abort();
		this.#readyWait = undefined;
		const all = [...this.#waiting];
		for (const group of this.#groups.values()) all.push(...group.subscribers);
		for (const subscriber of all) {
			subscriber.stream.send(PROVIDER_SHUTDOWN);
			subscriber.stream.end();
		}
	}
}

/** The EventStream implementation (v1 and v2) for the direct streaming path: the `flagd-selector` header's view. */
export function directEventStream(
	resolver: FlagResolver,
	hub: EventStreamHub,
): DirectStreamImpl {
	return (_request, context, stream) => {
		let selector: Selector;
		try {
			selector = resolver.selector(context.requestHeader.get("flagd-selector"));
		} catch (e: unknown) {
			throw toConnectError(e);
		}
		hub.open(selector, stream);
	};
}
