import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import murmurhash from "murmurhash";
import {
	encodeDeterministicCbor,
	exactFloat16Bits,
} from "./deterministic-cbor.js";
import { createFractionalSchemeV3 } from "./fractional-scheme-v3.js";

function hex(value: unknown): string {
	return Buffer.from(encodeDeterministicCbor(value)).toString("hex");
}

// Vectors from RFC 8949 Appendix A, except that whole-valued floats are integers (the flagd v3 ADR's rule for
// values that arrive as float64: 0.0, -0.0, 65504.0, -4.0 encode like 0, 0, 65504, -4).
describe("encodeDeterministicCbor", () => {
	it.each<[unknown, string]>([
		[0, "00"],
		[1, "01"],
		[23, "17"],
		[24, "1818"],
		[100, "1864"],
		[1000, "1903e8"],
		[1000000, "1a000f4240"],
		[1000000000000, "1b000000e8d4a51000"],
		[9007199254740992, "1b0020000000000000"],
		[-1, "20"],
		[-100, "3863"],
		[-1000, "3903e7"],
		[-(2 ** 63), "3b7fffffffffffffff"],
		[-0, "00"],
		[65504, "19ffe0"],
		[-4, "23"],
		[1.1, "fb3ff199999999999a"],
		[1.5, "f93e00"],
		[2 ** -24, "f90001"],
		[0.00006103515625, "f90400"],
		[100000.5, "fa47c35040"],
		[3.4028234663852886e38, "fa7f7fffff"],
		[1e300, "fb7e37e43c8800759c"],
		[-4.1, "fbc010666666666666"],
		[2 ** 64, "fa5f800000"],
		[false, "f4"],
		[true, "f5"],
		[null, "f6"],
		["", "60"],
		["a", "6161"],
		["IETF", "6449455446"],
		['"\\', "62225c"],
		["ü", "62c3bc"],
		["水", "63e6b0b4"],
		["𐅑", "64f0908591"],
		[[], "80"],
		[[1, 2, 3], "83010203"],
		[{}, "a0"],
		[{ a: 1, b: [2, 3] }, "a26161016162820203"],
		[{ aa: 2, z: 1 }, "a2617a0162616102"],
	])("encodes %j as %s", (value, expected) => {
		expect(hex(value)).toBe(expected);
	});

	it("is independent of object key order", () => {
		fc.assert(
			fc.property(
				fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
				(object) => {
					const reversed = Object.fromEntries(Object.entries(object).reverse());
					expect(hex(reversed)).toBe(hex(object));
				},
			),
		);
	});

	it("rejects values JSON cannot carry", () => {
		expect(() => encodeDeterministicCbor(() => 1)).toThrow(TypeError);
		expect(() => encodeDeterministicCbor(Symbol("x"))).toThrow(TypeError);
	});
});

describe("exactFloat16Bits", () => {
	it("finds exactly representable float16 values and nothing else", () => {
		expect(exactFloat16Bits(1.5)).toBe(0x3e00);
		expect(exactFloat16Bits(-2.5)).toBe(0xc100);
		expect(exactFloat16Bits(65504)).toBe(0x7bff);
		expect(exactFloat16Bits(65505)).toBeUndefined();
		expect(exactFloat16Bits(2 ** -24)).toBe(0x0001);
		expect(exactFloat16Bits(0.1)).toBeUndefined();
		expect(exactFloat16Bits(Number.POSITIVE_INFINITY)).toBeUndefined();
	});

	it("round-trips every float16 bit pattern of finite values", () => {
		for (let bits = 0; bits < 0x7c00; bits++) {
			const exponent = bits >> 10;
			const fraction = bits & 0x3ff;
			const value =
				exponent === 0
					? fraction * 2 ** -24
					: (1 + fraction / 1024) * 2 ** (exponent - 15);
			expect(exactFloat16Bits(value)).toBe(bits);
			if (value !== 0) expect(exactFloat16Bits(-value)).toBe(bits | 0x8000);
		}
	});
});

describe("fractional v3 scheme", () => {
	const scheme = createFractionalSchemeV3("flag");

	it("treats arrays as buckets, null as no result and any other value as the bucketing value", () => {
		expect(scheme.classify(["a", 1])).toBe("implicit");
		expect(scheme.classify(null)).toBeNull();
		for (const value of ["x", 1, 1.5, true, { a: 1 }])
			expect(typeof scheme.classify(value)).toBe("number");
		expect(scheme.classify(1)).not.toBe(scheme.classify("1"));
	});

	it("hashes [flagKey, targetingKey] for the implicit form and needs a string targeting key", () => {
		const expected =
			murmurhash.v3(encodeDeterministicCbor(["flag", "user"]), 0) >>> 0;
		expect(scheme.implicit({ targetingKey: "user" })).toBe(expected);
		expect(scheme.classify(["flag", "user"])).toBe("implicit");
		expect(scheme.implicit({ targetingKey: 12345 })).toBeUndefined();
		expect(scheme.implicit({})).toBeUndefined();
	});
});
