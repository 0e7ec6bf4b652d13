import { describe, expect, it } from "@jest/globals";
import { exceedsJsonDepth, MAX_CONTEXT_DEPTH } from "./json-depth.js";

function nest(depth: number, inArray = false): unknown {
	let value: unknown = "leaf";
	for (let i = 0; i < depth; i++) value = inArray ? [value] : { a: value };
	return value;
}

describe("exceedsJsonDepth", () => {
	it("counts objects and arrays as levels and scalars as none", () => {
		expect(exceedsJsonDepth("text", 0)).toBe(false);
		expect(exceedsJsonDepth(undefined, 0)).toBe(false);
		expect(exceedsJsonDepth({}, 0)).toBe(true);
		expect(exceedsJsonDepth({ a: 1, b: [1, 2] }, 2)).toBe(false);
		expect(exceedsJsonDepth({ a: 1, b: [1, [2]] }, 2)).toBe(true);
	});

	it("accepts exactly the limit and refuses one level more, for objects and arrays", () => {
		for (const inArray of [false, true]) {
			expect(
				exceedsJsonDepth(nest(MAX_CONTEXT_DEPTH, inArray), MAX_CONTEXT_DEPTH),
			).toBe(false);
			expect(
				exceedsJsonDepth(
					nest(MAX_CONTEXT_DEPTH + 1, inArray),
					MAX_CONTEXT_DEPTH,
				),
			).toBe(true);
		}
	});

	it("walks 100,000 levels without recursion", () => {
		expect(exceedsJsonDepth(nest(100_000), MAX_CONTEXT_DEPTH)).toBe(true);
		expect(exceedsJsonDepth(nest(100_000), 200_000)).toBe(false);
	});

	it("treats __proto__ as an ordinary key", () => {
		const parsed = JSON.parse('{"__proto__":{"__proto__":{"x":1}}}');
		expect(exceedsJsonDepth(parsed, 2)).toBe(true);
		expect(exceedsJsonDepth(parsed, 3)).toBe(false);
	});
});
