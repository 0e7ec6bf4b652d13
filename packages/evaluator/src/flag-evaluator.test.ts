import { describe, expect, it } from "@jest/globals";
import { isEvaluatorError } from "./errors.js";
import { FlagEvaluator } from "./flag-evaluator.js";
import { parseFlagDocument } from "./parse-flag-document.js";

const doc = {
	flags: {
		a: {
			state: "ENABLED",
			variants: { on: true, off: false },
			defaultVariant: "on",
		},
	},
};

describe("FlagEvaluator", () => {
	it("evaluates flags of the loaded document and reports unknown keys as FLAG_NOT_FOUND", () => {
		const evaluator = new FlagEvaluator();
		evaluator.setDocument(parseFlagDocument(doc));
		expect(evaluator.evaluate("a", "boolean", {})).toMatchObject({
			value: true,
			reason: "STATIC",
		});
		expect(evaluator.evaluate("b", "boolean", {})).toMatchObject({
			reason: "ERROR",
			errorCode: "FLAG_NOT_FOUND",
		});
		expect([...evaluator.flags().keys()]).toEqual(["a"]);
	});

	it("accepts a FlagDocument as well as a parse result, replacing all flags", () => {
		const evaluator = new FlagEvaluator();
		evaluator.setDocument(parseFlagDocument(doc));
		const other = parseFlagDocument({ flags: { b: doc.flags.a } });
		if (!other.ok) throw new Error("valid");
		evaluator.setDocument(other.document);
		expect([...evaluator.flags().keys()]).toEqual(["b"]);
	});

	it("throws a catalogued error for a rejected parse result and keeps the previous flags", () => {
		const evaluator = new FlagEvaluator();
		evaluator.setDocument(parseFlagDocument(doc));
		let thrown: unknown;
		try {
			evaluator.setDocument(
				parseFlagDocument({
					flags: { a: { ...doc.flags.a, defaultVariant: "x" } },
				}),
			);
		} catch (error: unknown) {
			thrown = error;
		}
		expect(isEvaluatorError(thrown)).toBe(true);
		expect(thrown).toMatchObject({
			code: "INVALID_FLAG_DOCUMENT",
			issues: [expect.objectContaining({ code: "UNKNOWN_DEFAULT_VARIANT" })],
		});
		expect(evaluator.evaluate("a", "boolean", {}).value).toBe(true);
	});
});
