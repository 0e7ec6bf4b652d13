import { describe, expect, it } from "@jest/globals";
import { isDaemonError } from "../errors.js";
import { parseSelector, SELECT_ALL } from "./selector.js";
import { SelectorCache } from "./selector-cache.js";

describe("parseSelector", () => {
	it("treats an empty or blank selector as select-all", () => {
		expect(parseSelector("")).toBe(SELECT_ALL);
		expect(parseSelector("   ")).toBe(SELECT_ALL);
		expect(parseSelector(undefined)).toBe(SELECT_ALL);
	});

	it("reads a bare value as a source (flagd back-compat)", () => {
		expect(parseSelector("file:flags.json")).toMatchObject({
			kind: "source",
			source: "file:flags.json",
			key: "source=file:flags.json",
			reflection: { source: "file:flags.json" },
		});
	});

	it("reads source=<uri> and keeps '=' inside the value", () => {
		expect(parseSelector("source=https://x/y?a=b")).toMatchObject({
			kind: "source",
			source: "https://x/y?a=b",
		});
	});

	it("reads flagSetId=<id> and flagSetId= (flags without a set)", () => {
		expect(parseSelector("flagSetId=payments")).toMatchObject({
			kind: "flagSet",
			flagSetId: "payments",
			reflection: { flagSetId: "payments" },
		});
		const noSet = parseSelector("flagSetId=");
		expect(noSet).toMatchObject({ kind: "flagSet", key: "flagSetId=" });
		expect(noSet.kind === "flagSet" && noSet.flagSetId).toBeUndefined();
	});

	it.each([
		["unknown key", "color=blue", /unknown selector key "color"/],
		["empty source", "source=", /needs a source URI/],
		["several pairs", "flagSetId=a,source=b", /only one key=value pair/],
	])(
		"rejects %s with SELECTOR_INVALID and a clear message",
		(_name, input, message) => {
			let caught: unknown;
			try {
				parseSelector(input);
			} catch (e: unknown) {
				caught = e;
			}
			expect(isDaemonError(caught)).toBe(true);
			expect((caught as { code: string }).code).toBe("SELECTOR_INVALID");
			expect((caught as Error).message).toMatch(message);
			expect((caught as Error).message).toContain(input);
		},
	);
});

describe("SelectorCache", () => {
	it("returns the same parsed object for the same string", () => {
		const cache = new SelectorCache();
		expect(cache.get("flagSetId=a")).toBe(cache.get("flagSetId=a"));
		expect(cache.get(null)).toBe(SELECT_ALL);
	});

	it("stays bounded and still parses evicted entries correctly", () => {
		const cache = new SelectorCache({ maxEntries: 2 });
		const first = cache.get("flagSetId=a");
		cache.get("flagSetId=b");
		cache.get("flagSetId=c");
		const again = cache.get("flagSetId=a");
		expect(again).not.toBe(first);
		expect(again).toEqual(first);
	});

	it("throws for invalid selectors every time (errors are not cached as values)", () => {
		const cache = new SelectorCache();
		expect(() => cache.get("bogus=1")).toThrow(/invalid selector/);
		expect(() => cache.get("bogus=1")).toThrow(/invalid selector/);
	});
});
