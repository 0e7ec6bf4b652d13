import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
	createFractionalSchemeV2,
	evaluateFractional,
	fractionalBucket,
	fractionalHashV2,
	MAX_FRACTIONAL_WEIGHT,
	parseFractionalBuckets,
	pickFractionalVariant,
} from "./fractional-operator.js";

describe("fractionalBucket", () => {
	it("equals the 64-bit (hash * totalWeight) >> 32 for any hash and total weight", () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 0, max: 0xffffffff }),
				fc.integer({ min: 1, max: MAX_FRACTIONAL_WEIGHT }),
				(hash, total) => {
					const expected = Number((BigInt(hash) * BigInt(total)) >> 32n);
					expect(fractionalBucket(hash, total)).toBe(expected);
				},
			),
			{ numRuns: 20_000 },
		);
	});

	it.each([
		[0xffffffff, MAX_FRACTIONAL_WEIGHT],
		[0xffffffff, 1],
		[0x80000000, MAX_FRACTIONAL_WEIGHT],
		[0x7fffffff, 100],
		[0, MAX_FRACTIONAL_WEIGHT],
	])("is exact at the edge hash=%d total=%d", (hash, total) => {
		expect(fractionalBucket(hash, total)).toBe(
			Number((BigInt(hash) * BigInt(total)) >> 32n),
		);
	});
});

describe("fractional hash edges (flagd-semantics.md §4.1, verified against Go)", () => {
	it.each([
		["ejOoVL", 0],
		["SI7p-", 2147483647],
		["6LvT0", 2147483648],
		["ceQdGm", 4294967295],
	])("murmur3(%j) = %d", (key, hash) => {
		expect(fractionalHashV2(key)).toBe(hash);
	});

	it("splits [lower, upper] at 2^31 with equal weights", () => {
		const buckets = parseFractionalBuckets([
			["lower", 50],
			["upper", 50],
		]);
		if (buckets === undefined) throw new Error("valid buckets");
		expect(pickFractionalVariant(buckets, "ejOoVL")).toBe("lower");
		expect(pickFractionalVariant(buckets, "SI7p-")).toBe("lower");
		expect(pickFractionalVariant(buckets, "6LvT0")).toBe("upper");
		expect(pickFractionalVariant(buckets, "ceQdGm")).toBe("upper");
	});
});

describe("parseFractionalBuckets", () => {
	it("defaults the weight to 1 and clamps negative weights to 0", () => {
		expect(parseFractionalBuckets([["a"], ["b", -5], ["c", 3]])).toEqual({
			variants: ["a", "b", "c"],
			weights: [1, 0, 3],
			totalWeight: 4,
		});
	});

	it.each([
		["no buckets", []],
		["a bucket that is not an array", ["a"]],
		["an empty bucket", [[]]],
		["an object variant", [[{ a: 1 }, 1]]],
		["a fractional weight", [["a", 1.5]]],
		["a string weight", [["a", "1"]]],
		["a weight above MaxInt32", [["a", MAX_FRACTIONAL_WEIGHT + 1]]],
		[
			"a weight sum above MaxInt32",
			[
				["a", MAX_FRACTIONAL_WEIGHT],
				["b", 1],
			],
		],
		[
			"all weights zero",
			[
				["a", 0],
				["b", 0],
			],
		],
	])("rejects %s", (_name, entries) => {
		expect(parseFractionalBuckets(entries as unknown[])).toBeUndefined();
	});

	it("accepts boolean, number and null variants and a weight sum of exactly MaxInt32", () => {
		expect(
			parseFractionalBuckets([
				[true, 1],
				[2, 1],
				[null, MAX_FRACTIONAL_WEIGHT - 2],
			])?.totalWeight,
		).toBe(MAX_FRACTIONAL_WEIGHT);
	});
});

describe("evaluateFractional", () => {
	const buckets = [
		["a", 50],
		["b", 50],
	];
	const hash = createFractionalSchemeV2("my-flag");

	it("buckets by flag key + targetingKey in the shorthand form", () => {
		const expected = pickFractionalVariant(
			parseFractionalBuckets(buckets) as never,
			"my-flaguser-1",
		);
		expect(evaluateFractional(buckets, { targetingKey: "user-1" }, hash)).toBe(
			expected,
		);
	});

	it("uses an explicit string bucketing value verbatim", () => {
		const expected = pickFractionalVariant(
			parseFractionalBuckets(buckets) as never,
			"some-value",
		);
		expect(evaluateFractional(["some-value", ...buckets], {}, hash)).toBe(
			expected,
		);
	});

	it("drops a null first argument and falls back to the targeting key", () => {
		expect(
			evaluateFractional([null, ...buckets], { targetingKey: "user-1" }, hash),
		).toBe(evaluateFractional(buckets, { targetingKey: "user-1" }, hash));
	});

	it.each([
		["no targeting key", buckets, {}],
		["an empty targeting key", buckets, { targetingKey: "" }],
		["a non-string targeting key", buckets, { targetingKey: 42 }],
		[
			"a number as first argument (flagd#1601)",
			[1700000000, ...buckets],
			{ targetingKey: "u" },
		],
		["no arguments", [], { targetingKey: "u" }],
		["arguments that are not an array", "x", { targetingKey: "u" }],
	])("returns null for %s", (_name, args, context) => {
		expect(evaluateFractional(args, context, hash)).toBeNull();
	});

	it("distributes 100k keys within ±1 % of the weights", () => {
		fc.assert(
			fc.property(
				fc.array(fc.integer({ min: 1, max: 100 }), {
					minLength: 2,
					maxLength: 5,
				}),
				(weights) => {
					const entries = weights.map((w, i) => [`v${i}`, w]);
					const parsed = parseFractionalBuckets(entries);
					if (parsed === undefined) throw new Error("valid buckets");
					const counts = new Map<string, number>();
					const n = 100_000;
					for (let i = 0; i < n; i++) {
						const variant = String(
							pickFractionalVariant(parsed, `flaguser-${i}`),
						);
						counts.set(variant, (counts.get(variant) ?? 0) + 1);
					}
					const total = weights.reduce((a, b) => a + b, 0);
					weights.forEach((w, i) => {
						expect(
							Math.abs((counts.get(`v${i}`) ?? 0) / n - w / total),
						).toBeLessThan(0.01);
					});
				},
			),
			{ numRuns: 5 },
		);
	});
});
