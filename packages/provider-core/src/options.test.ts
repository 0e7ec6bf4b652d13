import { describe, expect, it } from "@jest/globals";
import { checkOptionValue, parseOptionText } from "./option-spec.js";
import {
	COMMON_DEFAULTS,
	COMMON_OPTION_SPECS,
	resolveCommonOptions,
	validateExplicit,
} from "./options.js";

const spec = (name: string) => {
	const s = COMMON_OPTION_SPECS.find((x) => x.name === name);
	if (!s) throw new Error(name);
	return s;
};

describe("resolveCommonOptions", () => {
	it("fills defaults and freezes the result", () => {
		const c = resolveCommonOptions({});
		expect(c).toMatchObject({
			...COMMON_DEFAULTS,
			selector: undefined,
			providerId: undefined,
		});
		expect(Object.isFrozen(c)).toBe(true);
		expect(Object.isFrozen(c.fatalStatusCodes)).toBe(true);
	});

	it("takes explicit options over the fallback over defaults", () => {
		const c = resolveCommonOptions({ port: 1 }, { port: 2, host: "fallback" });
		expect(c.port).toBe(1);
		expect(c.host).toBe("fallback");
		expect(c.tls).toBe(false);
	});

	it("copies list options so later changes to the input do not leak in", () => {
		const codes = ["UNAVAILABLE"];
		const c = resolveCommonOptions({ fatalStatusCodes: codes });
		codes.push("X");
		expect(c.fatalStatusCodes).toEqual(["UNAVAILABLE"]);
	});

	it("names the option in validation errors", () => {
		expect(() => resolveCommonOptions({ deadlineMs: -5 })).toThrow(RangeError);
		expect(() => resolveCommonOptions({ deadlineMs: -5 })).toThrow(
			/"deadlineMs"/,
		);
		expect(() =>
			resolveCommonOptions({ host: 5 as unknown as string }),
		).toThrow(TypeError);
		expect(() => resolveCommonOptions({ apiVersion: "v3" as "v2" })).toThrow(
			/"apiVersion".*"v1", "v2"/,
		);
	});

	it("ignores unknown keys and inherited properties", () => {
		const options = Object.create({ port: "inherited" }) as Record<
			string,
			unknown
		>;
		options.unknown = 1;
		expect(validateExplicit(COMMON_OPTION_SPECS, options)).toEqual({});
	});
});

describe("option specs", () => {
	it("parse environment text per kind", () => {
		expect(parseOptionText(spec("tls"), " TRUE ")).toEqual({
			ok: true,
			value: true,
		});
		expect(parseOptionText(spec("port"), "08013")).toEqual({
			ok: true,
			value: 8013,
		});
		expect(parseOptionText(spec("port"), "8013abc").ok).toBe(false);
		expect(parseOptionText(spec("port"), "1e3").ok).toBe(false);
		expect(parseOptionText(spec("fatalStatusCodes"), "")).toEqual({
			ok: true,
			value: [],
		});
		expect(parseOptionText(spec("resolver"), "IN-PROCESS")).toEqual({
			ok: true,
			value: "in-process",
		});
		expect(parseOptionText(spec("host"), " keep spaces ")).toEqual({
			ok: true,
			value: " keep spaces ",
		});
	});

	it("check code values strictly", () => {
		expect(checkOptionValue(spec("port"), Number.NaN).ok).toBe(false);
		expect(checkOptionValue(spec("port"), 2 ** 60).ok).toBe(false);
		expect(checkOptionValue(spec("fatalStatusCodes"), ["A", 1]).ok).toBe(false);
		expect(checkOptionValue(spec("cache"), "LRU")).toEqual({
			ok: true,
			value: "lru",
		});
	});

	it("give every option a default text and a doc line, and env names only with the FLAGD_ prefix", () => {
		for (const s of COMMON_OPTION_SPECS) {
			expect(s.defaultText.length).toBeGreaterThan(0);
			expect(s.doc.length).toBeGreaterThan(0);
			if (s.env !== undefined) expect(s.env).toMatch(/^FLAGD_[A-Z_]+$/);
		}
	});
});
