/**
 * flagd.sync.v1 SyncFlags on the direct streaming path (transport/direct-path/direct-stream-path.ts), with the
 * semantics of sync-service.ts (flagd-protocol.md §8): the full selected flag set (`flag_configuration` JSON and
 * `sync_context`) once every source delivered its first flags (or after 5 s, as flagd), then again after every
 * change of that view; the stream ends OK on daemon shutdown and DEADLINE_EXCEEDED after the optional server-side
 * stream deadline.
 *
 * One set of streams and one store subscription per selector: a snapshot is encoded once and the same bytes go
 * to every stream. Snapshots supersede each other, so a stream that has not taken the last one yet (its client
 * reads slowly) is not sent another: it gets the latest when it drains. A slow client therefore holds at most the
 * snapshot it is reading, however many changes happen meanwhile.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { JsonObject } from "@flagd-ts/evaluator";
import type { FlagStore } from "../../store/flag-store.js";
import type { FlagView } from "../../store/flag-view.js";
import type { Selector } from "../../store/selector.js";
import type { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import type { DirectServerStream } from "../../transport/direct-path/direct-server-stream.js";
import { SharedMessage } from "../../transport/direct-path/shared-message.js";

export interface SyncStreamHubOptions {
	readonly store: FlagStore;
	readonly metrics: DaemonMetrics;
	/** The `-X` static context, sent as `sync_context`. */
	readonly staticContext: JsonObject;
	readonly shutdownSignal: AbortSignal;
	/** 0 = no deadline. */
	readonly deadlineMs: number;
	/** How long a first snapshot waits for readiness. @default 5_000 (flagd) */
	readonly readyWaitMs?: number;
}

interface Subscriber {
	readonly stream: DirectServerStream;
	readonly selector: Selector;
	readonly deadline: NodeJS.Timeout | undefined;
	/** The snapshot to send once the stream drains (it had not taken the previous one). */
	pending: SharedMessage | undefined;
	/** Why the stream ended, for the metrics (`client_disconnect` unless the daemon ended it). */
	reason: string;
	group: Group | undefined;
}

interface Group {
	readonly subscribers: Set<Subscriber>;
	readonly unsubscribe: () => void;
	/** The view's snapshot, encoded on first use. */
	snapshot: { readonly view: FlagView; readonly message: SharedMessage };
}

const READY_WAIT_MS = 5_000;

/** See the file comment. */
export class SyncStreamHub {
	readonly #options: SyncStreamHubOptions;
	readonly #groups = new Map<string, Group>();
	readonly #waiting = new Set<Subscriber>();

	constructor(options: SyncStreamHubOptions) {
		this.#options = options;
		options.shutdownSignal.addEventListener("abort", () => this.#shutdown(), {
			once: true,
		});
	}

	/** Open streams (waiting for the first snapshot included). */
	get size(): number {
		let n = this.#waiting.size;
		for (const group of this.#groups.values()) n += group.subscribers.size;
		return n;
	}

	/** Serves one stream until it ends. */
	open(
		selector: Selector,
		providerId: string,
		stream: DirectServerStream,
	): void {
		const options = this.#options;
		const done = options.metrics.startSyncStream(selector.key, providerId);
		if (options.shutdownSignal.aborted) {
			stream.end();
			done("normal_close");
			return;
		}
		const subscriber: Subscriber = {
			stream,
			selector,
			deadline:
				options.deadlineMs > 0
					? setTimeout(() => {
							subscriber.reason = "deadline_exceeded";
							stream.end(
								new ConnectError(
									"stream closed due to server-side timeout",
									Code.DeadlineExceeded,
								),
							);
						}, options.deadlineMs)
					: undefined,
			pending: undefined,
			reason: "client_disconnect",
			group: undefined,
		};
		stream.onClose(() => {
			this.#remove(subscriber);
			done(subscriber.reason);
		});
		stream.onDrain(() => {
			const { pending } = subscriber;
			subscriber.pending = undefined;
			if (pending !== undefined) this.#send(subscriber, pending);
		});
		if (options.store.isReady()) {
			this.#join(subscriber);
			return;
		}
		this.#waiting.add(subscriber);
		// Per stream, as sync-service.ts waits: a waiting stream is rare (only before the first sync).
		const gone = new AbortController();
		stream.onClose(() => gone.abort());
		void options.store
			.waitUntilReady(options.readyWaitMs ?? READY_WAIT_MS, gone.signal)
			.then(() => {
				if (this.#waiting.delete(subscriber) && subscriber.stream.open)
					this.#join(subscriber);
			});
	}

	/** The first snapshot, then every change: the stream joins its selector's set as it is sent the current view. */
	#join(subscriber: Subscriber): void {
		const { selector } = subscriber;
		let group = this.#groups.get(selector.key);
		if (group === undefined) {
			const subscribers = new Set<Subscriber>();
			const unsubscribe = this.#options.store.subscribe(
				selector,
				(_changes, view) => this.#broadcast(created, view),
			);
			const created: Group = {
				subscribers,
				unsubscribe,
				snapshot: this.#snapshot(this.#options.store.view(selector)),
			};
			group = created;
			this.#groups.set(selector.key, group);
		}
		const view = this.#options.store.view(selector);
		if (group.snapshot.view !== view) group.snapshot = this.#snapshot(view);
		group.subscribers.add(subscriber);
		subscriber.group = group;
		this.#send(subscriber, group.snapshot.message);
	}

	#snapshot(view: FlagView): Group["snapshot"] {
		const { staticContext } = this.#options;
		return {
			view,
			message: new SharedMessage(() => ({
				flagConfiguration: view.syncDocument(),
				syncContext: staticContext,
			})),
		};
	}

	#broadcast(group: Group, view: FlagView): void {
		group.snapshot = this.#snapshot(view);
		for (const subscriber of group.subscribers)
			this.#send(subscriber, group.snapshot.message);
	}

	#send(subscriber: Subscriber, message: SharedMessage): void {
		const { stream } = subscriber;
		if (stream.needsDrain) {
			// Still sending the previous snapshot: this one replaces whatever was waiting and goes out on drain.
			subscriber.pending = message;
			return;
		}
		try {
			stream.send(message);
		} catch (e: unknown) {
			subscriber.reason = "error";
			stream.end(
				new ConnectError(
					"internal error",
					Code.Internal,
					undefined,
					undefined,
					e,
				),
			);
		}
	}

	#remove(subscriber: Subscriber): void {
		clearTimeout(subscriber.deadline);
		subscriber.pending = undefined;
		this.#waiting.delete(subscriber);
		const { group } = subscriber;
		if (group === undefined) return;
		group.subscribers.delete(subscriber);
		if (group.subscribers.size === 0) {
			group.unsubscribe();
			if (this.#groups.get(subscriber.selector.key) === group)
				this.#groups.delete(subscriber.selector.key);
		}
	}

	#shutdown(): void {
		const all = [...this.#waiting];
		for (const group of this.#groups.values()) all.push(...group.subscribers);
		for (const subscriber of all) {
			subscriber.reason = "normal_close";
			subscriber.stream.end();
		}
	}
}
