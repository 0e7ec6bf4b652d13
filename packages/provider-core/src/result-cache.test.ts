import { describe, expect, it } from "@jest/globals";
import type { FlagValue, ResolutionDetails } from "@openfeature/core";
import { ResultCache } from "./result-cache.js";

const staticTrue: ResolutionDetails<FlagValue> = {
	value: true,
	variant: "on",
	reason: "STATIC",
	flagMetadata: { a: 1 },
};

function liveCache(maxSize = 10): ResultCache {
	const c = new ResultCache({ maxSize, enabled: true });
	c.setMode("read-write");
	return c;
}

describe("ResultCache", () => {
	it("serves a stored STATIC result with reason CACHED and its variant and metadata", () => {
		const c = liveCache();
		expect(c.set("boolean", "f", staticTrue, c.generation)).toBe(true);
		expect(c.get("boolean", "f")).toEqual({
			value: true,
			variant: "on",
			reason: "CACHED",
			flagMetadata: { a: 1 },
		});
	});

	it("never answers another type from a cached entry", () => {
		const c = liveCache();
		c.set("boolean", "f", staticTrue, c.generation);
		expect(c.get("string", "f")).toBeUndefined();
		expect(c.get("number", "f")).toBeUndefined();
		expect(c.get("object", "f")).toBeUndefined();
	});

	it("stores only STATIC results", () => {
		const c = liveCache();
		for (const reason of [
			"TARGETING_MATCH",
			"DEFAULT",
			"DISABLED",
			"CACHED",
			"ERROR",
			undefined,
		]) {
			expect(c.set("boolean", "f", { value: true, reason }, c.generation)).toBe(
				false,
			);
		}
		expect(c.size).toBe(0);
	});

	it("stores nothing while read-only but keeps serving", () => {
		const c = liveCache();
		c.set("boolean", "f", staticTrue, c.generation);
		c.setMode("read-only");
		expect(c.get("boolean", "f")?.reason).toBe("CACHED");
		expect(c.set("boolean", "g", staticTrue, c.generation)).toBe(false);
		expect(c.get("boolean", "g")).toBeUndefined();
	});

	it("purges and serves nothing when off", () => {
		const c = liveCache();
		c.set("boolean", "f", staticTrue, c.generation);
		c.setMode("off");
		expect(c.size).toBe(0);
		c.setMode("read-write");
		expect(c.get("boolean", "f")).toBeUndefined();
	});

	it("invalidates every type of the changed keys only", () => {
		const c = liveCache();
		c.set("boolean", "f", staticTrue, c.generation);
		c.set("string", "f", { value: "s", reason: "STATIC" }, c.generation);
		c.set("boolean", "other", staticTrue, c.generation);
		c.invalidate(["f"]);
		expect(c.get("boolean", "f")).toBeUndefined();
		expect(c.get("string", "f")).toBeUndefined();
		expect(c.get("boolean", "other")?.value).toBe(true);
	});

	it("refuses a result fetched before an invalidation (generation check)", () => {
		const c = liveCache();
		const before = c.generation;
		c.invalidate(["f"]);
		expect(c.set("boolean", "f", staticTrue, before)).toBe(false);
		c.purge();
		expect(c.set("boolean", "f", staticTrue, c.generation)).toBe(true);
	});

	it("evicts the least recently used entry beyond maxSize", () => {
		const c = liveCache(2);
		c.set("boolean", "a", staticTrue, c.generation);
		c.set("boolean", "b", staticTrue, c.generation);
		c.get("boolean", "a");
		c.set("boolean", "c", staticTrue, c.generation);
		expect(c.get("boolean", "b")).toBeUndefined();
		expect(c.get("boolean", "a")).toBeDefined();
		expect(c.size).toBe(2);
	});

	it("hands out copies of object values", () => {
		const c = liveCache();
		const value = { nested: { n: 1 } };
		c.set("object", "o", { value, reason: "STATIC" }, c.generation);
		value.nested.n = 2;
		const first = c.get<{ nested: { n: number } }>("object", "o");
		expect(first?.value.nested.n).toBe(1);
		if (first) first.value.nested.n = 3;
		expect(
			c.get<{ nested: { n: number } }>("object", "o")?.value.nested.n,
		).toBe(1);
	});

	it("does nothing when disabled", () => {
		const c = new ResultCache({ maxSize: 10, enabled: false });
		c.setMode("read-write");
		expect(c.set("boolean", "f", staticTrue, c.generation)).toBe(false);
		expect(c.get("boolean", "f")).toBeUndefined();
	});
});

describe("ResultCache keys named like prototype properties", () => {
	it("stores, serves and invalidates __proto__, constructor and hasOwnProperty as plain keys", () => {
		const c = liveCache();
		const keys = ["__proto__", "constructor", "hasOwnProperty", "toString"];
		for (const key of keys)
			expect(c.set("boolean", key, staticTrue, c.generation)).toBe(true);
		for (const key of keys)
			expect(c.get("boolean", key)?.reason).toBe("CACHED");
		expect(c.get("boolean", "valueOf")).toBeUndefined();
		c.invalidate(["__proto__"]);
		expect(c.get("boolean", "__proto__")).toBeUndefined();
		expect(c.get("boolean", "constructor")?.reason).toBe("CACHED");
		c.invalidate(["constructor", "hasOwnProperty", "toString"]);
		expect(c.size).toBe(0);
	});
});
