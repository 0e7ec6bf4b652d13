import { execFileSync } from "node:child_process";
import path from "node:path";
import type { GherkinDocument, Pickle, TableRow } from "@cucumber/messages";

/**
 * Turns flagd-testbed feature files into plain test cases: one per scenario, or per example row of a scenario
 * outline (outlines expanded by @cucumber/gherkin's pickle compiler, Background steps included, tags inherited from
 * feature, rule, scenario and examples). Shared by the evaluator and provider conformance suites.
 */

/** One step of a case, with the example values already substituted. */
export interface GherkinStep {
	/** The step text without its keyword, e.g. `a String-flag with key "x" and a fallback value "y"`. */
	readonly text: string;
	/** The data table under the step (first row = header), when there is one. */
	readonly dataTable: readonly (readonly string[])[] | undefined;
}

/** One executable case. */
export interface GherkinCase {
	/** Feature file name, e.g. `fractional.feature`. */
	readonly featureFile: string;
	readonly featureName: string;
	/** Scenario name (placeholders substituted). */
	readonly scenarioName: string;
	/** Unique, readable name: scenario plus example row values when it comes from an outline. */
	readonly name: string;
	/** Tags with the `@`, e.g. `@fractional-v2`. */
	readonly tags: readonly string[];
	readonly steps: readonly GherkinStep[];
}

/** The repository root (this file lives in `<root>/test/support`). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The flagd-testbed data, read in place from `../shared/testbed` relative to the repo root (never copied). */
export function testbedRoot(): string {
	return path.resolve(REPO_ROOT, "../shared/testbed");
}

function rowsById(
	document: GherkinDocument,
): Map<string, { header: readonly string[]; row: TableRow }> {
	const rows = new Map<string, { header: readonly string[]; row: TableRow }>();
	const visitScenario = (scenario: {
		examples: readonly {
			tableHeader?: TableRow;
			tableBody: readonly TableRow[];
		}[];
	}) => {
		for (const examples of scenario.examples) {
			const header = examples.tableHeader?.cells.map((c) => c.value) ?? [];
			for (const row of examples.tableBody) rows.set(row.id, { header, row });
		}
	};
	for (const child of document.feature?.children ?? []) {
		if (child.scenario) visitScenario(child.scenario);
		for (const ruleChild of child.rule?.children ?? []) {
			if (ruleChild.scenario) visitScenario(ruleChild.scenario);
		}
	}
	return rows;
}

// @cucumber/gherkin and @cucumber/messages are ESM-only and Jest runs CommonJS here (the root jest config does not
// down-compile them), so the parsing runs in a child Node process that imports them natively and prints JSON.
const PARSE_SCRIPT = `
import { readFileSync } from "node:fs";
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from "@cucumber/gherkin";
import { IdGenerator } from "@cucumber/messages";
const out = [];
for (const file of JSON.parse(process.argv[1])) {
  const newId = IdGenerator.uuid();
  const parser = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher());
  try {
    const document = parser.parse(readFileSync(file, "utf8"));
    out.push({ file, document, pickles: compile(document, file, newId) });
  } catch (error) {
    out.push({ file, error: String(error && error.message || error) });
  }
}
process.stdout.write(JSON.stringify(out));
`;

interface ParsedFeature {
	readonly file: string;
	readonly document?: GherkinDocument;
	readonly pickles?: readonly Pickle[];
	readonly error?: string;
}

function toCases(parsed: ParsedFeature): GherkinCase[] {
	if (parsed.document === undefined || parsed.pickles === undefined) {
		throw new Error(
			`cannot parse ${parsed.file}: ${parsed.error ?? "no output"}`,
		);
	}
	const rows = rowsById(parsed.document);
	const featureFile = path.basename(parsed.file);
	const featureName = parsed.document.feature?.name ?? featureFile;
	return parsed.pickles.map((pickle) => {
		const rowId = pickle.astNodeIds[1];
		const example = rowId === undefined ? undefined : rows.get(rowId);
		const values = example?.row.cells
			.map((c, i) => `${example.header[i] ?? i}=${c.value}`)
			.join(", ");
		return {
			featureFile,
			featureName,
			scenarioName: pickle.name,
			name: values === undefined ? pickle.name : `${pickle.name} [${values}]`,
			tags: pickle.tags.map((t) => t.name),
			steps: pickle.steps.map((step) => ({
				text: step.text,
				dataTable: step.argument?.dataTable?.rows.map((r) =>
					r.cells.map((c) => c.value),
				),
			})),
		};
	});
}

/**
 * Parses feature files into cases, in the given order. Throws, naming the file, when a file is not valid Gherkin.
 */
export function loadGherkinCasesFromFiles(
	featurePaths: readonly string[],
): GherkinCase[] {
	const stdout = execFileSync(
		process.execPath,
		["--input-type=module", "-e", PARSE_SCRIPT, JSON.stringify(featurePaths)],
		{
			cwd: REPO_ROOT,
			encoding: "utf8",
			maxBuffer: 64 * 1024 * 1024,
		},
	);
	return (JSON.parse(stdout) as ParsedFeature[]).flatMap(toCases);
}

/** Parses one feature file into cases. */
export function loadGherkinCases(featurePath: string): GherkinCase[] {
	return loadGherkinCasesFromFiles([featurePath]);
}

/** Whether a case carries any of the given tags (with `@`). */
export function hasAnyTag(
	testCase: GherkinCase,
	tags: readonly string[],
): boolean {
	return testCase.tags.some((tag) => tags.includes(tag));
}
