/**
 * Runs one sync source into the store: init, then every payload of its stream applied as that source's snapshot.
 * Reports the first valid payload, and a failure before it (the source failed, or the store rejected its first
 * document) to the handlers, which decide whether the daemon exits; the source keeps syncing meanwhile. Failures
 * after the first payload are logged (the source retries internally). Every applied change is logged at info: which
 * source, how many flags, which keys changed. Ends quietly when the signal aborts.
 */
import type { Tracer } from "@opentelemetry/api";
import { DaemonError, isDaemonError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import { redactUri, redactUrisInText } from "../logging/redact-uri.js";
import type { FlagStore } from "../store/flag-store.js";
import type { SyncSource } from "../syncs/sync-source.js";
import { traceSyncPayload } from "../telemetry/sync-span.js";

export interface SourceRunHandlers {
	/** The source's first valid payload is in the store. */
	onFirstPayload(source: string): void;
	/** The source failed before delivering a valid payload: the handler reports it (once per source). */
	onStartupFailure(source: string, error: DaemonError): void;
}

/** How many changed flag keys one "flags updated" line names; the rest are counted. */
const MAX_LOGGED_KEYS = 10;

function keyList(keys: readonly string[]): string {
	const named = keys.slice(0, MAX_LOGGED_KEYS).join(", ");
	return keys.length > MAX_LOGGED_KEYS
		? `${named} (+${keys.length - MAX_LOGGED_KEYS} more)`
		: named;
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
	const label = redactUri(source.uri);
	const log = logger.child({ source: label });
	let delivered = false;
	let reported = false;
	const reportStartupFailure = (error: DaemonError): void => {
		if (reported) return;
		reported = true;
		handlers.onStartupFailure(source.uri, error);
	};
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
			if (!result.ok) {
				// Later rejections were logged by the store, which keeps the source's last good flags.
				if (!delivered) reportStartupFailure(result.error);
			} else if (!delivered) {
				delivered = true;
				log.info(
					{ flagCount: result.flagCount },
					`sync source delivered its first flags: ${result.flagCount} flag(s)`,
				);
				handlers.onFirstPayload(source.uri);
			} else if (!result.changed && payload.recovered === true) {
				log.info(
					{ flagCount: result.flagCount },
					`sync source ${source.uri} is usable again; its ${result.flagCount} flag(s) are unchanged`,
				);
			} else if (result.changed) {
				log.info(
					{
						flagCount: result.flagCount,
						changedKeyCount: result.changedKeyCount,
						changedKeys: result.changedKeys.slice(0, MAX_LOGGED_KEYS),
					},
					`flags updated from ${source.uri}: ${result.flagCount} flag(s), ${result.changedKeyCount} changed: ${keyList(result.changedKeys)}`,
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
					`sync source ${label} failed: ${e instanceof Error ? redactUrisInText(e.message) : redactUrisInText(String(e))}`,
					{ cause: e },
				);
		if (!delivered) {
			reportStartupFailure(error);
		} else {
			log.error(
				{ err: error },
				`sync source stopped: ${error.message}; keeping its last flags`,
			);
		}
	}
}
