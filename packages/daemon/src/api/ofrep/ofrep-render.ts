/**
 * OFREP response bodies as flagd renders them (flagd-protocol.md §10): success `{key, value?, variant?, reason,
 * metadata}` (value/variant left out for DISABLED and the code default), errors `{key, errorCode, errorDetails,
 * metadata}` with flagd's status codes and texts.
 */
import type { EvaluationResult, FlagMetadata } from "@flagd-ts/evaluator";

/** One evaluated flag as an OFREP item, with the HTTP status a single-flag request answers with. */
export interface OfrepItem {
	readonly status: number;
	readonly body: Record<string, unknown>;
}

export function renderOfrepItem(
	result: EvaluationResult,
	metadata: FlagMetadata,
): OfrepItem {
	const key = result.flagKey;
	switch (result.errorCode) {
		case undefined:
			break;
		case "FLAG_NOT_FOUND":
			return errorItem(
				404,
				key,
				"FLAG_NOT_FOUND",
				`flag \`${key}\` does not exist`,
				metadata,
			);
		case "PARSE_ERROR":
			return errorItem(
				400,
				key,
				"PARSE_ERROR",
				`error parsing the flag \`${key}\``,
				metadata,
			);
		default:
			return errorItem(
				400,
				key,
				"GENERAL",
				"error processing the flag for evaluation",
				metadata,
			);
	}
	const body: Record<string, unknown> = { key };
	if (result.value !== undefined) body.value = result.value;
	if (result.variant !== undefined) body.variant = result.variant;
	body.reason = result.reason;
	body.metadata = metadata;
	return { status: 200, body };
}

export function errorItem(
	status: number,
	key: string | undefined,
	errorCode: string,
	errorDetails: string,
	metadata: FlagMetadata | null,
): OfrepItem {
	const body: Record<string, unknown> = key === undefined ? {} : { key };
	body.errorCode = errorCode;
	body.errorDetails = errorDetails;
	body.metadata = metadata;
	return { status, body };
}
