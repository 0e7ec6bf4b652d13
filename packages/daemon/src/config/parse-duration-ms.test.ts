import { describe, expect, it } from "@jest/globals";
import { formatDurationMs, parseDurationMs } from "./parse-duration-ms.js";

describe("parseDurationMs", () => {
	it.each([
		["0", 0],
		["0s", 0],
		["250ms", 250],
		["30s", 30_000],
		["1m", 60_000],
		["1m30s", 90_000],
		["1.5h", 5_400_000],
		["2h45m", 9_900_000],
		["1500us", 2],
		["1ns", 1],
		["+5s", 5000],
		["5000", 5000],
		[" 10s ", 10_000],
	])("reads %j as %d ms", (text, ms) => {
		expect(parseDurationMs(text)).toBe(ms);
	});

	it.each(["", "-5s", "5x", "s", "1m-3s", "abc", "1.2.3s", "5 s"])(
		"rejects %j",
		(text) => {
			expect(parseDurationMs(text)).toBeUndefined();
		},
	);
});

describe("formatDurationMs", () => {
	it.each([
		[0, "0s"],
		[250, "250ms"],
		[30_000, "30s"],
		[90_000, "1m30s"],
		[3_600_000, "1h"],
	])("renders %d ms as %s", (ms, text) => {
		expect(formatDurationMs(ms)).toBe(text);
	});
});
