import { describe, expect, it } from "@jest/globals";
import {
	parseBoolean,
	parseBytes,
	parseList,
	parseMap,
	parsePort,
	parseString,
} from "./option-parsers.js";

describe("option parsers", () => {
	it.each(["1", "t", "TRUE", "True", "yes", "on"])(
		"reads %j as true",
		(text) => {
			expect(parseBoolean(text)).toEqual({ ok: true, value: true });
		},
	);

	it.each(["0", "f", "FALSE", "no", "off"])("reads %j as false", (text) => {
		expect(parseBoolean(text)).toEqual({ ok: true, value: false });
	});

	it("takes config-file numbers and numeric strings for ports and byte sizes, not fractions or negatives", () => {
		expect(parsePort(8013)).toEqual({ ok: true, value: 8013 });
		expect(parsePort(" 8013 ")).toEqual({ ok: true, value: 8013 });
		expect(parsePort(80.5).ok).toBe(false);
		expect(parsePort("0x50").ok).toBe(false);
		expect(parseBytes(-1).ok).toBe(false);
		expect(parseBytes("1e6").ok).toBe(false);
	});

	it("treats an empty or blank string as unset and rejects structured values", () => {
		expect(parseString("  ")).toEqual({ ok: true, value: undefined });
		expect(parseString(["a"]).ok).toBe(false);
	});

	it("splits lists on commas, trims and drops blanks", () => {
		expect(parseList(" a, b,,c ")).toEqual({
			ok: true,
			value: ["a", "b", "c"],
		});
		expect(parseList(["a", 1])).toEqual({ ok: true, value: ["a", "1"] });
		expect(parseList([{ a: 1 }]).ok).toBe(false);
	});

	it("reads maps from mappings, k=v lists and comma text, keeping '=' inside values", () => {
		expect(parseMap({ a: 1, b: true, c: "x" })).toEqual({
			ok: true,
			value: [
				["a", "1"],
				["b", "true"],
				["c", "x"],
			],
		});
		expect(parseMap(["a=1", "b=x=y"])).toEqual({
			ok: true,
			value: [
				["a", "1"],
				["b", "x=y"],
			],
		});
		expect(parseMap("a=1,b=2")).toEqual({
			ok: true,
			value: [
				["a", "1"],
				["b", "2"],
			],
		});
		expect(parseMap({ a: [1] }).ok).toBe(false);
	});
});
