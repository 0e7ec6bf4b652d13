import { describe, expect, it } from "@jest/globals";
import {
	FlagNotFoundError,
	GeneralError,
	TypeMismatchError,
} from "@openfeature/web-sdk";
import { isFlagdWebError } from "./errors.js";
import { FlagSnapshot } from "./flag-snapshot.js";

const RESPONSE = {
	flags: {
		on: {
			reason: "STATIC",
			variant: "on",
			boolValue: true,
			metadata: { owner: "a", nested: { x: 1 }, n: null },
		},
		color: {
			reason: "TARGETING_MATCH",
			variant: "blue",
			stringValue: "#00F",
			metadata: {},
		},
		ratio: { reason: "STATIC", variant: "half", doubleValue: 0.5 },
		inf: { reason: "STATIC", variant: "inf", doubleValue: "Infinity" },
		obj: { reason: "STATIC", variant: "o", objectValue: { a: [1, { b: 2 }] } },
		snake: { reason: "STATIC", variant: "s", string_value: "snake" },
		disabled: { reason: "DISABLED", variant: "", boolValue: false },
		codeDefault: { reason: "DEFAULT", variant: "" },
		broken: { reason: "ERROR", variant: "", boolValue: false },
	},
	metadata: {},
};

describe("FlagSnapshot", () => {
	const snapshot = FlagSnapshot.fromResponse(RESPONSE);

	it("answers value, variant, reason and flat flag metadata", () => {
		expect(snapshot.resolve("on", "boolean", false, false)).toEqual({
			value: true,
			variant: "on",
			reason: "STATIC",
			flagMetadata: { owner: "a" },
		});
		expect(snapshot.resolve("color", "string", "", false).value).toBe("#00F");
		expect(snapshot.resolve("ratio", "number", 0, false).value).toBe(0.5);
		expect(snapshot.resolve("inf", "number", 0, false).value).toBe(
			Number.POSITIVE_INFINITY,
		);
		expect(snapshot.resolve("obj", "object", {}, false).value).toEqual({
			a: [1, { b: 2 }],
		});
		expect(snapshot.resolve("snake", "string", "", false).value).toBe("snake");
	});

	it("marks values STALE while the stream is down", () => {
		expect(snapshot.resolve("on", "boolean", false, true).reason).toBe("STALE");
	});

	it("throws FLAG_NOT_FOUND, TYPE_MISMATCH and GENERAL (flagd reason ERROR)", () => {
		expect(() => snapshot.resolve("nope", "boolean", false, false)).toThrow(
			FlagNotFoundError,
		);
		expect(() => snapshot.resolve("on", "string", "", false)).toThrow(
			TypeMismatchError,
		);
		expect(() => snapshot.resolve("broken", "boolean", true, false)).toThrow(
			GeneralError,
		);
	});

	it("returns the caller's default with flagd's reason for disabled and code-default flags", () => {
		expect(snapshot.resolve("disabled", "boolean", true, false)).toEqual({
			value: true,
			reason: "DISABLED",
			flagMetadata: {},
		});
		expect(snapshot.resolve("codeDefault", "string", "mine", false)).toEqual({
			value: "mine",
			reason: "DEFAULT",
			flagMetadata: {},
		});
	});

	it("hands out copies, so a caller mutating an object value cannot change the snapshot", () => {
		const first = snapshot.resolve("obj", "object", {}, false).value as {
			a: unknown[];
		};
		first.a.push("mutated");
		expect(snapshot.resolve("obj", "object", {}, false).value).toEqual({
			a: [1, { b: 2 }],
		});
	});

	it("keeps __proto__ in flag keys and values as plain data (no prototype pollution)", () => {
		const hostile = FlagSnapshot.fromResponse(
			JSON.parse(
				'{"flags":{"__proto__":{"reason":"STATIC","variant":"v","objectValue":{"__proto__":{"polluted":true}}}}}',
			),
		);
		const value = hostile.resolve("__proto__", "object", {}, false)
			.value as Record<string, unknown>;
		expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
		expect(value.polluted).toBeUndefined();
		expect(Object.keys(value)).toEqual(["__proto__"]);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it("rejects malformed responses with a FlagdWebError", () => {
		for (const bad of [
			null,
			[],
			{ flags: [] },
			{ flags: { a: 1 } },
			{ flags: { a: { boolValue: "yes" } } },
			{ flags: { a: { reason: 7 } } },
		]) {
			let caught: unknown;
			try {
				FlagSnapshot.fromResponse(bad);
			} catch (e: unknown) {
				caught = e;
			}
			expect(isFlagdWebError(caught)).toBe(true);
		}
	});

	it("lists added, removed and changed keys between snapshots", () => {
		const { ratio: _removed, ...rest } = RESPONSE.flags;
		const next = FlagSnapshot.fromResponse({
			flags: {
				...rest,
				on: { ...RESPONSE.flags.on, variant: "on2" },
				added: { reason: "STATIC", variant: "x", boolValue: true },
			},
		});
		expect(next.changedKeys(snapshot).sort()).toEqual(["added", "on", "ratio"]);
		expect(snapshot.changedKeys(undefined)).toHaveLength(
			Object.keys(RESPONSE.flags).length,
		);
		expect(snapshot.changedKeys(snapshot)).toEqual([]);
	});
});
