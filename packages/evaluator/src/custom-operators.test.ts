import { describe, expect, it } from "@jest/globals";
import { goFormatNumber } from "./go-format.js";
import { semVer } from "./sem-ver-operator.js";
import { endsWith, startsWith } from "./string-comparison-operator.js";

describe("sem_ver", () => {
	it.each([
		["1.0.0", "=", "1.0.0", true],
		["1.0.0", "!=", "1.0.1", true],
		["1.0.0", "<", "1.0.1", true],
		["1.0.0", "<=", "1.0.0", true],
		["2.0.0", ">", "1.9.9", true],
		["2.0.0", ">=", "2.0.0-rc.1", true],
		["2.0.0-alpha", "<", "2.0.0", true],
		["1.2.3", "^", "1.9.0", true],
		["2.2.3", "^", "1.9.0", false],
		["0.2.3", "^", "0.3.0", true], // flagd's ^ is "same major", unlike npm's caret for 0.x
		["1.2.3", "~", "1.2.9", true],
		["1.3.0", "~", "1.2.0", false],
		["v1.0.0", "=", "1.0.0", true],
		["V1.0.0", "=", "1.0.0", true],
		["1", "=", "1.0.0", true],
		["1.2", "=", "v1.2.0", true],
		["1.0.0+build.1", "=", "1.0.0+build.2", true],
		[1.2, "=", "1.2.0", true],
		[2, ">", "1.9", true],
	])("%j %s %j -> %j", (a, op, b, expected) => {
		expect(semVer([a, op, b])).toBe(expected);
	});

	it.each([
		["an invalid version", ["not-a-version", "=", "1.0.0"]],
		["four components", ["1.2.3.4", "=", "1.0.0"]],
		["leading zeros", ["01.2.3", "=", "1.0.0"]],
		["an unknown operator", ["1.0.0", "===", "1.0.0"]],
		["a non-string operator", ["1.0.0", 1, "1.0.0"]],
		["two arguments", ["1.0.0", "="]],
		["four arguments", ["1.0.0", "=", "1.0.0", "x"]],
		["null version", [null, "=", "1.0.0"]],
		["boolean version", [true, "=", "1.0.0"]],
		["a million (Go prints 1e+06)", [1_000_000, "=", "1000000.0.0"]],
		["not an array", "1.0.0"],
	])("returns null for %s", (_name, args) => {
		expect(semVer(args)).toBeNull();
	});
});

describe("goFormatNumber (Go %v of float64)", () => {
	it.each([
		[1, "1"],
		[1.2, "1.2"],
		[100000, "100000"],
		[1000000, "1e+06"],
		[123456789, "1.23456789e+08"],
		[0.0001, "0.0001"],
		[0.00001, "1e-05"],
		[-0, "-0"],
		[Number.NaN, "NaN"],
		[Number.POSITIVE_INFINITY, "+Inf"],
	])("%d -> %s", (value, expected) => {
		expect(goFormatNumber(value)).toBe(expected);
	});
});

describe("starts_with / ends_with", () => {
	it("test prefixes and suffixes case-sensitively", () => {
		expect(startsWith(["user@example.com", "user"])).toBe(true);
		expect(startsWith(["user@example.com", "User"])).toBe(false);
		expect(endsWith(["user@example.com", "@example.com"])).toBe(true);
		expect(endsWith(["user@example.com", "@EXAMPLE.com"])).toBe(false);
	});

	it.each([
		["a number as text", [123, "1"]],
		["a number as affix", ["123", 1]],
		["one argument", ["abc"]],
		["three arguments", ["abc", "a", "b"]],
		["null", [null, "a"]],
		["not an array", "abc"],
	])("returns null for %s", (_name, args) => {
		expect(startsWith(args)).toBeNull();
		expect(endsWith(args)).toBeNull();
	});
});
