import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import {
	type GherkinCase,
	hasAnyTag,
	loadGherkinCasesFromFiles,
	testbedRoot,
} from "../../../test/support/gherkin-cases.js";
import { flagNotFound } from "./evaluation-results.js";
import { FlagEvaluator } from "./flag-evaluator.js";
import type { FractionalVersion } from "./fractional-operator.js";
import { parseFlagDocument } from "./parse-flag-document.js";
import { type CaseEvaluate, runCase } from "./testdata/conformance-steps.js";
import { launchpadAllFlags } from "./testdata/launchpad-all-flags.js";

// The evaluation-level scenarios of the provider suite (gherkin/{targeting,evaluation,disabled}.feature), run
// in-process against the testbed flag files, served like the testbed's default launchpad config: the launchpad
// deep-merges every flags/*.json except selector-* into allFlags.json (so `$evaluators` of evaluator-refs.json also
// serve zero-flags.json, which relies on that), and selector-flags.json is a second, higher-priority source.
// A `selector` option picks one source, as flagd's source selector does.
const SKIPPED_TAGS = ["@fractional-v1", "@fractional-v3", "@deprecated"];
const root = testbedRoot();
const flagsDir = path.join(root, "flags");

interface Source {
	readonly uri: string;
	readonly documents: FlagEvaluator[];
}

function readJson(file: string): Record<string, unknown> {
	return JSON.parse(readFileSync(path.join(flagsDir, file), "utf8")) as Record<
		string,
		unknown
	>;
}

function load(document: unknown, fractional: FractionalVersion): FlagEvaluator {
	const result = parseFlagDocument(document);
	if (!result.ok) throw new Error(JSON.stringify(result.errors));
	const evaluator = new FlagEvaluator({ fractional });
	evaluator.setDocument(result);
	return evaluator;
}

/** The two sources, lowest priority first (as flagd orders them). */
function buildSources(fractional: FractionalVersion): Source[] {
	const merged = launchpadAllFlags(readdirSync(flagsDir), readJson);
	return [
		{ uri: "flags/allFlags.json", documents: [load(merged, fractional)] },
		{
			uri: "rawflags/selector-flags.json",
			documents: [load(readJson("selector-flags.json"), fractional)],
		},
	];
}

function evaluateIn(
	sources: readonly Source[],
	selector: string | undefined,
): CaseEvaluate {
	const selected =
		selector === undefined
			? sources
			: sources.filter((s) => s.uri === selector);
	return (key, type, context) => {
		for (let i = selected.length - 1; i >= 0; i--) {
			for (const document of (selected[i] as Source).documents) {
				if (document.flags().has(key))
					return document.evaluate(key, type, context);
			}
		}
		return flagNotFound(key);
	};
}

const featureFiles = [
	"targeting.feature",
	"evaluation.feature",
	"disabled.feature",
].map((f) => path.join(root, "gherkin", f));
const cases = loadGherkinCasesFromFiles(featureFiles);

interface Suite {
	readonly title: string;
	readonly featureFile: string;
	readonly fractional: FractionalVersion;
	/** Cases with any of these tags are skipped (listed with it.skip). */
	readonly skipTags: readonly string[];
	/** When set, only cases with one of these tags belong to the suite. */
	readonly onlyTags?: readonly string[];
}

// flagd 0.16 semantics (fractional v2) for the three features, plus an opt-in run of the @fractional-v3 cases
// against the CBOR scheme (compileFlag option `fractional: "v3"`), which flagd itself does not implement yet.
const suites: Suite[] = [
	...["targeting.feature", "evaluation.feature", "disabled.feature"].map(
		(featureFile) => ({
			title: featureFile,
			featureFile,
			fractional: "v2" as const,
			skipTags: SKIPPED_TAGS,
		}),
	),
	{
		title: "targeting.feature @fractional-v3 (opt-in CBOR scheme)",
		featureFile: "targeting.feature",
		fractional: "v3",
		skipTags: [],
		onlyTags: ["@fractional-v3"],
	},
];

describe.each(suites)("flagd-testbed $title (in-process)", (suite) => {
	const counts = { passed: 0, failed: 0, skipped: 0 };
	const skipped: string[] = [];
	const sources = buildSources(suite.fractional);
	const suiteCases = cases.filter(
		(c: GherkinCase) =>
			c.featureFile === suite.featureFile &&
			(suite.onlyTags === undefined || hasAnyTag(c, suite.onlyTags)),
	);

	it("has cases", () => {
		expect(suiteCases.length).toBeGreaterThan(0);
	});

	for (const testCase of suiteCases) {
		if (hasAnyTag(testCase, suite.skipTags)) {
			counts.skipped++;
			skipped.push(
				`${testCase.name} (${testCase.tags.filter((t) => suite.skipTags.includes(t)).join(" ")})`,
			);
			it.skip(testCase.name, () => {});
			continue;
		}
		it(testCase.name, () => {
			try {
				runCase(testCase, (key, type, context, selector) =>
					evaluateIn(sources, selector)(key, type, context, selector),
				);
				counts.passed++;
			} catch (error: unknown) {
				counts.failed++;
				throw error;
			}
		});
	}

	afterAll(() => {
		process.stdout.write(
			`${suite.title}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
		);
		const tagCounts = new Map<string, number>();
		for (const name of skipped) {
			const tag = name.slice(name.lastIndexOf("(") + 1, -1);
			tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);
		}
		process.stdout.write(
			`${suite.title} skipped by tag: ${JSON.stringify(Object.fromEntries(tagCounts))}\n`,
		);
	});
});
