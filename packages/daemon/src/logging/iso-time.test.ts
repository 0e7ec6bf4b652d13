import { describe, expect, it } from "@jest/globals";
import { isoTime, isoTimeField } from "./iso-time.js";

const YEAR_MS = 365.2425 * 24 * 3600 * 1000;

describe("isoTime", () => {
	it("writes exactly what Date#toISOString writes", () => {
		const samples = [
			0,
			Date.now(),
			1,
			999,
			-1,
			Date.UTC(2026, 11, 31, 23, 59, 59, 999),
			Date.UTC(2024, 1, 29, 0, 0, 0, 7),
			Date.UTC(2000, 0, 1, 9, 5, 3, 40),
			Date.UTC(9999, 11, 31, 23, 59, 59, 999),
			-62167219200000, // 0000-01-01T00:00:00.000Z
			-62167219200001, // -000001-12-31T23:59:59.999Z (toISOString's extended year)
			253402300800000, // +010000-01-01T00:00:00.000Z
		];
		// Deterministic spread over years 0–9999 and every millisecond digit.
		let x = 12345;
		for (let i = 0; i < 2000; i++) {
			x = (x * 1103515245 + 12345) % 2147483648;
			samples.push(-62167219200000 + (x / 2147483648) * 10000 * YEAR_MS);
			samples.push(
				Math.floor(Date.now() + (x % 1000) * 86_400_000 + (i % 1000)),
			);
		}
		for (const ms of samples) {
			const t = Math.floor(ms);
			expect(isoTime(t)).toBe(new Date(t).toISOString());
		}
	});

	it("throws for an invalid time, as toISOString does", () => {
		expect(() => isoTime(Number.NaN)).toThrow(RangeError);
	});

	it("gives pino the time field of a record", () => {
		const field = isoTimeField();
		expect(field).toMatch(
			/^,"time":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"$/,
		);
		expect(JSON.parse(`{${field.slice(1)}}`).time).toEqual(expect.any(String));
	});
});
