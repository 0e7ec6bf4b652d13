import { describe, expect, it } from "@jest/globals";
import {
	convertContextValue,
	convertFlagValue,
	convertOptionValue,
	jsonEqual,
} from "./conformance-world.js";

describe("testbed value conversions", () => {
	it("converts option values by their declared type", () => {
		expect(convertOptionValue("Integer", "123")).toBe(123);
		expect(convertOptionValue("Long", "0")).toBe(0);
		expect(convertOptionValue("Boolean", "True")).toBe(true);
		expect(convertOptionValue("StringList", "A, B")).toEqual(["A", "B"]);
		expect(convertOptionValue("StringList", "")).toEqual([]);
		expect(convertOptionValue("ResolverType", "IN-PROCESS")).toBe("in-process");
		expect(() => convertOptionValue("Integer", "12x")).toThrow(
			/not an integer/,
		);
		expect(() => convertOptionValue("Duration", "1")).toThrow(
			/unknown option type/,
		);
	});

	it("converts flag and context values by type", () => {
		expect(convertFlagValue("Float", "0.0")).toBe(0);
		expect(convertFlagValue("Object", '{"a": 100.0}')).toEqual({ a: 100 });
		expect(convertFlagValue("String", "")).toBe("");
		expect(() => convertFlagValue("Boolean", "yes")).toThrow(/not a Boolean/);
		expect(convertContextValue("Integer", "4133980802")).toBe(4133980802);
		expect(convertContextValue("Object", "[1]")).toEqual([1]);
	});
});

describe("jsonEqual", () => {
	it("compares structure, not prototypes", () => {
		const nullProto = Object.assign(
			Object.create(null) as Record<string, unknown>,
			{ a: [1, { b: "x" }] },
		);
		expect(jsonEqual(nullProto, { a: [1, { b: "x" }] })).toBe(true);
		expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
		expect(jsonEqual([1, 2], { 0: 1, 1: 2 })).toBe(false);
		expect(jsonEqual(0, -0)).toBe(true);
		expect(jsonEqual("1", 1)).toBe(false);
	});
});
