/**
 * OFREP change notifications over Server-Sent Events (OFREP ADR-0008) on `GET /ofrep/v1/sse`. A client subscribes
 * to one selector (its channel); every flag-set change that touches that selector's view sends one
 * `refetchEvaluation` event, and the client re-fetches the bulk evaluation. Each event is encoded once per channel
 * and the same bytes are written to every subscriber of it.
 *
 * Event ids and the replay buffer are in ofrep-event-log.ts, the bulk response's advertisement in
 * ofrep-stream-advertisement.ts. A client that reconnects with a `Last-Event-ID` of this run gets the events it missed from a bounded replay buffer; one whose
 * id we cannot vouch for (another run, too old, or a channel whose flags changed while nobody followed it) gets one
 * fresh `refetchEvaluation` at once. A new connection starts with an `id:` line and no data, which sets the browser's
 * last event id without dispatching anything, so a reconnect after a daemon restart is always recognised.
 *
 * Bounds: at most `maxConnections` streams (then 503 with Retry-After), and a subscriber whose unsent bytes exceed
 * `maxBufferedBytes`, or whose buffer has not drained for `inactivityDelaySec`, is disconnected.
 */
import type { FlagStore } from "../../store/flag-store.js";
import type { FlagView } from "../../store/flag-view.js";
import type { Selector } from "../../store/selector.js";
import type {
	NodeRequest,
	NodeResponse,
} from "../../transport/http-listener.js";
import { OfrepEventLog, versionOf } from "./ofrep-event-log.js";
import {
	advertiseOfrepStream,
	type OfrepStreamAdvertisement,
} from "./ofrep-stream-advertisement.js";

// The handler imports the path from here.
export { OFREP_SSE_PATH } from "./ofrep-stream-advertisement.js";

export interface OfrepEventStreamOptions {
	readonly store: FlagStore;
	/** Parses a selector expression; throws a DaemonError with a readable message when it is invalid. */
	readonly selector: (expression: string | undefined) => Selector;
	/** Advertised to clients; also how long a subscriber's unsent bytes may sit undrained. 0 = no limit. */
	readonly inactivityDelaySec: number;
	/** Concurrent streams; 0 = no limit. */
	readonly maxConnections: number;
	/** Ends every stream when aborted (daemon shutdown). */
	readonly shutdownSignal: AbortSignal;
	/** Interval of `: keep-alive` comments. @default 15_000 */
	readonly keepAliveMs?: number;
	/** Unsent bytes a subscriber may accumulate before it is disconnected. @default 65_536 */
	readonly maxBufferedBytes?: number;
	/** Events kept for `Last-Event-ID` replay. @default 256 */
	readonly replayEvents?: number;
	/** Origin in advertised URLs (`--ofrep-sse-public-url`); otherwise taken from the request. */
	readonly publicUrl?: string | undefined;
}

interface Subscriber {
	readonly res: NodeResponse;
	readonly channel: Channel;
	/** Last time its buffer was seen empty (ms). */
	lastDrainedMs: number;
}

interface Channel {
	readonly selector: Selector;
	readonly subscribers: Set<Subscriber>;
	readonly unsubscribe: () => void;
	/** Sequence number current when the channel started following the store. */
	readonly sinceSeq: number;
	etag: string;
	lastModifiedSec: number;
	/** Sequence of its latest event (or `sinceSeq`). */
	lastEventSeq: number;
}

/** What is kept of a channel after its last subscriber left, to recognise clients that are still up to date. */
interface Remembered {
	readonly etag: string;
	readonly lastModifiedSec: number;
	readonly lastEventSeq: number;
}

/** Channels remembered after their last subscriber left. */
const REMEMBERED_CHANNELS = 1024;

const KEEP_ALIVE = Buffer.from(": keep-alive\n\n");
const STREAM_HEADERS = {
	"Content-Type": "text/event-stream; charset=utf-8",
	"Cache-Control": "no-cache, no-transform",
	// Reverse proxies (nginx) otherwise buffer the stream.
	"X-Accel-Buffering": "no",
};

