import type { FlagDefinition, JsonValue } from "@flagd-ts/evaluator";
import { describe, expect, it } from "@jest/globals";
import {
	createStoredFlag,
	flagIdentity,
	sameObservableFlag,
} from "./stored-flag.js";

// Change detection compares definitions instead of rendered JSON: it must answer exactly as comparing the
// fingerprints (the sync rendering) would.
function definition(overrides: Partial<FlagDefinition> = {}): FlagDefinition {
	return {
		key: "f",
		state: "ENABLED",
		variants: { on: true, off: false },
		defaultVariant: "on",
		targeting: undefined,
		metadata: {},
		flagSetId: undefined,
		...overrides,
	};
}

const rule = (value: JsonValue): JsonValue => ({
	if: [{ "==": [{ var: "tier" }, value] }, "on", "off"],
});

const pairs: [string, FlagDefinition, FlagDefinition, string?, string?][] = [
	["equal copies", definition(), definition()],
	["state", definition(), definition({ state: "DISABLED" })],
	[
		"no default vs empty",
		definition({ defaultVariant: null }),
		definition({ defaultVariant: null }),
	],
	[
		"variant value",
		definition(),
		definition({ variants: { on: true, off: true } }),
	],
	[
		"variant order",
		definition(),
		definition({ variants: { off: false, on: true } }),
	],
	["targeting added", definition(), definition({ targeting: rule("gold") })],
	["targeting null vs absent", definition({ targeting: null }), definition()],
	[
		"targeting literal",
		definition({ targeting: rule("gold") }),
		definition({ targeting: rule("silver") }),
	],
	[
		"same targeting",
		definition({ targeting: rule(1) }),
		definition({ targeting: rule(1) }),
	],
	[
		"-0 and 0",
		definition({ targeting: rule(-0) }),
		definition({ targeting: rule(0) }),
	],
	[
		"array vs object",
		definition({ targeting: { in: ["a", ["a"]] } }),
		definition({ targeting: { in: ["a", { 0: "a" }] } }),
	],
	["metadata", definition(), definition({ metadata: { team: "a" } })],
	[
		"metadata value",
		definition({ metadata: { n: 1 } }),
		definition({ metadata: { n: 2 } }),
	],
	["source", definition(), definition(), "file:a.json", "file:b.json"],
	[
		"credentials only",
		definition(),
		definition(),
		"https://u:one@h/f.json",
		"https://u:two@h/f.json",
	],
];

/** The two stored flags of a row (both from file:a.json unless the row names its sources). */
function storedPair([
	,
	a,
	b,
	sourceA = "file:a.json",
	sourceB = sourceA,
]: (typeof pairs)[number]) {
	return [
		createStoredFlag(a, sourceA, 0),
		createStoredFlag(b, sourceB, 0),
	] as const;
}

describe("sameObservableFlag", () => {
	it.each(pairs)("answers as the fingerprints do: %s", (...row) => {
		const [x, y] = storedPair(row);
		expect(sameObservableFlag(x, y)).toBe(x.fingerprint === y.fingerprint);
		expect(sameObservableFlag(y, x)).toBe(x.fingerprint === y.fingerprint);
	});

	it("sees the pairs above both ways (the table is not one-sided)", () => {
		const answers = pairs.map((row) => sameObservableFlag(...storedPair(row)));
		expect(answers).toContain(true);
		expect(answers).toContain(false);
	});
});

describe("flagIdentity", () => {
	it("keeps flags with and without a set, and odd keys, apart", () => {
		const identities = [
			flagIdentity(undefined, "a"),
			flagIdentity("", "a"),
			flagIdentity("s", "a"),
			flagIdentity(undefined, "s\u0000a"),
			flagIdentity(undefined, "__proto__"),
		];
		expect(new Set(identities).size).toBe(identities.length);
	});
});
