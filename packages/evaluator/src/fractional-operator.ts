import { murmur3Utf8, murmur3Utf8WithPrefix } from "./murmur3.js";
import { ownProperty } from "./own-path.js";

/**
 * flagd's `fractional` operator, current ("v2") algorithm (flagd >= 0.15, flagd#1909):
 * `bucket = (murmur3_x86_32(utf8(bucketBy), 0) * totalWeight) >> 32`, then the first bucket whose running weight
 * sum exceeds `bucket` wins. Every invalid input yields `null` so that an enclosing `if` falls through (flagd#1874).
 */

/** A bucket variant after evaluation: what the rule returns when the bucket is picked. */
export type FractionalVariant = string | number | boolean | null;

/** Parsed buckets: parallel arrays keep the hot loop free of property loads on small objects. */
export interface FractionalBuckets {
	readonly variants: readonly FractionalVariant[];
	readonly weights: readonly number[];
	readonly totalWeight: number;
}

/** Go's math.MaxInt32: the upper bound of each weight and of their sum. */
export const MAX_FRACTIONAL_WEIGHT = 2_147_483_647;

/** Which fractional hashing scheme a flag uses: "v2" is flagd 0.15+/0.16; "v3" is the accepted CBOR ADR. */
export type FractionalVersion = "v2" | "v3";

/** How the first argument of `fractional` is used: its hash, or the targeting key instead, or `null` (no result). */
export type FractionalFirstArgument =
	| number
	| "implicit"
	| "implicit-skip"
	| null;

/**
 * A fractional hashing scheme: everything that differs between v2 and v3 (what counts as a bucketing value and which
 * bytes are hashed) sits behind this interface; the bucket math is shared.
 */
export interface FractionalScheme {
	readonly version: FractionalVersion;
	/**
	 * Classifies the evaluated first argument: a number is the hash of an explicit bucketing value; `"implicit"`
	 * means it is the first bucket (shorthand form) and the targeting key is used; `"implicit-skip"` means it is
	 * dropped and the targeting key is used; `null` makes the operator yield null.
	 */
	classify(first: unknown): FractionalFirstArgument;
	/** Hash of the implicit bucketing value of a context; `undefined` when the context has no usable targeting key. */
	implicit(context: unknown): number | undefined;
}

/** The v2 hash input (flagd >= 0.15): the UTF-8 bytes of the string value. */
export function fractionalHashV2(bucketBy: string): number {
	return murmur3Utf8(bucketBy);
}

/**
 * The v2 scheme for one flag: a string first argument is the bucketing value, `null` is dropped, anything else is
 * a bucket; the implicit value is flag key + targeting key (the flag key prefix is hashed once, here).
 */
export function createFractionalSchemeV2(flagKey: string): FractionalScheme {
	const withFlagKey = murmur3Utf8WithPrefix(flagKey);
	return {
		version: "v2",
		classify: (first) => {
			if (typeof first === "string") return fractionalHashV2(first);
			return first === null ? "implicit-skip" : "implicit";
		},
		implicit: (context) => {
			const targetingKey = targetingKeyOf(context);
			return targetingKey === undefined ? undefined : withFlagKey(targetingKey);
		},
	};
}

/**
 * `(hash * totalWeight) >> 32` computed exactly without BigInt: hash < 2^32 and totalWeight < 2^31 give a product
 * up to 2^63, beyond double precision. Splitting hash into 16-bit halves keeps every partial product below 2^47;
 * the dropped fraction of the low half is < 1 and cannot change the floor of an integer sum divided by 2^16.
 */
export function fractionalBucket(hash: number, totalWeight: number): number {
	const high = hash >>> 16;
	const low = hash & 0xffff;
	const sum = high * totalWeight + Math.floor((low * totalWeight) / 65536);
	return Math.floor(sum / 65536);
}

/** Parses bucket entries `[variant, weight?]`; `undefined` when any entry is invalid (the operator yields null). */
export function parseFractionalBuckets(
	entries: readonly unknown[],
): FractionalBuckets | undefined {
	if (entries.length === 0) return undefined;
	const variants: FractionalVariant[] = [];
	const weights: number[] = [];
	let totalWeight = 0;
	for (const entry of entries) {
		if (!Array.isArray(entry) || entry.length === 0) return undefined;
		const variant: unknown = entry[0];
		if (
			variant !== null &&
			typeof variant !== "string" &&
			typeof variant !== "number" &&
			typeof variant !== "boolean"
		) {
			return undefined;
		}
		let weight = 1;
		if (entry.length >= 2) {
			const raw: unknown = entry[1];
			if (typeof raw !== "number" || !Number.isInteger(raw)) return undefined;
			// Negative weights come from computed rollouts; flagd clamps them to 0 rather than failing.
			weight = raw < 0 ? 0 : raw;
			if (weight > MAX_FRACTIONAL_WEIGHT) return undefined;
		}
		totalWeight += weight;
		variants.push(variant);
		weights.push(weight);
	}
	if (totalWeight === 0 || totalWeight > MAX_FRACTIONAL_WEIGHT)
		return undefined;
	// Copies sized to fit: arrays grown by push keep spare capacity (17 slots), and a compiled rule holds these for
	// as long as its flag is loaded (thousands of flags).
	return { variants: variants.slice(), weights: weights.slice(), totalWeight };
}

/** Picks the bucket for a bucketing value (v2 hash). */
export function pickFractionalVariant(
	buckets: FractionalBuckets,
	bucketBy: string,
): FractionalVariant {
	return pickFractionalVariantByHash(buckets, fractionalHashV2(bucketBy));
}

/** Picks the bucket for a hash: the first bucket whose running weight sum exceeds `(hash * total) >> 32`. */
export function pickFractionalVariantByHash(
	buckets: FractionalBuckets,
	hash: number,
): FractionalVariant {
	const bucket = fractionalBucket(hash, buckets.totalWeight);
	const { weights, variants } = buckets;
	let running = 0;
	for (let i = 0; i < weights.length; i++) {
		running += weights[i] as number;
		if (bucket < running) return variants[i] as FractionalVariant;
	}
	return null;
}

/** The context's `targetingKey` when it is a non-empty string (else there is no implicit bucketing value). */
export function targetingKeyOf(context: unknown): string | undefined {
	const targetingKey = ownProperty(context, "targetingKey");
	return typeof targetingKey === "string" && targetingKey !== ""
		? targetingKey
		: undefined;
}

/**
 * The general form on evaluated arguments `[bucketBy?, ...buckets]`; the scheme decides how the first argument is
 * used (v2: a string is the bucketing value, `null` is dropped, anything else is kept as a (then invalid) bucket,
 * flagd#1601).
 */
export function evaluateFractional(
	args: unknown,
	context: unknown,
	scheme: FractionalScheme,
): FractionalVariant {
	if (!Array.isArray(args) || args.length === 0) return null;
	const first = scheme.classify(args[0]);
	if (first === null) return null;
	let hash: number | undefined;
	let entries: readonly unknown[];
	if (typeof first === "number") {
		hash = first;
		entries = args.slice(1);
	} else {
		hash = scheme.implicit(context);
		entries = first === "implicit-skip" ? args.slice(1) : args;
	}
	if (hash === undefined) return null;
	const buckets = parseFractionalBuckets(entries);
	return buckets === undefined
		? null
		: pickFractionalVariantByHash(buckets, hash);
}
