import {
	Code,
	ConnectError,
	createClient,
	type Transport,
} from "@connectrpc/connect";
import { type JsonObject, parseFlagDocument } from "@flagd-ts/evaluator";
import { FlagSyncService } from "@flagd-ts/protocol";
import type { StreamMessage } from "@flagd-ts/provider-core";
import type { Logger } from "@openfeature/server-sdk";
import type { LocalFlagStore } from "./local-flag-store.js";

/** Options of {@link createSyncFlagsStream}. */
export interface SyncFlagsStreamOptions {
	readonly transport: Transport;
	/** Sent as the `flagd-selector` header and in the (deprecated) request field, as flagd's own clients do. */
	readonly selector: string | undefined;
	readonly providerId: string | undefined;
	readonly flags: LocalFlagStore;
	/** Receives the `sync_context` of every payload (an empty object when the daemon sends none). */
	readonly onSyncContext: (context: JsonObject) => void;
	readonly logger: Logger;
}

/**
 * Adapts flagd's `FlagSyncService/SyncFlags` to the stream the event-stream supervisor consumes. Each payload is
 * the whole flag set: it is parsed and applied to the local store, then announced as `provider_ready` (the first
 * payload of each connection) and `configuration_change` with the exact keys that changed (later payloads, and a
 * first payload after a reconnect that differs from what was held). A payload the evaluator rejects is logged and
 * skipped; the flags in use stay. Each payload's `sync_context` goes to `onSyncContext`; a daemon that sends none
 * is asked once per connection through the (deprecated) GetMetadata, as flagd's other providers do.
 */
export function createSyncFlagsStream(
	options: SyncFlagsStreamOptions,
): (signal: AbortSignal) => AsyncIterable<StreamMessage> {
	const client = createClient(FlagSyncService, options.transport);
	const headers: Record<string, string> = {};
	if (options.selector) headers["flagd-selector"] = options.selector;
	const request = {
		providerId: options.providerId ?? "",
		selector: options.selector ?? "",
	};
	/** GetMetadata's static context; `{}` when the daemon does not implement it or has it disabled. */
	async function fetchMetadata(signal: AbortSignal): Promise<JsonObject> {
		try {
			const response = await client.getMetadata({}, { signal, headers });
			return response.metadata ?? {};
		} catch (error: unknown) {
			if (ConnectError.from(error).code !== Code.Unimplemented) {
				options.logger.warn(
					`flagd provider: GetMetadata failed (${ConnectError.from(error).message}); evaluating without the daemon's static context`,
				);
			}
			return {};
		}
	}

	return async function* syncFlags(signal) {
		let first = true;
		for await (const response of client.syncFlags(request, {
			signal,
			headers,
		})) {
			const parsed = parseFlagDocument(response.flagConfiguration, {
				format: "json",
			});
			if (!parsed.ok) {
				options.logger.error(
					`flagd provider: sync payload rejected (${parsed.errors
						.slice(0, 3)
						.map((e) => `${e.path || "/"}: ${e.message}`)
						.join("; ")}); keeping the flags in use`,
				);
				continue;
			}
			const hadFlags = options.flags.loaded;
			const changed = options.flags.apply(parsed.document);
			if (response.syncContext !== undefined) {
				options.onSyncContext(response.syncContext);
			} else if (first) {
				// Daemons older than sync_context (flagd < 0.6.4) serve the static context through GetMetadata.
				options.onSyncContext(await fetchMetadata(signal));
			}
			if (first) {
				first = false;
				yield { type: "provider_ready" };
				if (!hadFlags || changed.length === 0) continue;
			} else if (changed.length === 0) {
				continue;
			}
			yield changeMessage(changed);
		}
	};
}

/** The supervisor reads the changed keys from `data.flags` (flagd's EventStream shape). */
export function changeMessage(changed: readonly string[]): StreamMessage {
	const flags: JsonObject = {};
	for (const key of changed) {
		// defineProperty: a flag named `__proto__` is an ordinary key here.
		Object.defineProperty(flags, key, {
			value: {},
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return { type: "configuration_change", data: { flags } };
}
