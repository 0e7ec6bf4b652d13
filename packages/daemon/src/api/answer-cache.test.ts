import { describe, expect, it } from "@jest/globals";
import { AnswerCache } from "./answer-cache.js";

const answer = (bytes: number) => ({ bytes, text: "x".repeat(bytes) });

describe("AnswerCache", () => {
	it("serves an answer only at the version it was computed for", () => {
		const cache = new AnswerCache<ReturnType<typeof answer>>();
		cache.set(1, "k", answer(3));
		expect(cache.get(1, "k")?.bytes).toBe(3);
		expect(cache.get(2, "k")).toBeUndefined();
		// Going back to an older version after a newer one was seen never resurrects anything.
		expect(cache.get(1, "k")).toBeUndefined();
		cache.set(1, "k", answer(3));
		expect(cache.get(2, "k")).toBeUndefined();
		expect(cache.size).toBe(0);
	});

	it("keeps `__proto__` and other keys as ordinary strings", () => {
		const cache = new AnswerCache<ReturnType<typeof answer>>();
		cache.set(1, "__proto__", answer(1));
		cache.set(1, "constructor", answer(2));
		expect(cache.get(1, "__proto__")?.bytes).toBe(1);
		expect(cache.get(1, "constructor")?.bytes).toBe(2);
		expect(cache.get(1, "toString")).toBeUndefined();
	});

	it("is bounded in entries and in bytes, dropping the least recently used", () => {
		const byCount = new AnswerCache<ReturnType<typeof answer>>({
			maxEntries: 2,
		});
		byCount.set(1, "a", answer(1));
		byCount.set(1, "b", answer(1));
		byCount.get(1, "a");
		byCount.set(1, "c", answer(1));
		expect(byCount.get(1, "b")).toBeUndefined();
		expect(byCount.get(1, "a")).toBeDefined();
		expect(byCount.size).toBe(2);
		const bySize = new AnswerCache<ReturnType<typeof answer>>({
			maxBytes: 100,
		});
		for (let i = 0; i < 10; i++) bySize.set(1, `key${i}`, answer(40));
		expect(bySize.size).toBe(2);
		bySize.set(1, "huge", answer(1_000));
		expect(bySize.get(1, "huge")).toBeUndefined();
	});
});
