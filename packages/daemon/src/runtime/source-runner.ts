/**
 * Runs one sync source into the store: init, then every payload of its stream applied as that source's snapshot.
 * Reports the first valid payload and a failure before it; failures after it are logged (the source retries
 * internally). Ends quietly when the signal aborts.
 */
import type { Tracer } from "@opentelemetry/api";
import { DaemonError, isDaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { FlagStore } from "../store/flag-store.js";
import type { SyncSource } from "../syncs/sync-source.js";
import { traceSyncPayload } from "../telemetry/sync-span.js";

export interface SourceRunHandlers {
	/** The source's first valid payload is in the store. */
	onFirstPayload(source: string): void;
	/** The source failed before delivering a valid payload. */
	onStartupFailure(source: string, error: DaemonError): void;
}

/** See the file comment. Never rejects. */
export async function runSource(
	source: SyncSource,
	store: FlagStore,
	options: {
		signal: AbortSignal;
		logger: Logger;
		handlers: SourceRunHandlers;
		/** Tracer for one `flagSync` span per payload; undefined when tracing is off. */
		tracer?: Tracer | undefined;
	},
): Promise<void> {
	const { signal, logger, handlers, tracer } = options;
	const log = logger.child({ source: source.uri });
	let delivered = false;
	try {
		await source.init(signal);
		for await (const payload of source.sync(signal)) {
			if (signal.aborted) break;
			const update = {
				source: source.uri,
				content: payload.content,
				format: payload.format,
			};
			const result =
				tracer === undefined
					? store.apply(update)
					: traceSyncPayload(tracer, source.uri, () => store.apply(update));
			if (result.ok && !delivered) {
				delivered = true;
				log.info({}, "sync source delivered its first flags");
				handlers.onFirstPayload(source.uri);
			} else if (result.ok && result.changed) {
				log.debug(
					{
						flagCount: result.flagCount,
						changedKeyCount: result.changedKeyCount,
					},
					"flags updated",
				);
			}
		}
		if (!signal.aborted) {
			log.warn(
				{},
				"sync source stream ended unexpectedly; keeping its last flags",
			);
		}
	} catch (e: unknown) {
		if (signal.aborted) return;
		const error = isDaemonError(e)
			? e
			: new DaemonError(
					"SOURCE_UNAVAILABLE",
					`sync source ${source.uri} failed: ${e instanceof Error ? e.message : String(e)}`,
					{ cause: e },
				);
		if (!delivered) {
			log.error(
				{ err: error },
				`sync source failed before its first payload: ${error.message}`,
			);
			handlers.onStartupFailure(source.uri, error);
		} else {
			log.error(
				{ err: error },
				`sync source stopped: ${error.message}; keeping its last flags`,
			);
		}
	}
}