/** See the file comment. */
export class OfrepEventStream {
	readonly #options: OfrepEventStreamOptions;
	readonly #channels = new Map<string, Channel>();
	readonly #log: OfrepEventLog;
	readonly #remembered = new Map<string, Remembered>();
	readonly #keepAliveMs: number;
	readonly #maxBufferedBytes: number;
	#connections = 0;
	#timer: NodeJS.Timeout | undefined;
	#closed = false;

	constructor(options: OfrepEventStreamOptions) {
		this.#options = options;
		this.#keepAliveMs = options.keepAliveMs ?? 15_000;
		this.#maxBufferedBytes = options.maxBufferedBytes ?? 65_536;
		this.#log = new OfrepEventLog(options.replayEvents ?? 256);
		if (options.shutdownSignal.aborted) this.#closed = true;
		else
			options.shutdownSignal.addEventListener("abort", () => this.close(), {
				once: true,
			});
	}

	/** Open streams. */
	get connections(): number {
		return this.#connections;
	}

	/** The bulk response's advertisement of the stream for `selector` (see `advertiseOfrepStream`). */
	advertise(req: NodeRequest, selector: Selector): OfrepStreamAdvertisement {
		return advertiseOfrepStream(req, selector, this.#options);
	}

	/** Serves one `GET /ofrep/v1/sse` request; `selectorExpression` comes from the query or the header. */
	handle(
		req: NodeRequest,
		res: NodeResponse,
		selectorExpression: string | undefined,
	): void {
		const max = this.#options.maxConnections;
		if (this.#closed) {
			sendText(res, 503, "the daemon is shutting down\n", {});
			return;
		}
		if (max > 0 && this.#connections >= max) {
			sendText(
				res,
				503,
				`too many OFREP event streams (limit ${max}); retry later\n`,
				{ "Retry-After": "5" },
			);
			return;
		}
		let selector: Selector;
		try {
			selector = this.#options.selector(selectorExpression);
		} catch (e: unknown) {
			sendText(res, 400, `${e instanceof Error ? e.message : String(e)}\n`, {});
			return;
		}
		// A channel nobody followed may have missed changes: a reconnecting client then cannot be vouched for.
		const following = this.#channels.has(selector.key);
		const channel = this.#join(selector);
		const subscriber: Subscriber = {
			res,
			channel,
			lastDrainedMs: Date.now(),
		};
		channel.subscribers.add(subscriber);
		this.#connections++;
		this.#startKeepAlive();
		res.once("close", () => this.#leave(subscriber));
		res.writeHead(200, STREAM_HEADERS);
		write(res, this.#opening(channel, lastEventIdOf(req), following));
	}

	/** Ends every stream and stops following the store. Idempotent. */
	close(): void {
		this.#closed = true;
		for (const channel of [...this.#channels.values()]) {
			for (const subscriber of [...channel.subscribers]) subscriber.res.end();
		}
		this.#stopKeepAlive();
	}

	/** What a new connection is sent first: replayed events, one fresh event, or just the current id. */
	#opening(
		channel: Channel,
		lastEventId: string | undefined,
		following: boolean,
	): Buffer {
		const log = this.#log;
		if (lastEventId === undefined) return log.primer();
		const lastSeq = log.seqOf(lastEventId);
		if (lastSeq === undefined) return log.encode(log.seq, channel);
		if (!following) {
			// Nobody followed the channel for a while: the client is current only if it had the channel's last event
			// and the flags are back to what they were then.
			const before = this.#remembered.get(channel.selector.key);
			return before !== undefined &&
				before.etag === channel.etag &&
				lastSeq >= before.lastEventSeq
				? log.primer()
				: log.encode(log.seq, channel);
		}
		if (lastSeq < channel.sinceSeq) return log.encode(log.seq, channel);
		const missed = log.since(lastSeq, channel.selector.key);
		return missed.length === 0 ? log.primer() : missed;
	}

	#join(selector: Selector): Channel {
		const existing = this.#channels.get(selector.key);
		if (existing !== undefined) return existing;
		const { store } = this.#options;
		const etag = versionOf(store.view(selector));
		const before = this.#remembered.get(selector.key);
		const channel: Channel = {
			selector,
			subscribers: new Set(),
			sinceSeq: this.#log.seq,
			etag,
			// Unchanged since it was last followed: keep the time of that change.
			lastModifiedSec:
				before?.etag === etag
					? before.lastModifiedSec
					: Math.floor(Date.now() / 1000),
			lastEventSeq: this.#log.seq,
			unsubscribe: store.subscribe(selector, (_changes, view) =>
				this.#changed(channel, view),
			),
		};
		this.#channels.set(selector.key, channel);
		return channel;
	}

	#leave(subscriber: Subscriber): void {
		const { channel } = subscriber;
		if (!channel.subscribers.delete(subscriber)) return;
		this.#connections--;
		if (channel.subscribers.size === 0) {
			channel.unsubscribe();
			const key = channel.selector.key;
			this.#channels.delete(key);
			this.#remembered.delete(key);
			this.#remembered.set(key, {
				etag: channel.etag,
				lastModifiedSec: channel.lastModifiedSec,
				lastEventSeq: channel.lastEventSeq,
			});
			if (this.#remembered.size > REMEMBERED_CHANNELS) {
				const oldest = this.#remembered.keys().next().value;
				if (oldest !== undefined) this.#remembered.delete(oldest);
			}
		}
		if (this.#connections === 0) this.#stopKeepAlive();
	}

