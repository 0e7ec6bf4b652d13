import { describe, expect, it } from "@jest/globals";
import { routeOf } from "./ofrep-request.js";

describe("routeOf", () => {
	it("routes bulk with and without the trailing slash", () => {
		expect(routeOf("/ofrep/v1/evaluate/flags")).toEqual({ bulk: true });
		expect(routeOf("/ofrep/v1/evaluate/flags/")).toEqual({ bulk: true });
	});

	it("routes one flag, decoding %-escapes only where there are some", () => {
		expect(routeOf("/ofrep/v1/evaluate/flags/new-checkout")).toEqual({
			bulk: false,
			key: "new-checkout",
		});
		expect(routeOf("/ofrep/v1/evaluate/flags/a%20b%2Fc")).toEqual({
			bulk: false,
			key: "a b/c",
		});
		expect(routeOf("/ofrep/v1/evaluate/flags/__proto__")).toEqual({
			bulk: false,
			key: "__proto__",
		});
	});

	it("answers nothing for other paths and malformed escapes", () => {
		for (const path of [
			"/",
			"/ofrep/v1/evaluate/flag",
			"/ofrep/v1/evaluate/flagsx",
			"/ofrep/v1/evaluate/flags//",
			"/ofrep/v1/evaluate/flags/a/b",
			"/ofrep/v1/evaluate/flags/%E0%A4%A",
		])
			expect(routeOf(path)).toBeUndefined();
	});
});
