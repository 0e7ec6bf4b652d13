/**
 * The `flagSync` span: one per payload a sync source delivers, covering parse, validation, compilation and the
 * store merge, with the source, the number of flags it now holds and how many flag identities changed.
 */
import type { Tracer } from "@opentelemetry/api";
import { redactUri } from "../logging/redact-uri.js";
import type { ApplyResult } from "../store/flag-store.js";
import { SPAN_STATUS_ERROR } from "./span-codes.js";

/** Span attribute names of the flagSync span. */
export const SYNC_SPAN_ATTRIBUTES = {
	source: "feature_flag.flagd.sync.source",
	flagCount: "feature_flag.flagd.sync.flag_count",
	changedKeyCount: "feature_flag.flagd.sync.changed_key_count",
} as const;

/** Applies one payload inside a `flagSync` span. */
export function traceSyncPayload(
	tracer: Tracer,
	source: string,
	apply: () => ApplyResult,
): ApplyResult {
	const span = tracer.startSpan("flagSync", {
		attributes: { [SYNC_SPAN_ATTRIBUTES.source]: redactUri(source) },
	});
	try {
		const result = apply();
		if (result.ok) {
			span.setAttribute(SYNC_SPAN_ATTRIBUTES.flagCount, result.flagCount);
			span.setAttribute(
				SYNC_SPAN_ATTRIBUTES.changedKeyCount,
				result.changedKeyCount,
			);
		} else {
			span.setAttribute("error.type", result.error.code);
			span.setStatus({
				code: SPAN_STATUS_ERROR,
				message: result.error.message,
			});
		}
		return result;
	} catch (e: unknown) {
		span.setStatus({ code: SPAN_STATUS_ERROR, message: String(e) });
		throw e;
	} finally {
		span.end();
	}
}