	/** A store change touched the channel's view: one event, encoded once, to every subscriber. */
	#changed(channel: Channel, view: FlagView): void {
		channel.etag = versionOf(view);
		channel.lastModifiedSec = Math.floor(Date.now() / 1000);
		const { seq, bytes } = this.#log.append(channel.selector.key, channel);
		channel.lastEventSeq = seq;
		for (const subscriber of channel.subscribers) this.#send(subscriber, bytes);
	}

	#send(subscriber: Subscriber, bytes: Buffer): void {
		const { res } = subscriber;
		if (res.writableLength > this.#maxBufferedBytes) {
			// A client that does not read: drop it rather than buffer without bound.
			res.destroy();
			return;
		}
		write(res, bytes);
	}

	#startKeepAlive(): void {
		if (this.#timer !== undefined || this.#keepAliveMs <= 0) return;
		this.#timer = setInterval(() => this.#tick(), this.#keepAliveMs);
	}

	#stopKeepAlive(): void {
		if (this.#timer === undefined) return;
		clearInterval(this.#timer);
		this.#timer = undefined;
	}

	#tick(): void {
		const now = Date.now();
		const idleMs = this.#options.inactivityDelaySec * 1000;
		for (const channel of this.#channels.values()) {
			for (const subscriber of channel.subscribers) {
				if (subscriber.res.writableLength === 0) {
					subscriber.lastDrainedMs = now;
				} else if (idleMs > 0 && now - subscriber.lastDrainedMs > idleMs) {
					// Nothing it was sent has been read for the whole inactivity delay.
					subscriber.res.destroy();
					continue;
				}
				this.#send(subscriber, KEEP_ALIVE);
			}
		}
	}
}

/** Both response types write a Buffer the same way; their overload sets just do not unify. */
function write(res: NodeResponse, bytes: Buffer): void {
	(res as { write(chunk: Buffer): boolean }).write(bytes);
}

function lastEventIdOf(req: NodeRequest): string | undefined {
	const value = req.headers["last-event-id"];
	const id = Array.isArray(value) ? value[0] : value;
	return id === undefined || id === "" ? undefined : id;
}

function sendText(
	res: NodeResponse,
	status: number,
	text: string,
	headers: Record<string, string>,
): void {
	res.writeHead(status, {
		"Content-Type": "text/plain; charset=utf-8",
		...headers,
	});
	res.end(text);
}
