import murmurhash from "murmurhash";
import { encodeDeterministicCbor } from "./deterministic-cbor.js";
import {
	type FractionalScheme,
	targetingKeyOf,
} from "./fractional-operator.js";

/**
 * The "v3" fractional scheme (flagd ADR `fractional-non-string-rand-units.md`, accepted; not in flagd 0.16, which
 * is why it is opt-in): the hash input is the deterministic CBOR encoding of the bucketing value, so numbers,
 * booleans and objects can be bucketed too. Any non-array first argument is the bucketing value (`null` yields
 * null); the implicit value is the 2-element array `[flagKey, targetingKey]` (a non-string targeting key yields
 * null). The bucket math is the same as v2.
 */
export function createFractionalSchemeV3(flagKey: string): FractionalScheme {
	return {
		version: "v3",
		classify: (first) => {
			if (Array.isArray(first)) return "implicit";
			if (first === null || first === undefined) return null;
			return hashCbor(first);
		},
		implicit: (context) => {
			const targetingKey = targetingKeyOf(context);
			if (targetingKey === undefined) return undefined;
			return hashCbor([flagKey, targetingKey]) ?? undefined;
		},
	};
}

/** murmur3 of the CBOR bytes; `null` (no result) for values CBOR cannot carry here. */
function hashCbor(value: unknown): number | null {
	try {
		return murmurhash.v3(encodeDeterministicCbor(value), 0) >>> 0;
	} catch (error: unknown) {
		// Only non-JSON values (functions, symbols) or absurd nesting get here; the operator contract is "null on bad
		// input" (flagd#1874), so this is the operator's error result, not a swallowed failure.
		if (error instanceof TypeError || error instanceof RangeError) return null;
		throw error;
	}
}
