/**
 * The EventStream of flagd.evaluation.v1 and v2 (flagd-protocol.md §7): `provider_ready` once the daemon is ready
 * (every source delivered its first flags, as /readyz reports; `keep_alive` while it waits),
 * `configuration_change` with `{flags: {<key>: {type}}}` for every change of the selected view, `keep_alive` after
 * an idle interval (20 s in flagd), `provider_shutdown` when the daemon stops, and DEADLINE_EXCEEDED after the
 * optional server-side stream deadline.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { JsonObject } from "@flagd-ts/evaluator";
import { EventType, FlagChangeType } from "@flagd-ts/protocol";
import type { FlagStore } from "../../store/flag-store.js";
import type { FlagChanges } from "../../store/flag-view.js";
import type { Selector } from "../../store/selector.js";
import { EventQueue } from "../event-queue.js";

/** One EventStream message before protobuf encoding; `data` unset is omitted on the wire. */
export interface FlagEvent {
	readonly type: string;
	readonly data?: JsonObject;
}

export interface FlagEventStreamOptions {
	readonly store: FlagStore;
	readonly selector: Selector;
	/** The client's call signal: the stream ends quietly when it aborts. */
	readonly signal: AbortSignal;
	/** Aborts on daemon shutdown: the stream sends `provider_shutdown` and ends. */
	readonly shutdownSignal: AbortSignal;
	readonly keepAliveMs: number;
	/** 0 = no deadline. */
	readonly deadlineMs: number;
}

/** See the file comment. */
export async function* flagEventStream(
	options: FlagEventStreamOptions,
): AsyncGenerator<FlagEvent> {
	const queue = new EventQueue<FlagEvent>();
	let unsubscribe: (() => void) | undefined;
	// Aborts the wait for readiness on whatever ends the queue (client gone, shutdown, stream deadline).
	const ended = new AbortController();
	const end = (reason: string) => {
		queue.end(reason);
		ended.abort();
	};
	const onAbort = () => end("aborted");
	const onShutdown = () => end("shutdown");
	options.signal.addEventListener("abort", onAbort);
	options.shutdownSignal.addEventListener("abort", onShutdown);
	const deadline =
		options.deadlineMs > 0
			? setTimeout(() => end("deadline"), options.deadlineMs)
			: undefined;
	try {
		if (options.shutdownSignal.aborted) {
			yield { type: EventType.providerShutdown, data: {} };
			return;
		}
		// Before the first sync there are no flags: a provider told "ready" now would get FLAG_NOT_FOUND.
		while (!ended.signal.aborted && !options.store.isReady()) {
			const ready = await options.store.waitUntilReady(
				options.keepAliveMs,
				ended.signal,
			);
			if (!ready && !ended.signal.aborted) yield { type: EventType.keepAlive };
		}
		// Subscribed once ready: the baseline is the flags the provider will read after provider_ready.
		if (!ended.signal.aborted) {
			unsubscribe = options.store.subscribe(options.selector, (changes) => {
				queue.push({
					type: EventType.configurationChange,
					data: changeData(changes),
				});
			});
			yield { type: EventType.providerReady, data: {} };
		}
		for (;;) {
			const next = await queue.next(options.keepAliveMs);
			if (next.kind === "item") yield next.item;
			else if (next.kind === "idle") yield { type: EventType.keepAlive };
			else if (next.reason === "shutdown") {
				yield { type: EventType.providerShutdown, data: {} };
				return;
			} else if (next.reason === "deadline") {
				throw new ConnectError(
					"stream closed due to server-side timeout",
					Code.DeadlineExceeded,
				);
			} else return;
		}
	} finally {
		unsubscribe?.();
		clearTimeout(deadline);
		options.signal.removeEventListener("abort", onAbort);
		options.shutdownSignal.removeEventListener("abort", onShutdown);
	}
}

/** The `data` of a configuration_change: `{flags: {<key>: {type}}}` (shared with event-stream-hub.ts). */
export function changeData(changes: FlagChanges): JsonObject {
	// Flag keys come from documents: define properties so a key like "__proto__" stays a plain key.
	const flags: JsonObject = {};
	const put = (key: string, type: string) =>
		Object.defineProperty(flags, key, {
			value: { type },
			enumerable: true,
			writable: true,
			configurable: true,
		});
	for (const key of changes.added) put(key, FlagChangeType.write);
	for (const key of changes.updated) put(key, FlagChangeType.update);
	for (const key of changes.deleted) put(key, FlagChangeType.delete);
	return { flags };
}
