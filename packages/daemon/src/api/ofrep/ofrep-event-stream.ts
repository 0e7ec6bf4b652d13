/**
 * OFREP change notifications over Server-Sent Events (OFREP ADR-0008) on `GET /ofrep/v1/sse`. A client subscribes
 * to one selector (its channel); every flag-set change that touches that selector's view sends one
 * `refetchEvaluation` event, and the client re-fetches the bulk evaluation. Each event is encoded once per channel
 * and the same bytes are written to every subscriber of it.
 *
 * Event ids are `<run>-<sequence>`: `run` is random per daemon start, `sequence` counts events. A client that
 * reconnects with a `Last-Event-ID` of this run gets the events it missed from a bounded replay buffer; one whose
 * id we cannot vouch for (another run, too old, or a channel that had no subscriber for a while) gets one fresh
 * `refetchEvaluation` at once. A new connection starts with an `id:` line and no data, which sets the browser's
 * last event id without dispatching anything, so a reconnect after a daemon restart is always recognised.
 *
 * Bounds: at most `maxConnections` streams (then 503 with Retry-After), and a subscriber whose unsent bytes exceed
 * `maxBufferedBytes`, or whose buffer has not drained for `inactivityDelaySec`, is disconnected.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FlagStore } from "../../store/flag-store.js";
import type { FlagView } from "../../store/flag-view.js";
import type { Selector } from "../../store/selector.js";
import type {
	NodeRequest,
	NodeResponse,
} from "../../transport/http-listener.js";

/** Path of the event stream on the OFREP port (as Go flagd serves it). */
export const OFREP_SSE_PATH = "/ofrep/v1/sse";

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

/** One advertised connection, in both spellings clients read (see `advertise`). */
export interface OfrepStreamAdvertisement {
	readonly eventStreams: readonly Record<string, unknown>[];
	readonly refreshConnections?: readonly Record<string, unknown>[];
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
}

interface RetainedEvent {
	readonly seq: number;
	readonly channelKey: string;
	readonly bytes: Buffer;
}

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
	readonly #run = randomBytes(6).toString("base64url");
	readonly #channels = new Map<string, Channel>();
	readonly #retained: RetainedEvent[] = [];
	readonly #keepAliveMs: number;
	readonly #maxBufferedBytes: number;
	readonly #replayEvents: number;
	#seq = 0;
	#connections = 0;
	#timer: NodeJS.Timeout | undefined;
	#closed = false;

	constructor(options: OfrepEventStreamOptions) {
		this.#options = options;
		this.#keepAliveMs = options.keepAliveMs ?? 15_000;
		this.#maxBufferedBytes = options.maxBufferedBytes ?? 65_536;
		this.#replayEvents = options.replayEvents ?? 256;
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

	/**
	 * The bulk response's advertisement of the stream for `selector`: `eventStreams` with an `endpoint` relative to
	 * the OFREP base URL (what @openfeature/ofrep-web-provider 0.4 and Go flagd read) and ADR-0008's
	 * `refreshConnections` with an absolute `url` (left out when the request names no host).
	 */
	advertise(req: NodeRequest, selector: Selector): OfrepStreamAdvertisement {
		const requestUri =
			selector.kind === "all"
				? OFREP_SSE_PATH
				: `${OFREP_SSE_PATH}?selector=${encodeURIComponent(selector.key)}`;
		const inactivityDelaySec = this.#options.inactivityDelaySec;
		const { publicUrl } = this.#options;
		const endpoint =
			publicUrl === undefined
				? { requestUri }
				: { origin: publicUrl, requestUri };
		const eventStreams = [{ type: "sse", endpoint, inactivityDelaySec }];
		const origin = publicUrl ?? requestOrigin(req);
		if (origin === undefined) return { eventStreams };
		return {
			eventStreams,
			refreshConnections: [
				{ type: "sse", url: `${origin}${requestUri}`, inactivityDelaySec },
			],
		};
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
		if (lastEventId === undefined) return this.#primer();
		const lastSeq = this.#seqOf(lastEventId);
		if (!following || lastSeq === undefined || lastSeq < channel.sinceSeq) {
			return this.#encode(this.#seq, channel);
		}
		const missed = this.#retained.filter(
			(e) => e.seq > lastSeq && e.channelKey === channel.selector.key,
		);
		return missed.length === 0
			? this.#primer()
			: Buffer.concat(missed.map((e) => e.bytes));
	}

	/** The sequence of an id this run issued and can still replay from, else undefined. */
	#seqOf(id: string): number | undefined {
		const dash = id.lastIndexOf("-");
		if (dash < 0 || id.slice(0, dash) !== this.#run) return undefined;
		const text = id.slice(dash + 1);
		if (!/^\d{1,15}$/.test(text)) return undefined;
		const seq = Number(text);
		if (seq > this.#seq) return undefined;
		const oldest = this.#retained[0]?.seq ?? this.#seq + 1;
		// Events after `seq` must all still be retained.
		return seq + 1 >= oldest ? seq : undefined;
	}

	#primer(): Buffer {
		return Buffer.from(`id: ${this.#run}-${this.#seq}\n\n`);
	}

	#encode(seq: number, channel: Channel): Buffer {
		const data = JSON.stringify({
			type: "refetchEvaluation",
			etag: channel.etag,
			lastModified: channel.lastModifiedSec,
		});
		return Buffer.from(
			`id: ${this.#run}-${seq}\nevent: message\ndata: ${data}\n\n`,
		);
	}

	#join(selector: Selector): Channel {
		const existing = this.#channels.get(selector.key);
		if (existing !== undefined) return existing;
		const { store } = this.#options;
		const channel: Channel = {
			selector,
			subscribers: new Set(),
			sinceSeq: this.#seq,
			etag: versionOf(store.view(selector)),
			lastModifiedSec: Math.floor(Date.now() / 1000),
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
			this.#channels.delete(channel.selector.key);
		}
		if (this.#connections === 0) this.#stopKeepAlive();
	}

	/** A store change touched the channel's view: one event, encoded once, to every subscriber. */
	#changed(channel: Channel, view: FlagView): void {
		channel.etag = versionOf(view);
		channel.lastModifiedSec = Math.floor(Date.now() / 1000);
		const seq = ++this.#seq;
		const bytes = this.#encode(seq, channel);
		this.#retained.push({ seq, channelKey: channel.selector.key, bytes });
		if (this.#retained.length > this.#replayEvents) this.#retained.shift();
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

/** A version of a selector's flag set: changes whenever anything a client can observe about it changes. */
export function versionOf(view: FlagView): string {
	const hash = createHash("sha1").update(view.selector.key);
	for (const flag of view.list) {
		hash.update("\u0000").update(flag.key).update("\u0000");
		hash.update(flag.fingerprint);
	}
	return hash.digest("base64url");
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

/** `scheme://host` of the request as the client addressed it, or undefined without a usable Host. */
function requestOrigin(req: NodeRequest): string | undefined {
	const host = req.headers[":authority"] ?? req.headers.host;
	if (typeof host !== "string" || !/^[A-Za-z0-9.:[\]_-]+$/.test(host)) {
		return undefined;
	}
	const encrypted = "encrypted" in req.socket && req.socket.encrypted === true;
	return `${encrypted ? "https" : "http"}://${host}`;
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
