import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
	hasAnyTag,
	loadGherkinCasesFromFiles,
	testbedRoot,
} from "../../../test/support/gherkin-cases.js";
import { FlagEvaluator } from "./flag-evaluator.js";
import { parseFlagDocument } from "./parse-flag-document.js";
import type { TargetingMode } from "./targeting-mode.js";
import { runCase } from "./testdata/conformance-steps.js";

// flagd-testbed evaluator testkit (evaluator/gherkin, 140 cases) against testkit-flags.json. flagd 0.16 uses the
// "v2" fractional algorithm, so @fractional-v1 (legacy) and @fractional-v3 (CBOR, not yet in flagd) are skipped.
const SKIPPED_TAGS = ["@fractional-v1", "@fractional-v3"];
const root = path.join(testbedRoot(), "evaluator");
const parsed = parseFlagDocument(
	readFileSync(path.join(root, "flags", "testkit-flags.json"), "utf8"),
);
const featureDir = path.join(root, "gherkin");
const featureFiles = readdirSync(featureDir)
	.filter((f) => f.endsWith(".feature"))
	.sort()
	.map((f) => path.join(featureDir, f));
const cases = loadGherkinCasesFromFiles(featureFiles);

/**
 * Runs the testkit with `targetingMode`. In interpreted mode `globalThis.eval` (what json-logic-engine's compiler
 * uses) throws while the suite runs, as it does on Workers, Edge runtimes and strict-CSP pages.
 */
function defineTestkit(targetingMode: TargetingMode): void {
	const counts = { passed: 0, failed: 0, skipped: 0 };
	const skippedNames: string[] = [];
	const evaluator = new FlagEvaluator({ targetingMode });
	const global = globalThis as { eval: unknown };
	const realEval = global.eval;

	describe(`flagd-testbed evaluator testkit (${targetingMode})`, () => {
		beforeAll(() => {
			if (targetingMode === "interpreted") {
				global.eval = () => {
					throw new EvalError("code generation is disabled in this test");
				};
			}
			evaluator.setDocument(parsed);
		});

		it("loads the testkit flags without errors", () => {
			expect(parsed.ok).toBe(true);
			expect(cases).toHaveLength(140);
		});

		for (const testCase of cases) {
			const title = `${testCase.featureFile}: ${testCase.name}`;
			if (hasAnyTag(testCase, SKIPPED_TAGS)) {
				counts.skipped++;
				skippedNames.push(
					`${title} (${testCase.tags.filter((t) => SKIPPED_TAGS.includes(t)).join(" ")})`,
				);
				it.skip(title, () => {});
				continue;
			}
			it(title, () => {
				try {
					runCase(testCase, (key, type, context) =>
						evaluator.evaluate(key, type, context),
					);
					counts.passed++;
				} catch (error: unknown) {
					counts.failed++;
					throw error;
				}
			});
		}

		afterAll(() => {
			global.eval = realEval;
			process.stdout.write(
				`evaluator testkit (${targetingMode}): ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
			);
			process.stdout.write(
				`evaluator testkit skipped:\n  ${skippedNames.join("\n  ")}\n`,
			);
		});
	});
}

defineTestkit("compiled");
defineTestkit("interpreted");
