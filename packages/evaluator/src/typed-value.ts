import type { JsonValue, RequestedType } from "./types.js";

/** Marker for "the value does not have the requested type". */
export const TYPE_MISMATCH: unique symbol = Symbol("TYPE_MISMATCH");

/**
 * Checks a variant value against the requested type, as flagd's typed resolvers do. `number` accepts any number
 * (Go float64); `integer` also accepts any number and truncates towards zero, exactly like flagd's
 * `int64(float64)` (3.9 -> 3, -3.9 -> -3; the draft ADR numeric-coercion.md may make this lossless later);
 * `object` means a JSON object, not an array (Go `map[string]any`); `any` accepts everything.
 */
export function toRequestedType(
	value: JsonValue,
	type: RequestedType,
): JsonValue | typeof TYPE_MISMATCH {
	switch (type) {
		case "any":
			return value;
		case "boolean":
			return typeof value === "boolean" ? value : TYPE_MISMATCH;
		case "string":
			return typeof value === "string" ? value : TYPE_MISMATCH;
		case "number":
			return typeof value === "number" ? value : TYPE_MISMATCH;
		case "integer":
			// `|| 0` turns -0 into 0, as Go's int64(-0.5) is 0.
			return typeof value === "number" ? Math.trunc(value) || 0 : TYPE_MISMATCH;
		case "object":
			return value !== null &&
				typeof value === "object" &&
				!Array.isArray(value)
				? value
				: TYPE_MISMATCH;
		default:
			return TYPE_MISMATCH;
	}
}

/** A short JSON-ish name of a value's type for error messages. */
export function jsonTypeName(value: JsonValue): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "array";
	return typeof value;
}
