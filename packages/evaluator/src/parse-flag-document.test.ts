import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseFlagDocument } from "./parse-flag-document.js";
import type { FlagDefinition, ParseResult, ValidationIssue } from "./types.js";

function ok(result: ParseResult): readonly FlagDefinition[] {
	if (!result.ok)
		throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
	return result.document.flags;
}

function errors(result: ParseResult): readonly ValidationIssue[] {
	if (result.ok) throw new Error("expected the document to be rejected");
	return result.errors;
}

const boolFlag = {
	state: "ENABLED",
	variants: { on: true, off: false },
	defaultVariant: "on",
};

describe("parseFlagDocument: formats and shapes", () => {
	it("parses JSON text with flags as an object", () => {
		const flags = ok(
			parseFlagDocument(JSON.stringify({ flags: { a: boolFlag } })),
		);
		expect(flags).toEqual([
			{
				key: "a",
				state: "ENABLED",
				variants: { on: true, off: false },
				defaultVariant: "on",
				targeting: undefined,
				metadata: {},
				flagSetId: undefined,
			},
		]);
	});

	it("parses YAML text (detected, or forced with format)", () => {
		const yaml =
			"flags:\n  a:\n    state: ENABLED\n    variants: {on: true, off: false}\n    defaultVariant: 'on'\n";
		expect(ok(parseFlagDocument(yaml))[0]?.key).toBe("a");
		expect(
			ok(parseFlagDocument(yaml, { format: "yaml" }))[0]?.defaultVariant,
		).toBe("on");
	});

	it("decodes UTF-8 bytes and rejects invalid UTF-8", () => {
		expect(
			ok(
				parseFlagDocument(
					new TextEncoder().encode(JSON.stringify({ flags: { ä: boolFlag } })),
				),
			)[0]?.key,
		).toBe("ä");
		expect(
			errors(parseFlagDocument(new Uint8Array([0x7b, 0xff, 0x7d])))[0]?.message,
		).toContain("UTF-8");
	});

	it("parses the array form with keys and an already-parsed value", () => {
		const flags = ok(
			parseFlagDocument({
				flags: [
					{ key: "a", ...boolFlag },
					{ key: "b", ...boolFlag },
				],
			}),
		);
		expect(flags.map((f) => f.key)).toEqual(["a", "b"]);
	});

	it("treats an absent, null or empty defaultVariant as the code default, and {} targeting as none", () => {
		const flags = ok(
			parseFlagDocument({
				flags: {
					a: { ...boolFlag, defaultVariant: null, targeting: {} },
					b: { ...boolFlag, defaultVariant: undefined },
					c: { ...boolFlag, defaultVariant: "" },
				},
			}),
		);
		expect(flags.map((f) => [f.defaultVariant, f.targeting])).toEqual([
			[null, undefined],
			[null, undefined],
			[null, undefined],
		]);
	});

	it("merges set metadata under flag metadata (flag wins) and resolves flagSetId per flag", () => {
		const flags = ok(
			parseFlagDocument({
				metadata: { flagSetId: "set", team: "a", version: "1" },
				flags: {
					a: { ...boolFlag, metadata: { team: "b" } },
					b: { ...boolFlag, metadata: { flagSetId: "own" } },
				},
			}),
		);
		expect(flags[0]).toMatchObject({
			metadata: { flagSetId: "set", team: "b", version: "1" },
			flagSetId: "set",
		});
		expect(flags[1]).toMatchObject({
			metadata: { flagSetId: "own", team: "a" },
			flagSetId: "own",
		});
	});

	it("keeps the same key in different flag sets and reports duplicates within one set (last wins)", () => {
		const doc = {
			flags: [
				{ key: "a", ...boolFlag, metadata: { flagSetId: "x" } },
				{ key: "a", ...boolFlag, metadata: { flagSetId: "y" } },
				{
					key: "a",
					...boolFlag,
					defaultVariant: "off",
					metadata: { flagSetId: "y" },
				},
			],
		};
		const result = parseFlagDocument(doc);
		expect(ok(result).map((f) => [f.flagSetId, f.defaultVariant])).toEqual([
			["x", "on"],
			["y", "off"],
		]);
		expect(result.warnings).toEqual([
			expect.objectContaining({
				code: "DUPLICATE_FLAG_KEY",
				path: "/flags/2",
				flagKey: "a",
			}),
		]);
	});
});

