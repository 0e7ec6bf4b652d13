import {
	ErrorCode,
	type FlagMetadata,
	type FlagValue,
	type ResolutionDetails,
	StandardResolutionReasons,
} from "@openfeature/web-sdk";
import type { OfrepFlagItem } from "./ofrep-bulk-client.js";

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** OFREP metadata may hold anything; OpenFeature's holds strings, numbers and booleans. */
export function toFlagMetadata(
	metadata: Record<string, unknown> | undefined,
): FlagMetadata {
	const out: Record<string, string | number | boolean> = {};
	if (metadata === undefined) return out;
	for (const [key, value] of Object.entries(metadata)) {
		if (
			typeof value === "string" ||
			typeof value === "number" ||
			typeof value === "boolean"
		) {
			Object.defineProperty(out, key, {
				value,
				enumerable: true,
				writable: true,
				configurable: true,
			});
		}
	}
	return out;
}

function kindOf(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "object";
	return typeof value;
}

/**
 * One bulk item as the answer to `resolve<Type>Evaluation(key, defaultValue)`: per-flag errors keep their code,
 * a flag without a value (disabled) gives the default with the server's reason, a value of another type is
 * TYPE_MISMATCH; `cached` marks values served from local persistence before the server confirmed them.
 */
export function toResolution<T extends FlagValue>(
	item: OfrepFlagItem | undefined,
	defaultValue: T,
	setMetadata: Record<string, unknown>,
	cached: boolean,
): ResolutionDetails<T> {
	if (item === undefined) {
		return {
			value: defaultValue,
			reason: StandardResolutionReasons.ERROR,
			errorCode: ErrorCode.FLAG_NOT_FOUND,
			errorMessage: "flag not found",
			flagMetadata: toFlagMetadata(setMetadata),
		};
	}
	const flagMetadata = toFlagMetadata(item.metadata);
	if (item.errorCode !== undefined) {
		return {
			value: defaultValue,
			reason: StandardResolutionReasons.ERROR,
			errorCode: (ERROR_CODES.has(item.errorCode)
				? item.errorCode
				: ErrorCode.GENERAL) as ErrorCode,
			errorMessage: item.errorDetails ?? item.errorCode,
			flagMetadata,
		};
	}
	const reason = cached
		? StandardResolutionReasons.CACHED
		: (item.reason ?? StandardResolutionReasons.DEFAULT);
	if (item.value === undefined || item.value === null) {
		return { value: defaultValue, variant: item.variant, reason, flagMetadata };
	}
	if (kindOf(item.value) !== kindOf(defaultValue)) {
		return {
			value: defaultValue,
			reason: StandardResolutionReasons.ERROR,
			errorCode: ErrorCode.TYPE_MISMATCH,
			errorMessage: `flag value is a ${kindOf(item.value)}, not a ${kindOf(defaultValue)}`,
			flagMetadata,
		};
	}
	return {
		value: item.value as T,
		variant: item.variant,
		reason,
		flagMetadata,
	};
}
