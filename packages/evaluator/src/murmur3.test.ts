import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import murmurhash from "murmurhash";
import { murmur3Utf8, murmur3Utf8WithPrefix } from "./murmur3.js";

// Reference values: Go spaolacci/murmur3.Sum32 and the published MurmurHash3 x86_32 vectors (toolchain.md §7).
describe("murmur3Utf8", () => {
	it.each([
		["", 0],
		["hello", 0x248bfa47],
		["The quick brown fox jumps over the lazy dog", 0x2e4ff723],
		["flagKeyuser1", 3638972632],
	])("hashes %j like Go", (text, expected) => {
		expect(murmur3Utf8(text)).toBe(expected);
	});

	it("matches murmurhash.v3 on the UTF-8 bytes for non-ASCII keys (where imurmurhash differs from Go)", () => {
		for (const text of ["héllo", "日本語キー", "emoji😀key", "ü", "user-ß-1"]) {
			const bytes = new TextEncoder().encode(text);
			expect(murmur3Utf8(text)).toBe(murmurhash.v3(bytes, 0) >>> 0);
		}
	});

	it("the ASCII fast path equals the library on the UTF-8 bytes for any ASCII string", () => {
		fc.assert(
			fc.property(
				fc.string({ unit: "binary-ascii", maxLength: 64 }),
				(text) => {
					expect(murmur3Utf8(text)).toBe(
						murmurhash.v3(new TextEncoder().encode(text), 0) >>> 0,
					);
				},
			),
			{ numRuns: 2000 },
		);
	});

	it("equals the library for any string (mixed ASCII and non-ASCII)", () => {
		fc.assert(
			fc.property(fc.string({ unit: "grapheme", maxLength: 32 }), (text) => {
				expect(murmur3Utf8(text)).toBe(
					murmurhash.v3(new TextEncoder().encode(text), 0) >>> 0,
				);
			}),
			{ numRuns: 500 },
		);
	});
});

describe("murmur3Utf8WithPrefix", () => {
	it("equals murmur3Utf8(prefix + suffix) for any prefix and suffix, ASCII or not", () => {
		const text = fc.oneof(
			fc.string({ unit: "binary-ascii", maxLength: 12 }),
			fc.string({ unit: "grapheme", maxLength: 6 }),
		);
		fc.assert(
			fc.property(text, text, (prefix, suffix) => {
				expect(murmur3Utf8WithPrefix(prefix)(suffix)).toBe(
					murmurhash.v3(new TextEncoder().encode(prefix + suffix), 0) >>> 0,
				);
			}),
			{ numRuns: 3000 },
		);
	});

	it("reproduces the Go vector with the flag key as prefix", () => {
		expect(murmur3Utf8WithPrefix("flagKey")("user1")).toBe(3638972632);
	});
});
