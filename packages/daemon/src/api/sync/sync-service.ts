/**
 * flagd.sync.v1.FlagSyncService (flagd-protocol.md §8): SyncFlags streams the full selected flag set in flagd's
 * `flag_configuration` JSON on connect and after every change of that view; FetchAllFlags returns it once;
 * GetMetadata returns the static context (UNIMPLEMENTED when disabled). The selector comes from the
 * `flagd-selector` metadata first, then the (deprecated) request field. Snapshot JSON is cached per view.
 */
import {
	Code,
	ConnectError,
	type HandlerContext,
	type ServiceImpl,
} from "@connectrpc/connect";
import type { JsonObject } from "@flagd-ts/evaluator";
import type { FlagSyncService } from "@flagd-ts/protocol";
import type { FlagStore } from "../../store/flag-store.js";
import type { FlagView } from "../../store/flag-view.js";
import type { Selector } from "../../store/selector.js";
import type { SelectorCache } from "../../store/selector-cache.js";
import type { DaemonMetrics } from "../../telemetry/daemon-metrics.js";
import { toConnectError } from "../connect-errors.js";
import { EventQueue } from "../event-queue.js";

export interface SyncServiceOptions {
	readonly store: FlagStore;
	readonly selectors: SelectorCache;
	readonly metrics: DaemonMetrics;
	/** The `-X` static context, sent as `sync_context` and by GetMetadata. */
	readonly staticContext: JsonObject;
	readonly disableSyncMetadata: boolean;
	readonly shutdownSignal: AbortSignal;
	/** 0 = no deadline. */
	readonly deadlineMs: number;
}

/** How long a stream waits between checks when idle; only bounds the wait, sends nothing. */
const IDLE_WAIT_MS = 60_000;
/** First snapshots wait this long for every source's first payload (flagd delays its sync server up to 5 s). */
const READY_WAIT_MS = 5_000;

/** Builds the sync service implementation. */
export function createSyncService(
	options: SyncServiceOptions,
): ServiceImpl<typeof FlagSyncService> {
	return {
		syncFlags: (req, ctx) => syncFlags(options, req, ctx),
		async fetchAllFlags(req, ctx) {
			const selector = selectorOf(options, req.selector, ctx);
			await options.store.waitUntilReady(READY_WAIT_MS, ctx.signal);
			return { flagConfiguration: options.store.view(selector).syncDocument() };
		},
		getMetadata() {
			if (options.disableSyncMetadata) {
				throw new ConnectError("metadata is disabled", Code.Unimplemented);
			}
			return { metadata: options.staticContext };
		},
	};
}

function selectorOf(
	options: SyncServiceOptions,
	bodySelector: string,
	ctx: HandlerContext,
): Selector {
	const header = ctx.requestHeader.get("flagd-selector");
	try {
		return options.selectors.get(
			header !== null && header !== "" ? header : bodySelector,
		);
	} catch (e: unknown) {
		throw toConnectError(e);
	}
}

async function* syncFlags(
	options: SyncServiceOptions,
	req: { providerId: string; selector: string },
	ctx: HandlerContext,
): AsyncGenerator<{ flagConfiguration: string; syncContext: JsonObject }> {
	const selector = selectorOf(options, req.selector, ctx);
	const queue = new EventQueue<FlagView>();
	const unsubscribe = options.store.subscribe(selector, (_changes, view) =>
		queue.push(view),
	);
	const onAbort = () => queue.end("client_disconnect");
	const onShutdown = () => queue.end("normal_close");
	ctx.signal.addEventListener("abort", onAbort);
	options.shutdownSignal.addEventListener("abort", onShutdown);
	const deadline =
		options.deadlineMs > 0
			? setTimeout(() => queue.end("deadline_exceeded"), options.deadlineMs)
			: undefined;
	const done = options.metrics.startSyncStream(selector.key, req.providerId);
	let reason = "error";
	try {
		await options.store.waitUntilReady(READY_WAIT_MS, ctx.signal);
		yield snapshot(options, options.store.view(selector));
		for (;;) {
			const next = await queue.next(IDLE_WAIT_MS);
			if (next.kind === "idle") continue;
			if (next.kind === "item") {
				// Several queued changes collapse into the latest snapshot.
				yield snapshot(options, options.store.view(selector));
				continue;
			}
			reason = next.reason;
			if (next.reason === "deadline_exceeded") {
				throw new ConnectError(
					"stream closed due to server-side timeout",
					Code.DeadlineExceeded,
				);
			}
			return;
		}
	} finally {
		done(reason);
		unsubscribe();
		clearTimeout(deadline);
		ctx.signal.removeEventListener("abort", onAbort);
		options.shutdownSignal.removeEventListener("abort", onShutdown);
	}
}

function snapshot(
	options: SyncServiceOptions,
	view: FlagView,
): { flagConfiguration: string; syncContext: JsonObject } {
	return {
		flagConfiguration: view.syncDocument(),
		syncContext: options.staticContext,
	};
}
