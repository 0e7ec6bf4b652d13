import { defineOwn, isJsonObject } from "./json-guards.js";
import { pointerSegment } from "./targeting-operators.js";
import type { FlagMetadata } from "./types.js";
import type { ValidationIssues } from "./validation-issues.js";

/**
 * Reads a `metadata` object (flag or set level): flat, string/number/boolean values (flagd schema). Other values are
 * reported (INVALID_METADATA warning at their exact path) and left out, so the rest of the metadata still works.
 */
export function readFlagMetadata(
	value: unknown,
	path: string,
	issues: ValidationIssues,
	flagKey?: string,
): FlagMetadata {
	const metadata: FlagMetadata = Object.create(null);
	if (value === undefined || value === null) return metadata;
	if (!isJsonObject(value)) {
		issues.warn(
			"INVALID_METADATA",
			path,
			"metadata must be an object",
			flagKey,
		);
		return metadata;
	}
	for (const [key, entry] of Object.entries(value)) {
		if (
			typeof entry === "string" ||
			typeof entry === "boolean" ||
			typeof entry === "number"
		) {
			defineOwn(metadata, key, entry);
		} else {
			issues.warn(
				"INVALID_METADATA",
				`${path}/${pointerSegment(key)}`,
				`metadata value "${key}" must be a string, number or boolean; it is ignored`,
				flagKey,
			);
		}
	}
	return metadata;
}

/** `flagSetId` of a metadata object when it is a string. */
export function flagSetIdOf(metadata: FlagMetadata): string | undefined {
	const id = metadata.flagSetId;
	return typeof id === "string" ? id : undefined;
}