describe("parseFlagDocument: $evaluators", () => {
	const evaluators = {
		is_admin: { "==": [{ var: "role" }, "admin"] },
		nested: { and: [{ $ref: "is_admin" }, true] },
	};

	it("inlines $ref (also nested refs) and is whitespace-tolerant in text", () => {
		const text = `{"$evaluators": ${JSON.stringify(evaluators)}, "flags": {"a": {"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"off","targeting":{"if":[{ "$ref" :   "nested" },"on","off"]}}}}`;
		const [flag] = ok(parseFlagDocument(text));
		expect(flag?.targeting).toEqual({
			if: [{ and: [{ "==": [{ var: "role" }, "admin"] }, true] }, "on", "off"],
		});
	});

	it("leaves an unknown ref in place with a warning naming it", () => {
		const result = parseFlagDocument({
			$evaluators: evaluators,
			flags: {
				a: { ...boolFlag, targeting: { if: [{ $ref: "nope" }, "on", "off"] } },
			},
		});
		expect(ok(result)[0]?.targeting).toEqual({
			if: [{ $ref: "nope" }, "on", "off"],
		});
		expect(result.warnings).toEqual([
			expect.objectContaining({
				code: "UNKNOWN_EVALUATOR_REF",
				flagKey: "a",
				path: "/flags/a/targeting/if/0/$ref",
			}),
		]);
		expect(result.warnings[0]?.message).toContain('"nope"');
	});

	it("reports a circular ref instead of looping", () => {
		const result = parseFlagDocument({
			$evaluators: { x: { $ref: "y" }, y: { $ref: "x" } },
			flags: { a: { ...boolFlag, targeting: { $ref: "x" } } },
		});
		expect(result.warnings.map((w) => w.code)).toContain(
			"UNKNOWN_EVALUATOR_REF",
		);
	});
});

describe("parseFlagDocument: validation", () => {
	it("always rejects a defaultVariant missing from variants, with flag key and path", () => {
		const found = errors(
			parseFlagDocument({
				flags: {
					good: boolFlag,
					bad: { ...boolFlag, defaultVariant: "maybe" },
				},
			}),
		);
		expect(found).toEqual([
			expect.objectContaining({
				code: "UNKNOWN_DEFAULT_VARIANT",
				severity: "error",
				flagKey: "bad",
				path: "/flags/bad/defaultVariant",
			}),
		]);
	});

	it.each([
		["not JSON", "{nope", "INVALID_DOCUMENT", ""],
		["not an object", "[1, 2]", "INVALID_DOCUMENT", ""],
		["no flags", "{}", "INVALID_FLAGS", "/flags"],
		["flags of the wrong type", { flags: "x" }, "INVALID_FLAGS", "/flags"],
		[
			"a flag that is not an object",
			{ flags: { a: 1 } },
			"INVALID_FLAG",
			"/flags/a",
		],
		[
			"an invalid state",
			{ flags: { a: { ...boolFlag, state: "ON" } } },
			"INVALID_STATE",
			"/flags/a/state",
		],
		[
			"empty variants",
			{ flags: { a: { ...boolFlag, variants: {} } } },
			"INVALID_VARIANTS",
			"/flags/a/variants",
		],
		[
			"an array flag without key",
			{ flags: [boolFlag] },
			"INVALID_FLAG",
			"/flags/0/key",
		],
		[
			"a key with / in a pointer",
			{ flags: { "a/b": { ...boolFlag, state: "x" } } },
			"INVALID_STATE",
			"/flags/a~1b/state",
		],
	])("rejects %s", (_name, input, code, path) => {
		expect(errors(parseFlagDocument(input))).toEqual(
			expect.arrayContaining([expect.objectContaining({ code, path })]),
		);
	});

	it("only warns about schema deviations by default and rejects them in strict mode", () => {
		const doc = {
			extra: 1,
			flags: {
				a: {
					...boolFlag,
					variants: { on: true, off: "no" },
					colour: "red",
					metadata: { nested: { x: 1 } },
					targeting: { if: [{ bogus_op: [] }, "on", "off"] },
				},
			},
		};
		const lenient = parseFlagDocument(doc);
		expect(lenient.ok).toBe(true);
		expect(lenient.warnings.map((w) => [w.code, w.path])).toEqual([
			["UNKNOWN_PROPERTY", "/extra"],
			["UNKNOWN_PROPERTY", "/flags/a/colour"],
			["MIXED_VARIANT_TYPES", "/flags/a/variants"],
			["UNKNOWN_OPERATOR", "/flags/a/targeting/if/0/bogus_op"],
			["INVALID_METADATA", "/flags/a/metadata/nested"],
		]);
		const strict = parseFlagDocument(doc, { strict: true });
		expect(errors(strict)).toHaveLength(5);
		expect(errors(strict).every((e) => e.severity === "error")).toBe(true);
	});

	it("never lets __proto__ keys in flag JSON reach a prototype", () => {
		const text =
			'{"flags":{"__proto__":{"state":"ENABLED","variants":{"__proto__":{"polluted":true},"x":1},"defaultVariant":"__proto__","metadata":{"__proto__":"m"}}}}';
		const [flag] = ok(parseFlagDocument(text));
		expect(flag?.key).toBe("__proto__");
		expect(Object.keys(flag?.variants ?? {})).toEqual(["__proto__", "x"]);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.getPrototypeOf(flag?.variants)).toBeNull();
	});
});

