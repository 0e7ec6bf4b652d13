import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { compareGoSemver, type GoSemver, parseGoSemver } from "./go-semver.js";

// Expectations follow golang.org/x/mod/semver's documented rules and its test table (ascending order, with
// equal neighbours grouped).
const ORDERED: readonly (readonly string[])[] = [
	["v1.0.0-alpha"],
	["v1.0.0-alpha.1"],
	["v1.0.0-alpha.beta"],
	["v1.0.0-beta"],
	["v1.0.0-beta.2"],
	["v1.0.0-beta.11"],
	["v1.0.0-rc.1"],
	["v1", "v1.0", "v1.0.0"],
	["v1.2", "v1.2.0"],
	["v1.2.3-456"],
	["v1.2.3-456.789"],
	["v1.2.3-456-789"],
	["v1.2.3-456a"],
	["v1.2.3-pre", "v1.2.3-pre+meta"],
	["v1.2.3-pre.1"],
	["v1.2.3-zzz"],
	["v1.2.3", "v1.2.3+meta", "v1.2.3+meta-pre", "v1.2.3+meta-pre.sha.256a"],
	["v2.0.0"],
	["v10.0.0"],
	["v99999999999999999999999.0.0"],
];

const INVALID = [
	"",
	"bad",
	"1.2.3",
	"V1.2.3",
	"v",
	"v1.",
	"v1.2.",
	"v1.2.3.4",
	"v01.2.3",
	"v1.02.3",
	"v1.2.03",
	"v1-pre",
	"v1+meta",
	"v1.2-pre",
	"v1.2+meta",
	"v1.2.3-",
	"v1.2.3+",
	"v1.2.3-01",
	"v1.2.3-a..b",
	"v1.2.3-a_b",
	"v1.2.3+a..b",
	"v1.2.3 ",
	"v-1.2.3",
];

function parse(text: string): GoSemver {
	const parsed = parseGoSemver(text);
	if (parsed === undefined) throw new Error(`expected ${text} to be valid`);
	return parsed;
}

describe("parseGoSemver", () => {
	it.each(ORDERED.flat())("accepts %s", (text) => {
		expect(parseGoSemver(text)).toBeDefined();
	});

	it.each(INVALID)("rejects %j", (text) => {
		expect(parseGoSemver(text)).toBeUndefined();
	});

	it("fills shorthand versions with zeros and keeps build metadata apart", () => {
		expect(parse("v1")).toEqual({
			major: "1",
			minor: "0",
			patch: "0",
			prerelease: "",
			build: "",
		});
		expect(parse("v1.2")).toEqual({
			major: "1",
			minor: "2",
			patch: "0",
			prerelease: "",
			build: "",
		});
		expect(parse("v1.2.3-rc.1+build.5")).toEqual({
			major: "1",
			minor: "2",
			patch: "3",
			prerelease: "-rc.1",
			build: "+build.5",
		});
	});
});

describe("compareGoSemver", () => {
	it("orders the Go test table by semver precedence, build metadata ignored", () => {
		ORDERED.forEach((group, i) => {
			for (const a of group) {
				for (const b of group)
					expect(compareGoSemver(parse(a), parse(b))).toBe(0);
				for (const later of ORDERED.slice(i + 1).flat()) {
					expect(compareGoSemver(parse(a), parse(later))).toBe(-1);
					expect(compareGoSemver(parse(later), parse(a))).toBe(1);
				}
			}
		});
	});

	it("compares numeric components numerically, not as text", () => {
		expect(compareGoSemver(parse("v1.10.0"), parse("v1.9.0"))).toBe(1);
		expect(compareGoSemver(parse("v1.0.0-rc.10"), parse("v1.0.0-rc.9"))).toBe(
			1,
		);
	});

	it("is antisymmetric on generated versions", () => {
		const version = fc
			.tuple(
				fc.nat(20),
				fc.nat(20),
				fc.nat(20),
				fc.option(fc.constantFrom("alpha", "beta.1", "1", "rc.10", "x-y"), {
					nil: undefined,
				}),
			)
			.map(
				([a, b, c, pre]) =>
					`v${a}.${b}.${c}${pre === undefined ? "" : `-${pre}`}`,
			);
		fc.assert(
			fc.property(version, version, (a, b) => {
				expect(compareGoSemver(parse(a), parse(b))).toBe(
					-compareGoSemver(parse(b), parse(a)) || 0,
				);
			}),
		);
	});
});