describe("parseFlagDocument: never throws", () => {
	it("on random text, random JSON values and random YAML-ish input", () => {
		fc.assert(
			fc.property(
				fc.oneof(
					fc.string(),
					fc.jsonValue(),
					fc.json(),
					fc.uint8Array().map((b) => new TextDecoder().decode(b)),
					fc.constantFrom(
						"a: &x [*x]",
						"- - - -",
						"!!binary xyz",
						"a: b\na: c",
					),
				),
				(input) => {
					const result = parseFlagDocument(input);
					expect(typeof result.ok).toBe("boolean");
				},
			),
			{ numRuns: 2000 },
		);
	});

	it("on random flag-shaped documents", () => {
		const flagShape = fc.record(
			{
				state: fc.oneof(fc.constantFrom("ENABLED", "DISABLED"), fc.jsonValue()),
				variants: fc.jsonValue(),
				defaultVariant: fc.jsonValue(),
				targeting: fc.jsonValue(),
				metadata: fc.jsonValue(),
			},
			{ requiredKeys: [] },
		);
		fc.assert(
			fc.property(
				fc.record(
					{
						flags: fc.oneof(
							fc.dictionary(fc.string(), flagShape),
							fc.array(flagShape),
						),
						metadata: fc.jsonValue(),
						$evaluators: fc.jsonValue(),
					},
					{ requiredKeys: [] },
				),
				(doc) => {
					expect(typeof parseFlagDocument(doc).ok).toBe("boolean");
					expect(typeof parseFlagDocument(doc, { strict: true }).ok).toBe(
						"boolean",
					);
				},
			),
			{ numRuns: 1000 },
		);
	});

	it("on deep nesting and a 10 MB document", () => {
		const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
		expect(errors(parseFlagDocument(`{"flags":{},"x":${deep}}`))[0]?.code).toBe(
			"INVALID_DOCUMENT",
		);
		const deepYaml = `flags: {}\nx: ${"[".repeat(50_000)}${"]".repeat(50_000)}`;
		expect(errors(parseFlagDocument(deepYaml))[0]?.code).toBe(
			"INVALID_DOCUMENT",
		);
		const deepParsed: Record<string, unknown> = { flags: {} };
		let cursor = deepParsed;
		for (let i = 0; i < 10_000; i++) {
			const next: Record<string, unknown> = {};
			cursor.x = next;
			cursor = next;
		}
		expect(errors(parseFlagDocument(deepParsed))[0]?.message).toContain(
			"nested deeper",
		);
		const flags: Record<string, unknown> = {};
		for (let i = 0; i < 40_000; i++)
			flags[`flag-${i}`] = {
				...boolFlag,
				metadata: { description: "x".repeat(200) },
			};
		const big = JSON.stringify({ flags });
		expect(big.length).toBeGreaterThan(10_000_000);
		expect(ok(parseFlagDocument(big))).toHaveLength(40_000);
	});
});
